import type { ProviderDefinition } from '../providers/types.ts';

/**
 * How each agent CLI's one-shot output reads, as data. A format is a list of rules; every rule whose
 * `match` fits a JSON event line applies (not only the first), so a generic rule and a narrower one
 * (e.g. "result with status error") combine. The runner and parser never branch on a provider id.
 *
 * Paths are dotted (`usage.input_tokens`); a segment ending in `[]` flattens an array
 * (`message.content[].text`). For `set`, the first path with a non-null scalar wins.
 */
export type ResultField =
  | 'result_text'
  | 'input_tokens'
  | 'output_tokens'
  | 'cache_read_tokens'
  | 'cost_usd'
  | 'is_error'
  | 'error'
  | 'reported_duration_ms'
  | 'session_id';

export interface EventRule {
  /** Every listed path must equal the value (or one of the values). */
  match: Readonly<Record<string, string | readonly string[]>>;
  set?: Readonly<Partial<Record<ResultField, readonly string[]>>>;
  /** Text appended to the message transcript: the result when no final event carries one. */
  message_text?: readonly string[];
  /** The event closes the run and carries its result. */
  final?: boolean;
  /** The event reports the agent's own failure (→ `failed`, never retried). */
  failure?: boolean;
  /** Token fields add up across events (one usage event per turn) instead of replacing. */
  accumulate_usage?: boolean;
}

/** What kind of problem no retry can fix: the user has to act (log in, configure, trust a folder). */
export type FatalKind = 'auth' | 'config' | 'trust';

/**
 * A failure that running the agent again cannot fix. Checked only when an attempt did not succeed
 * (non-zero exit, a reported error, or exit 0 with no result), and only against what the agent
 * printed outside its structured answer (stderr, non-JSON stdout) and the error it reported — an
 * answer that merely quotes these words never trips a rule. A match makes the task `failed`, never
 * retried, with the matched line as its error.
 */
export interface FatalRule {
  /** Stable id shown in the task's reason, e.g. `codex.untrusted-directory`. */
  id: string;
  kind: FatalKind;
  /** Regex source, matched case-insensitively. */
  pattern?: string;
  /** Exit codes that mean this by themselves (documented by the CLI). */
  exit_codes?: readonly number[];
}

export interface OutputFormat {
  id: string;
  /** `json-lines`: one JSON event per line. `text`: stdout is the result. */
  kind: 'json-lines' | 'text';
  /** Field holding the event's type, stored with each output row. */
  type_path: string;
  /** Separator between transcript pieces (streaming deltas join with ''). */
  message_join: string;
  rules: readonly EventRule[];
  /** Failures that are never retried: the dialect's own first (more specific ids), then the common ones. */
  fatal: readonly FatalRule[];
}

/** Every CLI: credentials that were refused or are missing. */
const COMMON_FATAL: readonly FatalRule[] = [
  {
    id: 'any.invalid-api-key',
    kind: 'auth',
    pattern: '(invalid|incorrect) (x-)?api[ _-]?key|api key (is )?(invalid|not valid)',
  },
  {
    id: 'any.unauthorized',
    kind: 'auth',
    pattern: '\\b401\\b[^\\n]{0,60}unauthori[sz]ed|authentication_error|authentication failed',
  },
  {
    id: 'any.not-logged-in',
    kind: 'auth',
    pattern: 'not logged in|please (run )?/?log ?in\\b|login required|please sign in',
  },
];

/** claude -p: the messages of its login and key checks. */
const CLAUDE_FATAL: readonly FatalRule[] = [
  { id: 'claude.login', kind: 'auth', pattern: 'please run /login|oauth token has expired' },
];

/** codex exec: outside a git repository (or a folder trusted in ~/.codex/config.toml) it refuses. */
const CODEX_FATAL: readonly FatalRule[] = [
  { id: 'codex.untrusted-directory', kind: 'trust', pattern: 'not inside a trusted directory' },
];

/** gemini -p: exit codes from its ExitCodes table (41 auth, 42 input, 52 config) and its messages. */
const GEMINI_FATAL: readonly FatalRule[] = [
  { id: 'gemini.auth-method', kind: 'auth', pattern: 'please set an auth method' },
  { id: 'gemini.auth-exit', kind: 'auth', exit_codes: [41] },
  { id: 'gemini.config-exit', kind: 'config', exit_codes: [42, 52] },
];

