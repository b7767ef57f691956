import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import type { ErrorCode } from '../../../src-shared/errors.ts';
import {
  type CreateSessionOptions,
  type CreateSessionRequest,
  CreateSessionRequestSchema,
  canTransition,
  type OutputChunk,
  type ResourceUsage,
  type SessionDiagnostics,
  type SessionInfo,
  type SessionState,
  type StateReason,
} from '../../../src-shared/session.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { loginShellPath } from '../providers/login-path.ts';
import type { ProviderDefinition, ProviderRegistry } from '../providers/types.ts';
import { createRedactor } from '../security/redact.ts';
import { createStateDetector } from '../state/detector.ts';
import type { Detection, ScreenStateDetector } from '../state/types.ts';
import { Emitter } from '../util/event.ts';
import { buildAgentEnv } from './agent-env.ts';
import {
  ProcessLimitError,
  ProcessPoolError,
  ProcessTimeoutError,
  ProviderUnknownError,
  ResourceLimitError,
  SessionCoreError,
  SessionNotFoundError,
  SessionNotRunningError,
} from './errors.ts';
import { MirrorFeeder, type MirrorFeederOptions } from './mirror-feeder.ts';
import { OutputPipeline } from './output-pipeline.ts';
import { createPassiveDetector, PASSIVE_DETECTOR } from './passive-detector.ts';
import {
  bootId,
  EnvMarkerCache,
  killTree,
  type ProcStat,
  readStat,
  scanProcesses,
  sessionTree,
  type TreeRoot,
} from './process-tree.ts';
import { PtyProcess } from './pty-process.ts';
import { TreeSampler } from './resource-sampler.ts';
import type {
  CommandJournal,
  ManagerLimits,
  OutputAttachment,
  OutputConsumer,
  SessionManager,
  SpawnRecord,
} from './types.ts';
import { createViewSizes, type ViewSizes } from './view-sizes.ts';

export type DetectorFactory = (context: {
  sessionId: string;
  provider: ProviderDefinition;
  cols: number;
  rows: number;
}) => ScreenStateDetector;

/** Output-path tunables (defaults after VS Code's terminal). */
export interface OutputTuning {
  /** Batch window in ms (VS Code: 5). */
  batchMs: number;
  maxBatchChars: number;
  /** Ring buffer for replay, in chars (default 2 MiB). */
  ringChars: number;
  /** Pause the PTY when a flow-controlled consumer has this many unacked chars (VS Code: 100000). */
  highWatermark: number;
  /** …and resume once all are below this (VS Code: 5000). */
  lowWatermark: number;
}

export interface SessionManagerOptions {
  providers: ProviderRegistry;
  journal?: CommandJournal;
  limits?: Partial<ManagerLimits>;
  logger?: Logger;
  /** One screen-state detector per session (the headless mirror). Default: createStateDetector with the
   *  provider's rules; `createPassiveDetector` is the rule-less fallback. */
  detectorFactory?: DetectorFactory;
  output?: Partial<OutputTuning>;
  /** Mirror feeding tunables (compaction threshold, budget, scrollback). */
  mirror?: Partial<
    Pick<
      MirrorFeederOptions,
      'compactAboveChars' | 'budgetChars' | 'maxWriteChars' | 'scrollbackLines' | 'coalesceMs'
    >
  >;
  /** One /proc sample of all trees every this many ms (limits, resource_usage). Default 2000. */
  sampleIntervalMs?: number;
  /** Re-evaluate detectors this often while output flows or settles. Default 200. */
  evaluateIntervalMs?: number;
  /** CPU over the limit in this many consecutive samples before it counts (spikes are normal). Default 3. */
  cpuBreachSamples?: number;
  /** Delay between a bracketed paste and its Enter, so TUIs see two events. Default 30. */
  enterDelayMs?: number;
  /** Environment agents' basics and keys are taken from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** PATH for agents (login-shell PATH). Default: resolved from $SHELL -l once. */
  loginPath?: () => Promise<string>;
}

export const defaultDetectorFactory: DetectorFactory = ({ provider, cols, rows }) =>
  createStateDetector(provider, { cols, rows });

export const DEFAULT_LIMITS: ManagerLimits = {
  max_sessions: 20,
  terminate_grace_ms: 3000,
  idle_timeout_s: 300,
  max_run_time_s: null,
  max_memory_mb: null,
  max_cpu_percent: null,
  max_fds: null,
};

export const DEFAULT_OUTPUT: OutputTuning = {
  batchMs: 5,
  maxBatchChars: 256 * 1024,
  ringChars: 2 * 1024 * 1024,
  highWatermark: 100_000,
  lowWatermark: 5_000,
};

interface RecentError {
  at: string;
  error: string;
  error_code: string;
}

