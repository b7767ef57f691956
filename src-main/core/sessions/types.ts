import type {
  CreateSessionOptions,
  CreateSessionRequest,
  OutputChunk,
  SessionDiagnostics,
  SessionInfo,
  SessionLimits,
} from '../../../src-shared/session.ts';
import type { WorktreeInfo } from '../../../src-shared/worktrees.ts';
import type { SubmitOutcome } from '../pty-host/types.ts';
import type { Event } from '../util/event.ts';

/**
 * The session manager's public surface (the single service interface of the core, as VS Code's
 * IPtyService is for its terminals). Server routes, IPC handlers, the store and the task runner
 * depend on this interface only.
 */
export interface SessionManager {
  /** Creates and starts a session. A missing binary yields a session in `error` (never a throw);
   *  over the session limit throws ProcessLimitError. Accepts parsed options or a raw request (the
   *  manager parses it with CreateSessionRequestSchema, filling defaults). */
  create(
    options: CreateSessionOptions | CreateSessionRequest,
    prepared?: PreparedSession,
  ): Promise<SessionInfo>;
  get(sessionId: string): SessionInfo | undefined;
  list(): SessionInfo[];

  /** Raw keys, as typed. Recorded by the command journal before they reach the PTY. */
  input(sessionId: string, data: string): void;
  /** Text then Enter, delivered by the provider's submit strategy and confirmed on the screen
   *  (pty-host/submitter.ts). Journaled before the PTY sees it. Resolves with what was seen; a prompt
   *  the agent did not take resolves `ok: false` (and is recorded in the session's recent errors). */
  command(sessionId: string, text: string): Promise<SubmitOutcome>;
  resize(sessionId: string, cols: number, rows: number): void;
  /** A view's fitted size: applied to the PTY only while that view is the one in use (view-sizes.ts). */
  resizeView(sessionId: string, viewId: string, cols: number, rows: number): void;
  /** The view is in use (focused or typed into): it sets the PTY size from now on. */
  focusView(sessionId: string, viewId: string): void;
  /** The view closed: it no longer owns the size. */
  closeView(sessionId: string, viewId: string): void;
  /** Ctrl-C to the foreground process group. */
  interrupt(sessionId: string): void;
  /** SIGTERM to every process group of the session's tree, SIGKILL after the grace period.
   *  Resolves once the tree is gone and the final output and exit have been emitted. */
  terminate(sessionId: string, reason?: string): Promise<void>;
  rename(sessionId: string, name: string): SessionInfo;
  /** Forget an ended session (in memory; the store keeps its history). */
  remove(sessionId: string): void;

  /** Output chunks with seq > afterSeq still in the ring buffer, or null when the gap is older than it. */
  replay(sessionId: string, afterSeq: number): OutputChunk[] | null;
  /** The rendered screen (serialized headless terminal) as of `seq`. */
  snapshot(sessionId: string): Promise<{ seq: number; screen: string; cols: number; rows: number }>;
  /** Subscribe to one session's output. Flow-controlled consumers must `ack` parsed characters;
   *  the PTY pauses while any of them lags past the high watermark. */
  attach(sessionId: string, consumer: OutputConsumer): OutputAttachment;
  diagnostics(sessionId: string): SessionDiagnostics;
  readonly limits: ManagerLimits;

  readonly onDidCreate: Event<SessionInfo>;
  readonly onDidChangeState: Event<{ session: SessionInfo; previous: SessionInfo['state'] }>;
  /** Every output chunk of every session, in seq order per session (not flow-controlled). */
  readonly onOutput: Event<OutputChunk>;
  readonly onDidExit: Event<SessionInfo>;
  /** The PTY size changed: every view that does not own the size fits the new one locally. */
  readonly onDidResize: Event<SessionInfo>;
  readonly onDidRemove: Event<string>;
  /** A process tree was spawned: what recovery needs to kill leftovers after a crash. */
  readonly onDidSpawn: Event<SpawnRecord>;

  /** Terminate everything (process groups, SIGTERM then SIGKILL) and flush; used on quit / SIGTERM. */
  shutdown(): Promise<void>;
  /**
   * Take over sessions the PTY host kept running while no core was attached (AutoDev restarted): the
   * same ids, their output from `after_seq` on (stored with contiguous seqs), their current screens.
   */
  adopt(entries: AdoptEntry[]): Promise<SessionInfo[]>;
  /** Stop managing without ending anything: the sessions keep running in the PTY host (keep-sessions). */
  detach(): Promise<void>;
}

/**
 * What a layer above the manager prepared for a session before it starts (never from a client's
 * request): the worktree it runs in (shown as SessionInfo.worktree) and a set-up command.
 */
export interface PreparedSession {
  worktree?: WorktreeInfo;
  /** Runs in the session's PTY and working directory before the agent, with the agent's environment
   *  minus the provider's keys. Its output is the session's; a non-zero exit ends the session in `error`
   *  (reason `setup-failed`) and the agent never starts. create() does not wait for it. */
  setup?: { argv: string[]; label: string };
}

export interface OutputConsumer {
  /** true: acks required, PTY pauses past the high watermark (desktop renderer, headless mirror).
   *  false: never slows the agent (remote viewers); they resync with snapshots instead. */
  flowControlled: boolean;
  onData(chunk: OutputChunk): void;
}

export interface OutputAttachment {
  ack(chars: number): void;
  dispose(): void;
}

/**
 * Called synchronously before input reaches the PTY, so what a user typed is durable first.
 * A throwing journal (disk full…) must not stop the input: the manager logs and continues.
 */
export interface CommandJournal {
  record(entry: {
    session_id: string;
    kind: 'command' | 'input';
    text: string;
    at: string;
    seq: number;
  }): void;
}

export interface SpawnRecord {
  session_id: string;
  pid: number;
  pgid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22): guards against PID reuse. */
  start_ticks: number;
  boot_id: string;
  at: string;
}

export interface ManagerLimits extends SessionLimits {
  max_sessions: number;
  terminate_grace_ms: number;
}

export interface AdoptEntry {
  /** The session as last stored. */
  info: SessionInfo;
  /** Its last stored output seq: the host replays what came after. */
  after_seq: number;
}
