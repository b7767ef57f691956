import type { OutputChunk } from '../../../src-shared/session.ts';
import type { ProviderDefinition } from '../providers/types.ts';
import type { Detection } from '../state/types.ts';
import type { Event } from '../util/event.ts';

/**
 * The PTY host: the mechanism half of a session (VS Code's pty host, Superset's pty daemon). It owns
 * the PTYs, the headless mirrors (screen, state detection, answers to terminal queries), output
 * batching and sequence numbers, confirmed prompt submission and process-tree kills. The core keeps
 * the policy: limits, persistence, the state machine and its fusion with other signals, tasks.
 *
 * Two implementations: `LocalPtyHost` (in this process: tests, and the fallback when no host process
 * can run) and `PtyHostClient` (a separate host process over a Unix socket, so agents outlive the app).
 * Sessions are named by the core's session id.
 */
export interface PtyHost {
  /** Start a PTY. Rejects when the spawn itself fails (the core turns that into an error state). */
  spawn(spec: HostSpawnSpec): Promise<HostSpawned>;
  /** Raw bytes to the PTY (already journaled by the core). `kind` tells the detector whether this
   *  was a submission; automatic writes (none from the core today) would pass 'reply'. */
  write(sessionId: string, data: string, kind: 'input' | 'command'): void;
  /** Type or paste `text`, press Enter, and confirm on the screen that the agent took it. */
  submit(sessionId: string, text: string): Promise<SubmitOutcome>;
  resize(sessionId: string, cols: number, rows: number): void;
  /** Flow control from the core's consumers (a lagging desktop renderer): pause/resume reading. */
  setPaused(sessionId: string, paused: boolean): void;
  /** The core stored output up to `seq`: the host may forget it (it keeps the rest across app restarts). */
  ackPersisted(sessionId: string, seq: number): void;
  /** The serialized screen as of `seq` (after everything emitted so far was parsed, bounded wait). */
  snapshot(sessionId: string): Promise<HostSnapshot>;
  /**
   * Take over a session the host kept while no core was attached: its retained output after
   * `afterSeq` arrives through onData (in order) before this resolves, then it streams live.
   */
  attach(sessionId: string, afterSeq: number): Promise<HostAttached>;
  /** End the whole process tree: SIGHUP/SIGTERM, SIGKILL after `graceMs`. Resolves once it is gone
   *  (or after a bounded wait, having closed the PTY). The exit event comes before it resolves. */
  kill(sessionId: string, graceMs: number): Promise<void>;
  /** Kill whatever of an exited session's tree is left (daemons it started). */
  sweep(sessionId: string, graceMs: number): Promise<void>;
  /** Forget an exited session. */
  release(sessionId: string): void;
  /** What the host runs now (reattach after an app restart; `autodev sessions`). */
  list(): Promise<HostSessionState[]>;

  readonly onData: Event<OutputChunk>;
  readonly onDetect: Event<{ session_id: string; detection: Detection; title: string | null }>;
  /** After the last output of the session (every byte emitted first). */
  readonly onExit: Event<HostExit>;
  /** The host itself went away (crash, killed): its sessions are lost. */
  readonly onDidDisconnect: Event<{ reason: string }>;
  /** The connection dropped but the same host answered again: live sessions must be re-attached. */
  readonly onDidReconnect?: Event<void>;
  dispose(): void;
}

export interface HostSpawnSpec {
  session_id: string;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  /** Screen rules, title rules, stability window and submit strategy come from the provider's data. */
  provider: ProviderDefinition;
  output: HostOutputTuning;
  /** First output seq (1 for a new session). */
  first_seq?: number;
}

export interface HostOutputTuning {
  /** Batch window in ms (VS Code: 5). */
  batchMs: number;
  maxBatchChars: number;
  /** Output kept for replays (reconnecting consumers), in chars. */
  retainChars: number;
  /** The mirror pauses the PTY past this many unparsed chars, resumes below the low mark. */
  highWatermark: number;
  lowWatermark: number;
}

export interface HostSpawned {
  pid: number;
  /** Process start time in clock ticks since boot (PID-reuse guard). */
  start_ticks: number;
  boot_id: string;
}

export interface HostSnapshot {
  seq: number;
  screen: string;
  cols: number;
  rows: number;
}

export interface HostExit {
  session_id: string;
  exit_code: number;
  signal: string | null;
  /** The last non-empty lines of the screen at exit (the agent's last words: "Unable to connect…"). */
  last_lines: string[];
}

export interface HostSessionState {
  session_id: string;
  pid: number;
  start_ticks: number;
  cols: number;
  rows: number;
  last_seq: number;
  exited: boolean;
  detection: Detection;
  title: string | null;
}

export interface HostAttached {
  state: HostSessionState;
  /** Output up to this seq was dropped while no core was attached (spool full); 0: none. */
  dropped_through: number;
  /** The session exited while no core was attached. */
  exit: HostExit | null;
}

export type SubmitOutcome =
  | { ok: true; attempts: number; detail: string }
  | { ok: false; attempts: number; detail: string };
