import type { ProviderKind, StateReason } from '../../../src-shared/session.ts';
import type { ConversationSpec, ModelPrice } from './conversation-spec.ts';
import type { SignalSpec } from './signal-spec.ts';

/**
 * Everything AutoDev knows about an agent CLI is data of this shape: bundled defaults
 * (providers/defaults.ts) overridden or extended by the user's config file. No code branches on ids.
 */
export interface ProviderDefinition {
  id: string;
  name: string;
  /** Executable name or absolute path; resolved against the login-shell PATH. */
  binary: string;
  interactive_args: string[];
  /** Continue a conversation: `{conversation_id}` is replaced by its id (claude `--resume
   *  {conversation_id}`, codex `resume {conversation_id}`). Placed before the other arguments (codex's
   *  is a subcommand). Absent: the agent cannot resume. */
  resume_args?: string[];
  /** Appended for full-access sessions (e.g. claude `--dangerously-skip-permissions`). */
  full_access_args: string[];
  one_shot: OneShotSpec | null;
  /** One-shot tasks only: when the binary is not installed, run the prompt through the provider's
   *  HTTP API instead (the task shows `executor: "api"`). Absent or null: no fallback. */
  api_fallback?: ApiFallbackSpec | null;
  /** Env var names this provider needs; only these (plus the basics) reach its process. */
  env_keys: string[];
  /** Args that print the version (`--version`), for `autodev doctor`. */
  version_args: string[];
  /** Submit commands as bracketed paste (ESC[200~ … ESC[201~) before Enter. */
  bracketed_paste: boolean;
  /** How a prompt sent with `command` is delivered and confirmed (fields override the defaults that
   *  `bracketed_paste` implies: see pty-host/submit-strategy.ts). */
  submit?: Partial<SubmitStrategy>;
  /** Rules matched against the rendered screen, first match by priority wins. */
  screen_rules: ScreenRule[];
  /** Rules matched against the OSC 0/2 window title. */
  title_rules: TitleRule[];
  /** Screen unchanged this long (ms) while no busy rule matches → waiting for input. */
  stability_ms: number;
  /** What a stable screen means when no rule matched (default `waiting_input`). Shells use `running`:
   *  a silent command leaves the screen still, and only a prompt on the cursor line means "waiting". */
  stability_state?: 'waiting_input' | 'running';
  /** Optional icon name for the UI. */
  icon?: string;
  /** The agent's own signals (hooks, notify program, OSC status), read before the screen
   *  (signal-spec.ts). Absent: the screen rules alone decide. */
  signals?: SignalSpec;
  /** An agent (default) or a plain shell: a shell at its prompt is "ready", an agent waiting for its
   *  user "needs you" (src-shared/activity.ts). */
  kind?: ProviderKind;
  /** Reading the conversation: the agent's own record, the layout of its answers on the screen, which
   *  waiting states are questions (conversation-spec.ts). Absent: screen difference with no layout. */
  conversation?: ConversationSpec;
  /** USD per million tokens by model (first match wins), for interactive sessions' usage. */
  prices?: ModelPrice[];
}

/**
 * Delivering a prompt so the agent really takes it (agentapi's scheme): the text goes in (one bracketed
 * paste, or typed keys), is seen in the input region, Enter follows after `enter_delay_ms`, and the
 * input region clears or the agent goes busy; otherwise Enter once more; otherwise the sender is told.
 */
export interface SubmitStrategy {
  mode: 'paste' | 'type';
  /** Pause between the end of the text and Enter. Gemini drops an Enter that follows a paste within
   *  a few tens of ms (its paste detection), so its delay is longer. */
  enter_delay_ms: number;
  /** Where the agent shows what is being typed; confirmation reads it. */
  input_region: ScreenRegion;
  /** Confirm on the rendered screen (false: write and hope, for programs that draw no input line). */
  confirm: boolean;
  /** Longest wait for the text to appear, and for Enter to be taken (each), in ms. */
  timeout_ms: number;
}

export interface OneShotSpec {
  args: string[];
  /** How the prompt is passed: appended as the last argument, after a flag, or on stdin. */
  prompt: { via: 'arg' } | { via: 'flag'; flag: string } | { via: 'stdin' };
  output: 'stream-json' | 'json' | 'text';
  full_access_args: string[];
}

/** How to answer a one-shot prompt over HTTP when the CLI is missing (tasks/api-runner.ts). */
export interface ApiFallbackSpec {
  /** The wire protocol; the Anthropic Messages API (official SDK) is the one implemented. */
  api: 'anthropic-messages';
  /** Env var holding the API key: the fallback is available only when it is set. */
  key_env: string;
  /** Env var that overrides `base_url` (a gateway, a proxy, a local mock). */
  base_url_env: string;
  base_url: string;
  model: string;
  max_tokens: number;
  /** USD per million tokens of `model`: the API reports tokens, not money, so the cost is ours. */
  price_per_mtok: { input: number; output: number; cache_read: number; cache_write: number };
}

export type ScreenRegion =
  /** The last N non-empty rendered lines. */
  | { kind: 'last-lines'; count: number }
  /** The block between the last two horizontal rules (─) and the lines just above it: an agent's input box. */
  | { kind: 'above-input-box'; lines: number }
  /** Whole visible screen. */
  | { kind: 'screen' }
  /** The (logical) line the cursor is on: where a shell draws its prompt; empty while a command runs. */
  | { kind: 'cursor-line' };

export type DetectedState = 'starting' | 'running' | 'processing' | 'waiting_input' | 'error';

export interface ScreenRule {
  /** Stable id shown in state_reason.rule, e.g. `claude.permission-prompt`. */
  id: string;
  /** Regex source, matched case-insensitively against the region's text (ANSI-free, NBSP normalised). */
  pattern: string;
  region: ScreenRegion;
  state: DetectedState;
  /** Marks authentication_required; the matched lines become auth_prompt. */
  auth?: boolean;
  /** Higher wins when several rules match. Defaults: auth 90, error 80, waiting 70, busy 60. */
  priority?: number;
  /** A `waiting_input`/`error` match counts only once the screen has been unchanged this long (ms).
   *  Default: 250 for rules of priority >= 70 (explicit dialogs), 500 below (weak prompt markers). */
  settle_ms?: number;
}

export interface TitleRule {
  id: string;
  /** Regex source matched against the OSC 0/2 title. */
  pattern: string;
  state: DetectedState;
}

export interface ProviderRegistry {
  get(id: string): ProviderDefinition | undefined;
  list(): ProviderDefinition[];
  /** Resolve the binary on the login-shell PATH; null path when not installed. Cached. */
  resolveBinary(id: string): Promise<ResolvedBinary>;
  /** (Optional members: loadProviderRegistry's registry has them; test doubles may omit them.)
   *  The PATH to give spawned agents: login-shell PATH first, then this process's PATH. Cached. */
  searchPath?(): Promise<string>;
  /** Problems found in the user's config file (the bundled defaults are used where it is broken). */
  readonly errors?: readonly ProviderConfigError[];
  /** The config file that was read, or null when there was none. */
  readonly configFile?: string | null;
}

export interface ProviderConfigError {
  file: string;
  /** Dotted path of the offending field, e.g. `providers.claude.stability_ms` (empty for the file). */
  path: string;
  message: string;
}

export interface ResolvedBinary {
  provider_id: string;
  binary: string;
  path: string | null;
  /** "codex is not installed or not on PATH" when path is null. */
  error: string | null;
}

export type { StateReason };