interface SessionRecord {
  info: SessionInfo;
  provider: ProviderDefinition;
  log: Logger;
  pty: PtyProcess | null;
  pipeline: OutputPipeline;
  detector: ScreenStateDetector;
  mirror: OutputAttachment | null;
  feeder: MirrorFeeder | null;
  mirrorParsedSeq: number;
  spawn: SpawnRecord | null;
  knownTree: ProcStat[];
  usage: ResourceUsage | null;
  errors: RecentError[];
  /** Set when we end it (user terminate, limit): decides the final state instead of the exit code. */
  endAs: { state: 'terminated' | 'error'; reason: StateReason } | null;
  ended: boolean;
  exited: Promise<void>;
  markExited: () => void;
  sweep: Promise<void>;
  terminating: Promise<void> | null;
  initialPrompt: string | undefined;
  initialPromptSent: boolean;
  cpuBreaches: number;
  lastOutputAt: number;
  lastInputAt: number;
  startedAtMs: number;
  lastActivityMs: number;
  /** Terminal views attached through `attach()` (windows, dashboard viewers): a watched session is never idle. */
  viewers: number;
  /** Which view sets the PTY size (tmux `window-size latest`). */
  viewSizes: ViewSizes;
  writeQueue: { data: string; delayMs: number }[];
  writing: boolean;
  disposables: { dispose(): void }[];
}

const now = () => new Date().toISOString();
const reason = (source: StateReason['source'], detail: string, rule?: string): StateReason =>
  rule === undefined ? { source, detail, at: now() } : { source, rule, detail, at: now() };

export function createSessionManager(options: SessionManagerOptions): SessionManager {
  return new PtySessionManager(options);
}

class PtySessionManager implements SessionManager {
  readonly limits: ManagerLimits;
  private readonly _o: SessionManagerOptions;
  private readonly _log: Logger;
  private readonly _output: OutputTuning;
  private readonly _sessions = new Map<string, SessionRecord>();
  /** Slots taken by creates still resolving their binary, so the limit holds under concurrency. */
  private _pendingCreates = 0;
  private readonly _sampler = new TreeSampler();
  private _sampleTimer: NodeJS.Timeout | undefined;
  private _evaluateTimer: NodeJS.Timeout | undefined;
  private _shuttingDown = false;

  private readonly _onDidCreate = new Emitter<SessionInfo>((e) => this._listenerError(e));
  private readonly _onDidChangeState = new Emitter<{ session: SessionInfo; previous: SessionState }>((e) =>
    this._listenerError(e),
  );
  private readonly _onOutput = new Emitter<OutputChunk>((e) => this._listenerError(e));
  private readonly _onDidExit = new Emitter<SessionInfo>((e) => this._listenerError(e));
  private readonly _onDidResize = new Emitter<SessionInfo>((e) => this._listenerError(e));
  private readonly _onDidRemove = new Emitter<string>((e) => this._listenerError(e));
  private readonly _onDidSpawn = new Emitter<SpawnRecord>((e) => this._listenerError(e));
  readonly onDidCreate = this._onDidCreate.event;
  readonly onDidChangeState = this._onDidChangeState.event;
  readonly onOutput = this._onOutput.event;
  readonly onDidExit = this._onDidExit.event;
  readonly onDidResize = this._onDidResize.event;
  readonly onDidRemove = this._onDidRemove.event;
  readonly onDidSpawn = this._onDidSpawn.event;