/** claude -p --output-format stream-json --verbose (cursor-agent speaks the same dialect). */
const CLAUDE_RULES: readonly EventRule[] = [
  { match: { type: 'system' }, set: { session_id: ['session_id'] } },
  { match: { type: 'assistant' }, message_text: ['message.content[].text'] },
  {
    match: { type: 'result' },
    final: true,
    set: {
      result_text: ['result'],
      cost_usd: ['total_cost_usd', 'cost_usd'],
      input_tokens: ['usage.input_tokens'],
      output_tokens: ['usage.output_tokens'],
      cache_read_tokens: ['usage.cache_read_input_tokens'],
      is_error: ['is_error'],
      reported_duration_ms: ['duration_ms'],
      error: ['error', 'errors[]'],
      session_id: ['session_id'],
    },
  },
];

/** codex exec --json (`codex-stream-json`: the provider's output is stream-json). */
const CODEX_RULES: readonly EventRule[] = [
  { match: { type: 'thread.started' }, set: { session_id: ['thread_id'] } },
  {
    // The last agent message of the run is its answer.
    match: { type: 'item.completed', 'item.type': 'agent_message' },
    message_text: ['item.text'],
    set: { result_text: ['item.text'] },
  },
  {
    match: { type: 'turn.completed' },
    final: true,
    accumulate_usage: true,
    set: {
      input_tokens: ['usage.input_tokens'],
      output_tokens: ['usage.output_tokens'],
      cache_read_tokens: ['usage.cached_input_tokens'],
    },
  },
  {
    match: { type: 'turn.failed' },
    final: true,
    failure: true,
    set: { error: ['error.message', 'message'] },
  },
  { match: { type: 'error' }, failure: true, set: { error: ['message', 'error.message'] } },
];

/** gemini -p … -o stream-json. */
const GEMINI_RULES: readonly EventRule[] = [
  { match: { type: 'init' }, set: { session_id: ['session_id'] } },
  { match: { type: 'message', role: 'assistant' }, message_text: ['content'] },
  {
    match: { type: 'result' },
    final: true,
    set: {
      input_tokens: ['stats.input_tokens'],
      output_tokens: ['stats.output_tokens'],
      cache_read_tokens: ['stats.cached'],
      reported_duration_ms: ['stats.duration_ms'],
      error: ['error.message', 'error'],
    },
  },
  { match: { type: 'result', status: ['error', 'failure'] }, failure: true },
  // Gemini reports recoverable problems as `error` events too: keep the text, decide by exit/result.
  { match: { type: 'error' }, set: { error: ['message'] } },
];

const FORMATS: Readonly<Record<string, OutputFormat>> = {
  'claude-stream-json': {
    id: 'claude-stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '\n',
    rules: CLAUDE_RULES,
    fatal: [...CLAUDE_FATAL, ...COMMON_FATAL],
  },
  'cursor-stream-json': {
    id: 'cursor-stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '\n',
    rules: CLAUDE_RULES,
    fatal: COMMON_FATAL,
  },
  'codex-stream-json': {
    id: 'codex-stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '\n',
    rules: CODEX_RULES,
    fatal: [...CODEX_FATAL, ...COMMON_FATAL],
  },
  'gemini-stream-json': {
    id: 'gemini-stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '',
    rules: GEMINI_RULES,
    fatal: [...GEMINI_FATAL, ...COMMON_FATAL],
  },
  // A configured CLI that says only "stream-json"/"json": every known dialect (their event types do not
  // collide except `result`, whose rules read disjoint fields; gemini's soft `error` is left out).
  'stream-json': {
    id: 'stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '\n',
    rules: [...CLAUDE_RULES, ...CODEX_RULES, ...GEMINI_RULES.filter((r) => r.match.type !== 'error')],
    // Messages only: a configured CLI's exit codes mean nothing we know.
    fatal: [...CLAUDE_FATAL, ...CODEX_FATAL, ...GEMINI_FATAL.filter((r) => r.pattern), ...COMMON_FATAL],
  },
  text: {
    id: 'text',
    kind: 'text',
    type_path: 'type',
    message_join: '\n',
    rules: [],
    fatal: COMMON_FATAL,
  },
};

export function getOutputFormat(id: string): OutputFormat | undefined {
  return FORMATS[id] ?? (id === 'json' ? FORMATS['stream-json'] : undefined);
}

export function listOutputFormats(): string[] {
  return Object.keys(FORMATS);
}

/**
 * The format for a provider: an explicit `one_shot.format` id when the definition has one, else
 * `<provider id>-<output>` when such a format is known (bundled providers), else the generic one.
 */
export function outputFormatFor(def: ProviderDefinition): OutputFormat {
  const spec = def.one_shot;
  if (!spec) return FORMATS.text!;
  const explicit = (spec as { format?: unknown }).format;
  const candidates = [
    typeof explicit === 'string' ? explicit : null,
    `${def.id}-${spec.output}`,
    spec.output,
  ];
  for (const id of candidates) {
    const format = id ? getOutputFormat(id) : undefined;
    if (format) return format;
  }
  return FORMATS['stream-json']!;
}
