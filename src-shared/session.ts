import { z } from 'zod';
import { IdSchema } from './ids.ts';
import { WorktreeInfoSchema, WorktreeRequestSchema } from './worktrees.ts';

/**
 * The session state machine.
 *
 * The eight states of the seed documents:
 * - `initializing`: created, the binary is being resolved; no process yet.
 * - `starting`: spawned; the agent has not drawn a usable screen yet.
 * - `processing`: the agent shows it is working (spinner, "esc to interrupt", a busy window title) or
 *   its screen keeps changing.
 * - `running`: the process runs and nothing says more: input was just sent and the screen has not
 *   reacted yet, or a shell runs a quiet command. Never a claim that anyone is waiting.
 * - `waiting_input`: the program waits for its user: an agent's idle prompt after a turn, a permission,
 *   trust or sign-in question; a shell's prompt.
 * - `error`: while the process lives, the agent's last word is an error banner (an API error such as
 *   Claude's `● API Error: 500 …` or Codex's `■ We're currently experiencing high demand…`): the turn
 *   failed and the banner is the reason. It ends when the user types again (the agent is back at its
 *   prompt: `waiting_input`) or submits (`running`, then whatever the screen shows). After the process
 *   ended, `error` is final: a failed start, a limit, or a non-zero exit whose reason carries the
 *   agent's last error line ("exited with code 1: Unable to connect to Anthropic services").
 * - `completed` (exit code 0) and `terminated` (ended by the user, AutoDev or a signal) are final.
 *
 * Beside the state: `authentication_required` + `auth_prompt` (a sign-in or API-key question, or an
 * auth error such as HTTP 401; blocks auto-restart) and `state_reason` (which signal decided, when).
 * What a person sees is derived from all of this by `sessionActivity()` in ./activity.ts (Working,
 * Needs you, Ready, Sign-in required, Error, Exited): one vocabulary for every surface.
 */
export const SESSION_STATES = [
  'initializing',
  'starting',
  'running',
  'waiting_input',
  'processing',
  'completed',
  'error',
  'terminated',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];
export const SessionStateSchema = z.enum(SESSION_STATES);

/** States in which the process has ended; nothing leaves them. */
export const FINAL_STATES: ReadonlySet<SessionState> = new Set(['completed', 'terminated']);

/**
 * Allowed transitions. `error` is not final: an agent can show an error banner and recover while alive
 * (the user types or submits again); once the process has exited, the manager never leaves `error`.
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  initializing: ['starting', 'error', 'terminated'],
  starting: ['running', 'waiting_input', 'processing', 'completed', 'error', 'terminated'],
  running: ['waiting_input', 'processing', 'completed', 'error', 'terminated'],
  waiting_input: ['running', 'processing', 'completed', 'error', 'terminated'],
  processing: ['running', 'waiting_input', 'completed', 'error', 'terminated'],
  error: ['running', 'waiting_input', 'processing', 'completed', 'terminated'],
  completed: [],
  terminated: [],
};

export function canTransition(from: SessionState, to: SessionState): boolean {
  return from === to || SESSION_TRANSITIONS[from].includes(to);
}

/** Where a state came from, so the UI can say why (and how fresh) instead of guessing. */
export const STATE_SOURCES = [
  'lifecycle', // create/spawn/exit bookkeeping
  'screen-rule', // a provider screen rule matched the rendered screen
  'stability', // the screen stopped (or kept) changing for the stability window
  'osc-title', // the agent set the window title
  'hook', // the agent's own hook or notify program reported it (src-main/core/signals/)
  'osc-status', // the agent printed a program-status sequence (OSC 7501 state=…)
  'exit', // process exit code / signal
  'user', // a user action (terminate, input)
  'limit', // a resource/idle/run-time limit fired
  'recovery', // set at start-up for sessions of a previous run
] as const;
export type StateSource = (typeof STATE_SOURCES)[number];

export const StateReasonSchema = z.object({
  source: z.enum(STATE_SOURCES),
  /** Rule id for screen rules (e.g. `claude.permission-prompt`), signal name, limit name… */
  rule: z.string().optional(),
  /** Human-readable: "matched 'Do you want to proceed?' above the input box". */
  detail: z.string(),
  /** ISO-8601 time the evidence was seen. */
  at: z.string(),
});
export type StateReason = z.infer<typeof StateReasonSchema>;

export const ResourceUsageSchema = z.object({
  memory_mb: z.number(),
  cpu_percent: z.number(),
  num_fds: z.number().int(),
  num_threads: z.number().int(),
  num_processes: z.number().int(),
  sampled_at: z.string(),
});
export type ResourceUsage = z.infer<typeof ResourceUsageSchema>;

export const SessionLimitsSchema = z.object({
  idle_timeout_s: z.number().positive().nullable(),
  max_run_time_s: z.number().positive().nullable(),
  max_memory_mb: z.number().positive().nullable(),
  max_cpu_percent: z.number().positive().nullable(),
  max_fds: z.number().int().positive().nullable(),
});
export type SessionLimits = z.infer<typeof SessionLimitsSchema>;

