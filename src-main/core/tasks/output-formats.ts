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

export interface OutputFormat {
  id: string;
  /** `json-lines`: one JSON event per line. `text`: stdout is the result. */
  kind: 'json-lines' | 'text';
  /** Field holding the event's type, stored with each output row. */
  type_path: string;
  /** Separator between transcript pieces (streaming deltas join with ''). */
  message_join: string;
  rules: readonly EventRule[];
}

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
  },
  'cursor-stream-json': {
    id: 'cursor-stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '\n',
    rules: CLAUDE_RULES,
  },
  'codex-stream-json': {
    id: 'codex-stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '\n',
    rules: CODEX_RULES,
  },
  'gemini-stream-json': {
    id: 'gemini-stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '',
    rules: GEMINI_RULES,
  },
  // A configured CLI that says only "stream-json"/"json": every known dialect (their event types do not
  // collide except `result`, whose rules read disjoint fields; gemini's soft `error` is left out).
  'stream-json': {
    id: 'stream-json',
    kind: 'json-lines',
    type_path: 'type',
    message_join: '\n',
    rules: [...CLAUDE_RULES, ...CODEX_RULES, ...GEMINI_RULES.filter((r) => r.match.type !== 'error')],
  },
  text: { id: 'text', kind: 'text', type_path: 'type', message_join: '\n', rules: [] },
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