  constructor(options: SessionManagerOptions) {
    this._o = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this._output = { ...DEFAULT_OUTPUT, ...options.output };
    this._log = (options.logger ?? defaultLogger(options)).child({ component: 'sessions' });
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────

  async create(request: CreateSessionOptions | CreateSessionRequest): Promise<SessionInfo> {
    if (this._shuttingDown) throw new ProcessPoolError('the session manager is shutting down');
    const options = CreateSessionRequestSchema.parse(request);
    const provider = this._o.providers.get(options.cli_tool);
    if (!provider) throw new ProviderUnknownError(options.cli_tool);
    const live = this._liveCount() + this._pendingCreates;
    if (live >= this.limits.max_sessions)
      throw new ProcessLimitError(
        `session limit reached: ${live} sessions running (max_sessions ${this.limits.max_sessions})`,
      );

    const rec = this._newRecord(options, provider);
    this._sessions.set(rec.info.session_id, rec);
    this._onDidCreate.fire(this._snapshotInfo(rec));
    this._pendingCreates++;
    try {
      await this._start(rec, options);
    } catch (error) {
      // Never a throw for spawn problems: the session shows them.
      this._failBeforeSpawn(
        rec,
        new ProcessPoolError(`spawn failed: ${(error as Error).message}`),
        'spawn-failed',
      );
    } finally {
      this._pendingCreates--;
    }
    return this._snapshotInfo(rec);
  }

  private _newRecord(options: CreateSessionOptions, provider: ProviderDefinition): SessionRecord {
    const sessionId = randomUUID();
    const createdAt = now();
    const cwd = options.working_directory ?? homedir();
    const info: SessionInfo = {
      session_id: sessionId,
      name: options.name ?? provider.name,
      cli_tool: provider.id,
      mode: options.mode,
      full_access: options.full_access,
      user_id: options.user_id,
      state: 'initializing',
      state_reason: reason('lifecycle', 'session created'),
      authentication_required: false,
      auth_prompt: null,
      pid: null,
      created_at: createdAt,
      started_at: null,
      ended_at: null,
      last_activity: createdAt,
      current_directory: cwd,
      exit_code: null,
      exit_signal: null,
      cols: options.cols,
      rows: options.rows,
      last_seq: 0,
      title: null,
      command_history: [],
      metadata: options.metadata,
    };
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const log = this._log.child({ session_id: sessionId, provider: provider.id });
    const rec: SessionRecord = {
      info,
      provider,
      log,
      pty: null,
      pipeline: undefined as unknown as OutputPipeline,
      detector: undefined as unknown as ScreenStateDetector,
      mirror: null,
      feeder: null,
      mirrorParsedSeq: 0,
      spawn: null,
      knownTree: [],
      usage: null,
      errors: [],
      endAs: null,
      ended: false,
      exited,
      markExited,
      sweep: Promise.resolve(),
      terminating: null,
      initialPrompt: options.initial_prompt,
      initialPromptSent: false,
      cpuBreaches: 0,
      lastOutputAt: 0,
      lastInputAt: 0,
      startedAtMs: 0,
      lastActivityMs: Date.now(),
      viewers: 0,
      viewSizes: createViewSizes(),
      writeQueue: [],
      writing: false,
      disposables: [],
    };
    rec.pipeline = new OutputPipeline({
      sessionId,
      ...this._output,
      pause: () => rec.pty?.pause(),
      resume: () => rec.pty?.resume(),
      onChunk: (chunk) => {
        rec.info.last_seq = chunk.seq;
        this._onOutput.fire(chunk);
      },
      onConsumerError: (error) => rec.log.warn('output consumer threw', { error }),
    });
    rec.detector = this._createDetector(rec, options);
    return rec;
  }

  private _createDetector(rec: SessionRecord, options: CreateSessionOptions): ScreenStateDetector {
    let detector: ScreenStateDetector;
    try {
      detector = (this._o.detectorFactory ?? defaultDetectorFactory)({
        sessionId: rec.info.session_id,
        provider: rec.provider,
        cols: options.cols,
        rows: options.rows,
      });
    } catch (error) {
      rec.log.error('detector factory failed; using the passive detector', { error });
      detector = createPassiveDetector();
    }
    rec.disposables.push(detector.onDidDetect((d) => this._applyDetection(rec, d)));
    if ((detector as { [PASSIVE_DETECTOR]?: true })[PASSIVE_DETECTOR]) {
      // No screen to keep: a plain consumer that acks at once (never slows the PTY).
      const passive = rec.pipeline.attach({
        flowControlled: false,
        onData: (chunk) =>
          detector.write(chunk.data, () => {
            rec.mirrorParsedSeq = chunk.seq;
          }),
      });
      rec.mirror = passive;
      return detector;
    }
    // The mirror is a flow-controlled consumer fed through MirrorFeeder: exact while it keeps up,
    // compacting plain scrolling floods when it lags, pausing the PTY only past its budget.
    const attachment = rec.pipeline.attach({
      flowControlled: true,
      onData: (chunk) => feeder.write(chunk),
    });
    const feeder = new MirrorFeeder({
      detector,
      cols: options.cols,
      rows: options.rows,
      ...this._o.mirror,
      ack: (chars) => attachment.ack(chars),
      onParsed: (seq) => {
        rec.mirrorParsedSeq = seq;
      },
      onError: (error) => rec.log.warn('mirror write failed', { error }),
    });
    rec.feeder = feeder;
    rec.mirror = attachment;
    return detector;
  }

  private async _start(rec: SessionRecord, options: CreateSessionOptions): Promise<void> {
    const resolved = await this._o.providers.resolveBinary(rec.provider.id);
    if (rec.ended) return; // terminated while resolving
    if (!resolved.path) {
      this._failBeforeSpawn(
        rec,
        new SessionCoreError(
          resolved.error ?? `${rec.provider.binary} is not installed or not on PATH`,
          'BINARY_NOT_FOUND',
        ),
        'binary-missing',
      );
      return;
    }
    const cwd = rec.info.current_directory;
    if (!isDirectory(cwd)) {
      this._failBeforeSpawn(
        rec,
        new ProcessPoolError(`working directory ${cwd} does not exist or is not a directory`),
        'bad-cwd',
      );
      return;
    }
    const source = this._o.env ?? process.env;
    const loginPath = await (
      this._o.loginPath ?? (async () => (await loginShellPath({ env: source })).path)
    )().catch(() => null);
    const env = buildAgentEnv({
      sessionId: rec.info.session_id,
      providerEnvKeys: rec.provider.env_keys,
      overrides: options.env,
      source,
      loginPath,
    });
    const args = [
      ...rec.provider.interactive_args,
      ...(options.full_access ? rec.provider.full_access_args : []),
    ];
    if (rec.endAs) return; // terminated while resolving
    const pty = new PtyProcess({
      file: resolved.path,
      args,
      cwd,
      env,
      cols: options.cols,
      rows: options.rows,
    });
    rec.pty = pty;
    rec.startedAtMs = Date.now();
    rec.info.pid = pty.pid;
    rec.info.started_at = now();
    const stat = readStat(pty.pid);
    rec.spawn = {
      session_id: rec.info.session_id,
      pid: pty.pid,
      // node-pty's spawn helper calls setsid(): the agent leads its own session and group. (Reading
      // the pgid from /proc this early could still show ours, before the helper's setsid.)
      pgid: pty.pid,
      start_ticks: stat?.start_ticks ?? 0,
      boot_id: bootId(),
      at: rec.info.started_at,
    };
    if (stat) rec.knownTree = [stat];
    rec.disposables.push(
      pty.onData((data) => {
        rec.lastOutputAt = Date.now();
        rec.lastActivityMs = rec.lastOutputAt;
        rec.pipeline.push(data);
      }),
      pty.onExit((exit) => this._onPtyExit(rec, exit.exitCode, exit.signal)),
    );
    rec.log.info('spawned', { pid: pty.pid, binary: resolved.path, args, cwd });
    this._onDidSpawn.fire({ ...rec.spawn });
    this._transition(
      rec,
      'starting',
      reason('lifecycle', `spawned ${rec.provider.binary} (pid ${pty.pid})`, 'spawn'),
    );
    this._ensureTimers();
  }

  private _failBeforeSpawn(rec: SessionRecord, error: SessionCoreError, rule: string): void {
    this._recordError(rec, error);
    rec.log.warn('session failed to start', { error: error.message, error_code: error.error_code });
    rec.info.ended_at = now();
    this._transition(rec, 'error', reason('lifecycle', error.message, rule));
    this._finish(rec);
  }

  private _onPtyExit(rec: SessionRecord, exitCode: number, signal: string | null): void {
    rec.pipeline.close(); // flushes the last batch before the exit is announced
    rec.info.exit_code = signal ? null : exitCode;
    rec.info.exit_signal = signal;
    rec.info.ended_at = now();
    const previous = rec.info.state;
    if (rec.endAs) {
      this._transition(rec, rec.endAs.state, rec.endAs.reason, true);
    } else if (!signal && exitCode === 0) {
      this._transition(rec, 'completed', reason('exit', 'exited with code 0', 'exit-code'), true);
    } else {
      const detail = signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
      this._transition(rec, 'error', reason('exit', detail, signal ? 'signal' : 'exit-code'), true);
    }
    rec.log.info('exited', { exit_code: exitCode, signal, previous, state: rec.info.state });
    // Leftovers (setsid daemons, grandchildren) of a process that ended by itself: no orphans.
    rec.sweep = this._sweepLeftovers(rec);
    this._finish(rec);
  }

  /** Mark the session ended and announce it (once). */
  private _finish(rec: SessionRecord): void {
    if (rec.ended) return;
    rec.ended = true;
    rec.writeQueue = [];
    this._onDidExit.fire(this._snapshotInfo(rec));
    rec.markExited();
  }

  async terminate(sessionId: string, why?: string): Promise<void> {
    const rec = this._require(sessionId);
    await this._end(rec, {
      state: 'terminated',
      reason: reason('user', why ?? 'terminated by user', 'terminate'),
    });
  }

  private _end(rec: SessionRecord, endAs: NonNullable<SessionRecord['endAs']>): Promise<void> {
    if (rec.terminating) return rec.terminating;
    if (rec.ended) return rec.sweep;
    rec.endAs = endAs;
    rec.terminating = (async () => {
      if (!rec.pty) {
        // Still resolving its binary: the start sees endAs and does not spawn.
        rec.info.ended_at = now();
        this._transition(rec, endAs.state, endAs.reason, true);
        this._finish(rec);
        return;
      }
      await this._killSessionTree(rec);
      const exited = await Promise.race([
        rec.exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 7000).unref()),
      ]);
      if (!exited) {
        rec.log.error('no exit after the tree kill; closing the pty');
        rec.pty.forceClose();
        await Promise.race([rec.exited, new Promise((r) => setTimeout(r, 1000).unref())]);
        if (!rec.ended) this._onPtyExit(rec, -1, 'SIGKILL');
      }
      await rec.sweep;
    })();
    return rec.terminating;
  }

  private _treeRoot(rec: SessionRecord): TreeRoot | null {
    if (!rec.spawn) return null;
    return { session_id: rec.info.session_id, pid: rec.spawn.pid, start_ticks: rec.spawn.start_ticks };
  }

  private async _killSessionTree(rec: SessionRecord): Promise<void> {
    const root = this._treeRoot(rec);
    if (!root) return;
    const markers = new EnvMarkerCache();
    const list = () => sessionTree(root, scanProcesses(), markers, rec.knownTree);
    const initial = list();
    if (initial.length === 0) return;
    const result = await killTree(initial, {
      graceMs: this.limits.terminate_grace_ms,
      relist: list,
      log: (event, fields) => rec.log.warn(event, fields),
    });
    if (result.escalated.length > 0)
      rec.log.warn('escalated to SIGKILL after the grace period', {
        pids: result.escalated,
        grace_ms: this.limits.terminate_grace_ms,
      });
    if (result.survivors.length > 0) rec.log.error('processes survived SIGKILL', { pids: result.survivors });
  }

  private async _sweepLeftovers(rec: SessionRecord): Promise<void> {
    const root = this._treeRoot(rec);
    if (!root) return;
    const markers = new EnvMarkerCache();
    const list = () => sessionTree(root, scanProcesses(), markers, rec.knownTree);
    const left = list();
    if (left.length === 0) return;
    rec.log.info('killing processes left behind by the session', { pids: left.map((p) => p.pid) });
    await killTree(left, {
      graceMs: this.limits.terminate_grace_ms,
      relist: list,
      log: (event, fields) => rec.log.warn(event, fields),
    });
  }

  async shutdown(): Promise<void> {
    this._shuttingDown = true;
    await Promise.all(
      [...this._sessions.values()].map((rec) =>
        this._end(rec, {
          state: 'terminated',
          reason: reason('lifecycle', 'AutoDev is shutting down', 'shutdown'),
        }),
      ),
    );
    await Promise.all([...this._sessions.values()].map((rec) => rec.sweep));
    clearInterval(this._sampleTimer);
    clearInterval(this._evaluateTimer);
    this._sampleTimer = undefined;
    this._evaluateTimer = undefined;
  }

  remove(sessionId: string): void {
    const rec = this._require(sessionId);
    if (!rec.ended)
      throw new SessionCoreError(`session ${sessionId} is still running; terminate it first`, 'CONFLICT');
    this._sessions.delete(sessionId);
    for (const d of rec.disposables) d.dispose();
    rec.mirror?.dispose();
    rec.feeder?.dispose();
    rec.detector.dispose();
    this._onDidRemove.fire(sessionId);
  }

  // ── queries ──────────────────────────────────────────────────────────────────────────────────

  get(sessionId: string): SessionInfo | undefined {
    const rec = this._sessions.get(sessionId);
    return rec ? this._snapshotInfo(rec) : undefined;
  }

  list(): SessionInfo[] {
    return [...this._sessions.values()].map((rec) => this._snapshotInfo(rec));
  }

  rename(sessionId: string, name: string): SessionInfo {
    const rec = this._require(sessionId);
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200)
      throw new SessionCoreError('name must be 1–200 characters', 'VALIDATION_ERROR');
    rec.info.name = trimmed;
    return this._snapshotInfo(rec);
  }

  replay(sessionId: string, afterSeq: number): OutputChunk[] | null {
    return this._require(sessionId).pipeline.replay(afterSeq);
  }

  async snapshot(sessionId: string): Promise<{ seq: number; screen: string; cols: number; rows: number }> {
    const rec = this._require(sessionId);
    rec.pipeline.flush();
    rec.feeder?.flush();
    // Serialize once the mirror has parsed everything emitted so far (bounded wait), and say which seq it shows.
    const target = rec.pipeline.lastSeq;
    const deadline = Date.now() + 2000;
    while (rec.mirrorParsedSeq < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return {
      seq: rec.mirrorParsedSeq,
      screen: rec.detector.serialize(),
      cols: rec.info.cols,
      rows: rec.info.rows,
    };
  }

  attach(sessionId: string, consumer: OutputConsumer): OutputAttachment {
    const rec = this._require(sessionId);
    const attachment = rec.pipeline.attach(consumer);
    rec.viewers++;
    let attached = true;
    return {
      ack: (chars) => attachment.ack(chars),
      dispose: () => {
        if (!attached) return;
        attached = false;
        attachment.dispose();
        // The idle clock starts when the last viewer leaves, not at the last keystroke before it.
        if (--rec.viewers === 0) rec.lastActivityMs = Math.max(rec.lastActivityMs, Date.now());
      },
    };
  }

  diagnostics(sessionId: string): SessionDiagnostics {
    const rec = this._require(sessionId);
    const { max_sessions: _m, terminate_grace_ms: _g, ...limits } = this.limits;
    return {
      session: this._snapshotInfo(rec),
      resource_usage: rec.usage ? { ...rec.usage } : null,
      limits,
      output: {
        buffered_chunks: rec.pipeline.bufferedChunks,
        buffered_bytes: rec.pipeline.bufferedChars,
        paused: rec.pipeline.paused,
        total_bytes: rec.pipeline.totalChars,
      },
      recent_errors: rec.errors.map((e) => ({ ...e })),
    };
  }

  // ── input ────────────────────────────────────────────────────────────────────────────────────

  input(sessionId: string, data: string): void {
    const rec = this._requireRunning(sessionId);
    if (data.length === 0) return;
    this._journal(rec, 'input', data);
    this._noteInput(rec, 'input', data);
    this._enqueueWrite(rec, data, 0);
  }

  command(sessionId: string, text: string): void {
    const rec = this._requireRunning(sessionId);
    this._journal(rec, 'command', text);
    rec.info.command_history.push(text);
    if (rec.info.command_history.length > 100)
      rec.info.command_history.splice(0, rec.info.command_history.length - 100);
    this._noteInput(rec, 'command');
    if (rec.provider.bracketed_paste && text.length > 0) {
      // A paste must not be able to end itself early (field notes §4.2: strip the markers from pastes).
      const body = text.replace(/\x1b\[20[01]~/g, '');
      this._enqueueWrite(rec, `\x1b[200~${body}\x1b[201~`, 0);
      this._enqueueWrite(rec, '\r', this._o.enterDelayMs ?? 30);
    } else {
      this._enqueueWrite(rec, `${text}\r`, 0);
    }
  }

  interrupt(sessionId: string): void {
    // Ctrl-C through the line discipline reaches the foreground process group, as a keyboard would.
    this.input(sessionId, '\x03');
  }

  resizeView(sessionId: string, viewId: string, cols: number, rows: number): void {
    const rec = this._require(sessionId);
    validateSize(cols, rows);
    const apply = rec.viewSizes.resize(viewId, cols, rows);
    if (apply) this.resize(sessionId, apply.cols, apply.rows);
  }

  focusView(sessionId: string, viewId: string): void {
    const rec = this._require(sessionId);
    const apply = rec.viewSizes.focus(viewId);
    if (apply) this.resize(sessionId, apply.cols, apply.rows);
  }

  closeView(sessionId: string, viewId: string): void {
    this._sessions.get(sessionId)?.viewSizes.close(viewId);
  }

  resize(sessionId: string, cols: number, rows: number): void {
    const rec = this._require(sessionId);
    validateSize(cols, rows);
    if (cols === rec.info.cols && rows === rec.info.rows) return;
    rec.pipeline.flush(); // output produced for the old size goes out first
    rec.info.cols = cols;
    rec.info.rows = rows;
    rec.pty?.resize(cols, rows);
    rec.feeder?.resize(cols, rows); // in order with the output still queued for the mirror
    this._onDidResize.fire(this._snapshotInfo(rec));
  }

  private _journal(rec: SessionRecord, kind: 'command' | 'input', text: string): void {
    if (!this._o.journal) return;
    try {
      this._o.journal.record({
        session_id: rec.info.session_id,
        kind,
        text,
        at: now(),
        seq: rec.info.last_seq,
      });
    } catch (error) {
      // Durability failed; the user's input still goes through (field notes §7.29).
      rec.log.error('command journal failed; input continues', { error });
      this._recordError(
        rec,
        new SessionCoreError(`command journal failed: ${(error as Error).message}`, 'PERSISTENCE_PAUSED'),
      );
    }
  }

  /** Keystrokes without Enter are typing, not a submission: the detector decides from the data. */
  private _noteInput(rec: SessionRecord, kind: 'command' | 'input', data?: string): void {
    rec.lastInputAt = Date.now();
    rec.lastActivityMs = rec.lastInputAt;
    try {
      rec.detector.noteInput(kind, data);
    } catch (error) {
      rec.log.warn('detector noteInput failed', { error });
    }
  }

  /** Writes in order; an entry with a delay waits that long after the previous write. */
  private _enqueueWrite(rec: SessionRecord, data: string, delayMs: number): void {
    if (!rec.writing && rec.writeQueue.length === 0 && delayMs === 0) {
      rec.pty?.write(data); // the common case (keystrokes): no added latency
      return;
    }
    rec.writeQueue.push({ data, delayMs });
    if (rec.writing) return;
    rec.writing = true;
    const pump = () => {
      const next = rec.writeQueue.shift();
      if (!next || rec.ended) {
        rec.writing = false;
        return;
      }
      const go = () => {
        rec.pty?.write(next.data);
        pump();
      };
      if (next.delayMs > 0) setTimeout(go, next.delayMs);
      else go();
    };
    pump();
  }

  // ── state ────────────────────────────────────────────────────────────────────────────────────

  private _applyDetection(rec: SessionRecord, d: Detection): void {
    if (rec.ended || rec.endAs || rec.pty?.exited) return;
    if (!rec.pty) {
      // Screen evidence before there is a process cannot be right (e.g. initializing → waiting_input).
      rec.log.warn('refused invalid transition', { from: rec.info.state, to: d.state, rule: d.reason.rule });
      return;
    }
    const authChanged =
      d.authentication_required !== rec.info.authentication_required ||
      d.auth_prompt !== rec.info.auth_prompt;
    const title = rec.detector.title;
    if (title !== rec.info.title) rec.info.title = title;
    if (d.state === rec.info.state && !authChanged) return;
    if (!canTransition(rec.info.state, d.state)) {
      rec.log.warn('refused invalid transition', { from: rec.info.state, to: d.state, rule: d.reason.rule });
      return;
    }
    const previous = rec.info.state;
    rec.info.authentication_required = d.authentication_required;
    rec.info.auth_prompt = d.auth_prompt;
    if (d.state !== previous) rec.info.state_reason = d.reason;
    rec.info.state = d.state;
    this._onDidChangeState.fire({ session: this._snapshotInfo(rec), previous });
    if (d.state === 'waiting_input' && previous !== 'waiting_input') this._maybeSendInitialPrompt(rec);
  }

  private _maybeSendInitialPrompt(rec: SessionRecord): void {
    const prompt = rec.initialPrompt;
    if (rec.initialPromptSent || !prompt) return;
    rec.initialPromptSent = true;
    queueMicrotask(() => {
      if (rec.ended) return;
      try {
        this.command(rec.info.session_id, prompt);
      } catch (error) {
        rec.log.warn('initial prompt not sent', { error });
      }
    });
  }

  /** Validated transition; an invalid one is logged and refused, never thrown. */
  private _transition(rec: SessionRecord, to: SessionState, why: StateReason, final = false): boolean {
    const from = rec.info.state;
    if (!canTransition(from, to)) {
      rec.log.warn('refused invalid transition', { from, to, source: why.source, rule: why.rule });
      return false;
    }
    if (final) {
      rec.info.authentication_required = false;
      rec.info.auth_prompt = null;
    }
    rec.info.state = to;
    rec.info.state_reason = why;
    if (from !== to || final)
      this._onDidChangeState.fire({ session: this._snapshotInfo(rec), previous: from });
    return true;
  }

  // ── timers: detection re-evaluation and the shared /proc sampler ─────────────────────────────

  private _ensureTimers(): void {
    this._evaluateTimer ??= setInterval(() => this._evaluateTick(), this._o.evaluateIntervalMs ?? 200);
    this._evaluateTimer.unref();
    this._sampleTimer ??= setInterval(() => this._sampleTick(), this._o.sampleIntervalMs ?? 2000);
    this._sampleTimer.unref();
  }

  private _evaluateTick(): void {
    const t = Date.now();
    for (const rec of this._sessions.values()) {
      if (rec.ended || !rec.pty) continue;
      // While output flows and for a while after it stops (so stability windows can close).
      const quietFor = t - Math.max(rec.lastOutputAt, rec.lastInputAt, rec.startedAtMs);
      if (quietFor > rec.provider.stability_ms * 2 + 2000) continue;
      try {
        this._applyDetection(rec, rec.detector.evaluate(t));
      } catch (error) {
        rec.log.warn('detector evaluate failed', { error });
      }
    }
  }

  private _sampleTick(): void {
    const live = [...this._sessions.values()].filter((r) => !r.ended && r.pty && !r.endAs && r.spawn);
    if (live.length === 0) return;
    let samples: ReturnType<TreeSampler['sample']>;
    try {
      samples = this._sampler.sample(
        live.map((r) => ({ ...(this._treeRoot(r) as TreeRoot), extra: r.knownTree })),
      );
    } catch (error) {
      this._log.warn('resource sample failed', { error });
      return;
    }
    const t = Date.now();
    for (const rec of live) {
      const sample = samples.get(rec.info.session_id);
      if (sample) {
        rec.usage = sample.usage;
        if (sample.members.length > 0) rec.knownTree = sample.members;
      }
      rec.info.last_activity = new Date(rec.lastActivityMs).toISOString();
      const breach = this._checkLimits(rec, t);
      if (breach) {
        this._recordError(rec, breach.error);
        rec.log.warn('limit breached; terminating', { limit: breach.rule, error: breach.error.message });
        void this._end(rec, { state: 'error', reason: reason('limit', breach.error.message, breach.rule) });
      }
    }
  }

  private _checkLimits(rec: SessionRecord, t: number): { rule: string; error: SessionCoreError } | null {
    const l = this.limits;
    const u = rec.usage;
    if (u && l.max_memory_mb !== null && u.memory_mb > l.max_memory_mb)
      return {
        rule: 'max_memory_mb',
        error: new ResourceLimitError('memory', u.memory_mb, l.max_memory_mb, ' MB'),
      };
    if (u && l.max_fds !== null && u.num_fds > l.max_fds)
      return {
        rule: 'max_fds',
        error: new ResourceLimitError('open file descriptors', u.num_fds, l.max_fds, ''),
      };
    if (u && l.max_cpu_percent !== null) {
      rec.cpuBreaches = u.cpu_percent > l.max_cpu_percent ? rec.cpuBreaches + 1 : 0;
      if (rec.cpuBreaches >= (this._o.cpuBreachSamples ?? 3))
        return {
          rule: 'max_cpu_percent',
          error: new ResourceLimitError('CPU', u.cpu_percent, l.max_cpu_percent, '%'),
        };
    }
    if (l.max_run_time_s !== null && t - rec.startedAtMs > l.max_run_time_s * 1000)
      return {
        rule: 'max_run_time_s',
        error: new ProcessTimeoutError(
          `ran ${Math.round((t - rec.startedAtMs) / 1000)} s, over the maximum run time of ${l.max_run_time_s} s`,
        ),
      };
    // Idle means abandoned: no input, no output and nobody watching. An agent waiting for its user in
    // an open tab is not idle, however long the user takes.
    if (l.idle_timeout_s !== null && rec.viewers === 0 && t - rec.lastActivityMs > l.idle_timeout_s * 1000)
      return {
        rule: 'idle_timeout_s',
        error: new ProcessTimeoutError(
          `idle for ${Math.round((t - rec.lastActivityMs) / 100) / 10} s (no input, no output, no viewer), over the idle timeout of ${l.idle_timeout_s} s`,
        ),
      };
    return null;
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────

  private _liveCount(): number {
    let n = 0;
    for (const rec of this._sessions.values()) if (!rec.ended) n++;
    return n;
  }

  private _require(sessionId: string): SessionRecord {
    const rec = this._sessions.get(sessionId);
    if (!rec) throw new SessionNotFoundError(sessionId);
    return rec;
  }

  private _requireRunning(sessionId: string): SessionRecord {
    const rec = this._require(sessionId);
    if (rec.ended || rec.endAs || !rec.pty || rec.pty.exited)
      throw new SessionNotRunningError(sessionId, rec.info.state);
    return rec;
  }

  private _recordError(rec: SessionRecord, error: SessionCoreError): void {
    rec.errors.push({ at: now(), error: error.message, error_code: error.error_code as ErrorCode });
    if (rec.errors.length > 20) rec.errors.shift();
  }

  private _snapshotInfo(rec: SessionRecord): SessionInfo {
    if (rec.lastActivityMs) rec.info.last_activity = new Date(rec.lastActivityMs).toISOString();
    return {
      ...rec.info,
      state_reason: { ...rec.info.state_reason },
      command_history: [...rec.info.command_history],
      metadata: { ...rec.info.metadata },
    };
  }

  private _listenerError(error: unknown): void {
    this._log.error('event listener threw', { error });
  }
}

/** Warn-level JSON lines on stderr, redacting the values of every provider's keys found in the env. */
function defaultLogger(options: SessionManagerOptions): Logger {
  const env = options.env ?? process.env;
  const secrets = options.providers
    .list()
    .flatMap((p) => p.env_keys)
    .map((key) => env[key])
    .filter((v): v is string => typeof v === 'string');
  return createLogger({ level: 'warn', redactor: createRedactor({ secrets }) });
}

function validateSize(cols: number, rows: number): void {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || cols > 1000 || rows < 1 || rows > 500)
    throw new SessionCoreError('cols must be 1–1000 and rows 1–500', 'VALIDATION_ERROR');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