export const MetadataSchema = z.record(z.string(), z.unknown());

/** What kind of program a provider runs: an agent (works in turns, asks its user) or a plain shell.
 *  Provider data (`kind` in providers/defaults.ts), copied onto each session. */
export const PROVIDER_KINDS = ['agent', 'shell'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** What a caller may ask for when creating a session (REST body, IPC payload, core options). */
/** An agent's conversation id as it may reach an argv: never something that reads as a flag. */
export const ConversationIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be an agent conversation id');

export const CreateSessionRequestSchema = z.object({
  cli_tool: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a provider id such as claude, codex, shell'),
  mode: z.enum(['interactive']).default('interactive'),
  full_access: z.boolean().default(false),
  user_id: z.string().min(1).max(128).default('local'),
  working_directory: z.string().min(1).max(4096).optional(),
  metadata: MetadataSchema.default({}),
  cols: z.number().int().min(1).max(1000).default(120),
  rows: z.number().int().min(1).max(500).default(32),
  /** Extra environment for this session only (validated names; values are redacted in logs). */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(32768)).default({}),
  /** Optional display name; defaults to the provider's name. */
  name: z.string().min(1).max(200).optional(),
  /** Optional first prompt, sent as a command once the agent first waits for input. */
  initial_prompt: z.string().max(100_000).optional(),
  /** Run the session in a new git worktree and branch of `working_directory`'s repository (issue 14). */
  worktree: WorktreeRequestSchema.optional(),
  /** Continue an agent conversation (`POST /cli/sessions/{id}/resume` fills it): the provider's
   *  resume arguments get this conversation id; the new session records which one it continues. */
  resume: z
    .object({
      conversation_id: ConversationIdSchema,
      from_session_id: IdSchema,
    })
    .optional(),
});
export type CreateSessionRequest = z.input<typeof CreateSessionRequestSchema>;
export type CreateSessionOptions = z.output<typeof CreateSessionRequestSchema>;

/** The session as every boundary shows it (REST `GET /cli/sessions/{id}`, IPC, events). */
export const SessionInfoSchema = z.object({
  session_id: IdSchema,
  name: z.string(),
  cli_tool: z.string(),
  /** The provider's kind (absent on sessions read back from older records: treat as `agent`). */
  provider_kind: z.enum(PROVIDER_KINDS).optional(),
  mode: z.string(),
  full_access: z.boolean(),
  user_id: z.string(),
  state: SessionStateSchema,
  state_reason: StateReasonSchema,
  authentication_required: z.boolean(),
  auth_prompt: z.string().nullable(),
  pid: z.number().int().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  last_activity: z.string(),
  current_directory: z.string(),
  exit_code: z.number().int().nullable(),
  exit_signal: z.string().nullable(),
  cols: z.number().int(),
  rows: z.number().int(),
  /** Last output sequence number emitted (0 before any output). */
  last_seq: z.number().int(),
  /** Window title last set by the agent (OSC 0/2), if any. */
  title: z.string().nullable(),
  /** The agent's own conversation/session id (Claude's SessionStart `session_id`, Codex's thread id,
   *  Gemini's session id), reported by its signals; what resuming the conversation later needs. Null
   *  until the agent reports one (absent in records of older versions). */
  conversation_id: z.string().nullable().optional(),
  /** The session whose conversation this one continues (a resume), if any. */
  resumed_from: z.string().nullable().optional(),
  /** Ended, with a conversation id its agent can resume: `POST /cli/sessions/{id}/resume` works. */
  resumable: z.boolean().optional(),
  command_history: z.array(z.string()),
  metadata: MetadataSchema,
  /** The git worktree the session runs in, or null when it runs in a plain directory. */
  worktree: WorktreeInfoSchema.nullable(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

export const SessionDiagnosticsSchema = z.object({
  session: SessionInfoSchema,
  resource_usage: ResourceUsageSchema.nullable(),
  limits: SessionLimitsSchema,
  output: z.object({
    buffered_chunks: z.number().int(),
    buffered_bytes: z.number().int(),
    paused: z.boolean(),
    total_bytes: z.number().int(),
  }),
  recent_errors: z.array(z.object({ at: z.string(), error: z.string(), error_code: z.string() })),
});
export type SessionDiagnostics = z.infer<typeof SessionDiagnosticsSchema>;

/** One batch of terminal output. `seq` increases by one per chunk, per session, from 1. */
export interface OutputChunk {
  session_id: string;
  seq: number;
  data: string;
  /** The same output as UTF-8, when it arrived as bytes (from the PTY host): binary viewers get it
   *  without a second encode. */
  bytes?: Uint8Array;
  /** Epoch milliseconds when the batch was cut. */
  at: number;
}
