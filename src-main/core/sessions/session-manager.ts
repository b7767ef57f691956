import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import type { ErrorCode } from '../../../src-shared/errors.ts';
import {
  type CreateSessionOptions,
  type CreateSessionRequest,
  CreateSessionRequestSchema,
  canTransition,
  type OutputChunk,
  type SessionDiagnostics,
  type SessionInfo,
  type SessionState,
  type StateReason,
} from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderDefinition } from '../providers/types.ts';
import { type DetectorFactory, defaultDetectorFactory, LocalPtyHost } from '../pty-host/local-host.ts';
import type { HostExit, PtyHost, SubmitOutcome } from '../pty-host/types.ts';
import type { SessionSignalFusion } from '../signals/index.ts';
import { describeExit, lastErrorLines } from '../state/exit-reason.ts';
import type { Detection } from '../state/types.ts';
import { Emitter } from '../util/event.ts';
import {
  ProcessLimitError,
  ProcessPoolError,
  ProviderUnknownError,
  SessionCoreError,
  SessionNotFoundError,
  SessionNotRunningError,
} from './errors.ts';
import { OutputPipeline } from './output-pipeline.ts';
import { killRecordedTree } from './process-tree.ts';
import { TreeSampler } from './resource-sampler.ts';
import { adoptSessions } from './session-adoption.ts';
import { type LaunchContext, startSession } from './session-launch.ts';
import {
  DEFAULT_LIMITS,
  DEFAULT_OUTPUT,
  defaultLogger,
  type OutputTuning,
  type SessionManagerOptions,
} from './session-options.ts';
import { newRecord, nowIso, type SessionRecord, snapshotInfo, stateReason } from './session-record.ts';
import { sampleSessions } from './session-sampling.ts';
import type {
  AdoptEntry,
  ManagerLimits,
  OutputAttachment,
  OutputConsumer,
  PreparedSession,
  SessionManager,
  SpawnRecord,
} from './types.ts';

export {
  DEFAULT_LIMITS,
  DEFAULT_OUTPUT,
  type DetectorFactory,
  defaultDetectorFactory,
  type OutputTuning,
  type SessionManagerOptions,
};

export function createSessionManager(options: SessionManagerOptions): SessionManager {
  return new PtySessionManager(options);
}

/**
 * The policy half of sessions (the PTY host is the mechanism half, see pty-host/types.ts): creating
 * and starting sessions (provider, binary, env, working directory, limits on their number), the state
 * machine fed by the host's screen detections and the lifecycle, the command journal before any
 * input, what a person submitted (lines, not keystrokes), which view sets the size, resource limits,
 * and the ring the views replay from.
 */
class PtySessionManager implements SessionManager {
  readonly limits: ManagerLimits;
  private readonly _o: SessionManagerOptions;
  private readonly _log: Logger;
  private readonly _output: OutputTuning;
  private readonly _host: PtyHost;
  private readonly _ownsHost: boolean;
  private readonly _sessions = new Map<string, SessionRecord>();
  /** Slots taken by creates still resolving their binary, so the limit holds under concurrency. */
  private _pendingCreates = 0;
  private readonly _sampler = new TreeSampler();
  private _sampleTimer: NodeJS.Timeout | undefined;
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
  private readonly _hostListeners: { dispose(): void }[];

  constructor(options: SessionManagerOptions) {
    this._o = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this._output = { ...DEFAULT_OUTPUT, ...options.output };
    this._log = (options.logger ?? defaultLogger(options)).child({ component: 'sessions' });
    this._ownsHost = options.host === undefined;
    this._host =
      options.host ??
      new LocalPtyHost({
        logger: this._log,
        ...(options.detectorFactory ? { detectorFactory: options.detectorFactory } : {}),
        ...(options.mirror ? { mirror: options.mirror } : {}),
        ...(options.evaluateIntervalMs !== undefined
          ? { evaluateIntervalMs: options.evaluateIntervalMs }
          : {}),
        ...(options.containment ? { containment: options.containment } : {}),
      });
    this._hostListeners = [
      this._host.onData((chunk) => this._onHostData(chunk)),
      this._host.onDetect(({ session_id, detection, title }) => {
        const rec = this._sessions.get(session_id);
        if (!rec) return;
        // ── signals: the screen's verdict goes through the session's fusion when it has one ──
        const fusion = this._fusions.get(session_id);
        if (fusion) {
          rec.info.title = title;
          fusion.screen(detection);
        } else this._applyDetection(rec, detection, title);
      }),
      this._host.onExit((exit) => {
        const rec = this._sessions.get(exit.session_id);
        if (rec?.setup)
          rec.setup.done(exit); // the set-up command ended, not the session
        else if (rec) this._onHostExit(rec, exit);
      }),
      this._host.onDidDisconnect(({ reason }) => this._onHostLost(reason)),
      ...(this._host.onDidReconnect ? [this._host.onDidReconnect(() => this._onHostReconnected())] : []),
    ];
    // ── signals: the agent reported its conversation id (for resuming it later) ──
    if (options.signals)
      this._hostListeners.push(
        options.signals.onDidReportConversation((e) => this._onConversation(e.session_id, e.conversation_id)),
      );
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────

  async create(
    request: CreateSessionOptions | CreateSessionRequest,
    prepared: PreparedSession = {},
  ): Promise<SessionInfo> {
    if (this._shuttingDown) throw new ProcessPoolError('the session manager is shutting down');
    const options = CreateSessionRequestSchema.parse(request);
    const provider = this._o.providers.get(options.cli_tool);
    if (!provider) throw new ProviderUnknownError(options.cli_tool);
    const live = this._liveCount() + this._pendingCreates;
    if (live >= this.limits.max_sessions)
      throw new ProcessLimitError(
        `session limit reached: ${live} sessions running (max_sessions ${this.limits.max_sessions})`,
      );

    const rec = this._newRecord(options, provider, prepared);
    this._sessions.set(rec.info.session_id, rec);
    this._onDidCreate.fire(snapshotInfo(rec));
    this._pendingCreates++;
    try {
      await startSession(this._launch, rec, options, prepared.setup);
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
    return snapshotInfo(rec);
  }

  private _newRecord(
    options: CreateSessionOptions,
    provider: ProviderDefinition,
    prepared: PreparedSession,
  ): SessionRecord {
    const sessionId = randomUUID();
    const createdAt = nowIso();
    const info: SessionInfo = {
      session_id: sessionId,
      name: options.name ?? provider.name,
      cli_tool: provider.id,
      provider_kind: provider.kind ?? 'agent',
      mode: options.mode,
      full_access: options.full_access,
      user_id: options.user_id,
      state: 'initializing',
      state_reason: stateReason('lifecycle', 'session created'),
      authentication_required: false,
      auth_prompt: null,
      pid: null,
      created_at: createdAt,
      started_at: null,
      ended_at: null,
      last_activity: createdAt,
      current_directory: options.working_directory ?? homedir(),
      exit_code: null,
      exit_signal: null,
      cols: options.cols,
      rows: options.rows,
      last_seq: 0,
      title: null,
      // A resumed conversation keeps its id until the agent reports another.
      conversation_id: options.resume?.conversation_id ?? null,
      resumed_from: options.resume?.from_session_id ?? null,
      command_history: [],
      metadata: options.metadata,
      worktree: prepared.worktree ? { ...prepared.worktree } : null,
    };
    return this._recordFor(info, provider, 0, options.initial_prompt);
  }

  // ── signals (src-main/core/signals/): one fusion per session of a provider with signals ─────────
  private readonly _fusions = new Map<string, SessionSignalFusion>();

  private _attachSignals(rec: SessionRecord): void {
    const signals = this._o.signals;
    if (!signals) return;
    try {
      const fusion = signals.attach({ sessionId: rec.info.session_id, provider: rec.provider });
      if (!fusion) return;
      this._fusions.set(rec.info.session_id, fusion);
      fusion.onDidDetect((d) => this._applyDetection(rec, d, rec.info.title));
    } catch (error) {
      rec.log.warn('signals not attached; screen rules only', { error });
    }
  }

  private _onConversation(sessionId: string, conversationId: string): void {
    const rec = this._sessions.get(sessionId);
    if (!rec || rec.info.conversation_id === conversationId) return;
    rec.info.conversation_id = conversationId;
    this._onDidChangeState.fire({ session: snapshotInfo(rec), previous: rec.info.state });
  }

  private _releaseSignals(sessionId: string): void {
    this._fusions.delete(sessionId);
    this._o.signals?.releaseSession(sessionId);
  }

  private _recordFor(
    info: SessionInfo,
    provider: ProviderDefinition,
    afterSeq: number,
    initialPrompt?: string,
  ): SessionRecord {
    const sessionId = info.session_id;
    const log = this._log.child({ session_id: sessionId, provider: provider.id });
    const pipeline = new OutputPipeline({
      sessionId,
      ...this._output,
      firstSeq: afterSeq + 1,
      // A lagging flow-controlled view (the desktop renderer) pauses the PTY in the host.
      pause: () => this._host.setPaused(sessionId, true),
      resume: () => this._host.setPaused(sessionId, false),
      onChunk: (chunk) => {
        info.last_seq = chunk.seq;
        this._onOutput.fire(chunk);
      },
      onConsumerError: (error) => log.warn('output consumer threw', { error }),
    });
    const rec = newRecord(info, provider, log, pipeline, initialPrompt);
    this._attachSignals(rec); // signals
    return rec;
  }

  /** Starting sessions (session-launch.ts) reports back through this. */
  private get _launch(): LaunchContext {
    return {
      options: this._o,
      host: this._host,
      output: this._output,
      limits: this.limits,
      fail: (rec, error, rule) => this._failBeforeSpawn(rec, error, rule),
      reasonChanged: (rec, previous) => this._onDidChangeState.fire({ session: snapshotInfo(rec), previous }),
      spawned: (rec) => {
        if (rec.spawn) this._onDidSpawn.fire({ ...rec.spawn });
        this._transition(
          rec,
          'starting',
          stateReason('lifecycle', `spawned ${rec.provider.binary} (pid ${rec.info.pid})`, 'spawn'),
        );
        this._ensureTimers();
      },
    };
  }

  private _failBeforeSpawn(rec: SessionRecord, error: SessionCoreError, rule: string): void {
    this._recordError(rec, error);
    rec.log.warn('session failed to start', { error: error.message, error_code: error.error_code });
    rec.info.ended_at = nowIso();
    this._transition(rec, 'error', stateReason('lifecycle', error.message, rule));
    this._finish(rec);
  }

  private _onHostData(chunk: OutputChunk): void {
    const rec = this._sessions.get(chunk.session_id);
    if (!rec) return;
    rec.lastOutputAt = Date.now();
    rec.lastActivityMs = rec.lastOutputAt;
    rec.pipeline.accept(chunk);
    this._fusions.get(chunk.session_id)?.output(chunk.data); // signals: in-band status reports
  }

  private _onHostExit(rec: SessionRecord, exit: HostExit): void {
    if (rec.exitSeen) return;
    rec.exitSeen = true;
    rec.pipeline.close(); // every chunk came before the exit
    const { exit_code: exitCode, signal } = exit;
    rec.info.exit_code = signal ? null : exitCode;
    rec.info.exit_signal = signal;
    rec.info.ended_at = nowIso();
    const previous = rec.info.state;
    if (rec.endAs) {
      this._transition(rec, rec.endAs.state, rec.endAs.reason, true);
    } else if (!signal && exitCode === 0) {
      this._transition(rec, 'completed', stateReason('exit', 'exited with code 0', 'exit-code'), true);
    } else {
      // The agent's last words say why better than a number: its error lines ("Unable to connect to
      // Anthropic services; Failed to connect to api.anthropic.com: ENOTFOUND"), else its last line.
      const errors = lastErrorLines(exit.last_lines);
      const last = exit.last_lines[exit.last_lines.length - 1]?.trim().slice(0, 300);
      const detail = describeExit(exitCode, signal, errors.length > 0 ? errors : last ? [last] : []);
      this._transition(rec, 'error', stateReason('exit', detail, signal ? 'signal' : 'exit-code'), true);
    }
    rec.log.info('exited', { exit_code: exitCode, signal, previous, state: rec.info.state });
    // Leftovers (setsid daemons, grandchildren) of a process that ended by itself: no orphans.
    rec.sweep = this._host.sweep(rec.info.session_id, this.limits.terminate_grace_ms).catch((error) => {
      rec.log.warn('sweep of leftover processes failed', { error });
    });
    this._finish(rec);
  }

  /** The host process died: its PTYs are gone, and whatever of their trees survived is killed
   *  (start time and boot id checked, so a recycled PID is never signalled). */
  private _onHostLost(reason: string): void {
    for (const rec of this._sessions.values()) {
      // A set-up command went with the host: the session fails like a failed set-up.
      rec.setup?.done({
        session_id: rec.info.session_id,
        exit_code: -1,
        signal: 'SIGKILL',
        last_lines: [reason],
      });
      if (rec.ended || !rec.spawned) continue;
      rec.exitSeen = true;
      rec.pipeline.close();
      rec.info.ended_at = nowIso();
      this._transition(rec, 'error', stateReason('lifecycle', `lost: ${reason}`, 'host-lost'), true);
      const spawn = rec.spawn;
      if (spawn)
        rec.sweep = killRecordedTree(spawn, { graceMs: this.limits.terminate_grace_ms })
          .then(() => undefined)
          .catch((error) => rec.log.warn('kill of a lost session tree failed', { error }));
      this._finish(rec);
    }
  }

  /** The same host after a dropped connection: take every live session up where we left it. */
  private _onHostReconnected(): void {
    for (const rec of this._sessions.values()) {
      if (rec.ended || !rec.spawned) continue;
      void this._host
        .attach(rec.info.session_id, rec.pipeline.lastSeq)
        .then((attached) => {
          if (attached.exit) this._onHostExit(rec, attached.exit);
        })
        .catch((error) => rec.log.error('re-attach after reconnect failed', { error }));
    }
  }

  adopt(entries: AdoptEntry[]): Promise<SessionInfo[]> {
    return adoptSessions(
      {
        providers: this._o.providers,
        host: this._host,
        sessions: this._sessions,
        recordFor: (info, provider, afterSeq) => this._recordFor(info, provider, afterSeq),
        recordError: (rec, error) => this._recordError(rec, error),
        stateChanged: (rec, previous) =>
          this._onDidChangeState.fire({ session: snapshotInfo(rec), previous }),
        exited: (rec, exit) => this._onHostExit(rec, exit),
        started: () => this._ensureTimers(),
      },
      entries,
    );
  }

  async detach(): Promise<void> {
    this._shuttingDown = true;
    clearInterval(this._sampleTimer);
    this._sampleTimer = undefined;
    for (const d of this._hostListeners) d.dispose();
    for (const rec of this._sessions.values()) rec.pipeline.close();
    this._host.dispose();
  }

  /** Mark the session ended and announce it (once). */
  private _finish(rec: SessionRecord): void {
    if (rec.ended) return;
    rec.ended = true;
    this._releaseSignals(rec.info.session_id); // signals: forget it, delete its files
    this._onDidExit.fire(snapshotInfo(rec));
    rec.markExited();
  }

  async terminate(sessionId: string, why?: string): Promise<void> {
    const rec = this._require(sessionId);
    await this._end(rec, {
      state: 'terminated',
      reason: stateReason('user', why ?? 'terminated by user', 'terminate'),
    });
  }

  private _end(rec: SessionRecord, endAs: NonNullable<SessionRecord['endAs']>): Promise<void> {
    if (rec.terminating) return rec.terminating;
    if (rec.ended) return rec.sweep;
    rec.endAs = endAs;
    if (!rec.spawned) {
      // Still resolving its binary, spawning or running its set-up: it ends here; _start ends
      // whatever it spawns late, and a running set-up command is killed (its exit then goes nowhere).
      const setupRunning = rec.setup !== null;
      rec.info.ended_at = nowIso();
      this._transition(rec, endAs.state, endAs.reason, true);
      this._finish(rec);
      if (!setupRunning) return rec.exited;
      rec.terminating = this._host
        .kill(rec.info.session_id, this.limits.terminate_grace_ms)
        .catch((error) => {
          rec.log.error('set-up kill failed', { error });
        });
      return rec.terminating;
    }
    rec.terminating = (async () => {
      await this._host.kill(rec.info.session_id, this.limits.terminate_grace_ms).catch((error) => {
        rec.log.error('tree kill failed', { error });
      });
      await Promise.race([rec.exited, new Promise((r) => setTimeout(r, 1000).unref())]);
      if (!rec.ended)
        this._onHostExit(rec, {
          session_id: rec.info.session_id,
          exit_code: -1,
          signal: 'SIGKILL',
          last_lines: [],
        });
      await rec.sweep;
    })();
    return rec.terminating;
  }

  async shutdown(): Promise<void> {
    this._shuttingDown = true;
    await Promise.all(
      [...this._sessions.values()].map((rec) =>
        this._end(rec, {
          state: 'terminated',
          reason: stateReason('lifecycle', 'AutoDev is shutting down', 'shutdown'),
        }),
      ),
    );
    await Promise.all([...this._sessions.values()].map((rec) => rec.sweep));
    clearInterval(this._sampleTimer);
    this._sampleTimer = undefined;
    if (this._ownsHost) {
      for (const d of this._hostListeners) d.dispose();
      this._host.dispose();
    }
  }

  remove(sessionId: string): void {
    const rec = this._require(sessionId);
    if (!rec.ended)
      throw new SessionCoreError(`session ${sessionId} is still running; terminate it first`, 'CONFLICT');
    this._sessions.delete(sessionId);
    for (const d of rec.disposables) d.dispose();
    this._host.release(sessionId);
    this._onDidRemove.fire(sessionId);
  }

  // ── queries ──────────────────────────────────────────────────────────────────────────────────

  get(sessionId: string): SessionInfo | undefined {
    const rec = this._sessions.get(sessionId);
    return rec ? snapshotInfo(rec) : undefined;
  }

  list(): SessionInfo[] {
    return [...this._sessions.values()].map((rec) => snapshotInfo(rec));
  }

  rename(sessionId: string, name: string): SessionInfo {
    const rec = this._require(sessionId);
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200)
      throw new SessionCoreError('name must be 1–200 characters', 'VALIDATION_ERROR');
    rec.info.name = trimmed;
    return snapshotInfo(rec);
  }

  replay(sessionId: string, afterSeq: number): OutputChunk[] | null {
    return this._require(sessionId).pipeline.replay(afterSeq);
  }

  async snapshot(sessionId: string): Promise<{ seq: number; screen: string; cols: number; rows: number }> {
    const rec = this._require(sessionId);
    if (!rec.spawned)
      return { seq: rec.pipeline.lastSeq, screen: '', cols: rec.info.cols, rows: rec.info.rows };
    return this._host.snapshot(sessionId);
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
      session: snapshotInfo(rec),
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
    // The keys are durable before the agent sees them; the lines they submit are what history shows.
    this._journal(rec, 'input', data);
    for (const line of rec.lines.push(data)) this._recordLine(rec, line);
    this._noteActivity(rec);
    this._fusions.get(sessionId)?.noteInput(); // signals: a "waiting" signal ends at the next key
    this._host.write(sessionId, data, 'input');
  }

  command(sessionId: string, text: string): Promise<SubmitOutcome> {
    const rec = this._requireRunning(sessionId);
    const refusal = this._o.admitCommand?.(snapshotInfo(rec));
    if (refusal) throw new SessionCoreError(refusal, 'BUDGET_EXCEEDED');
    this._recordLine(rec, text);
    this._noteActivity(rec);
    return this._host.submit(sessionId, text).then((outcome) => {
      // signals: once the host has submitted it (typed, confirmed, Enter), a "waiting" signal is over.
      this._fusions.get(sessionId)?.noteInput();
      if (!outcome.ok) {
        const error = new SessionCoreError(
          `command not submitted: ${outcome.detail}`,
          'COMMAND_NOT_SUBMITTED',
        );
        this._recordError(rec, error);
        rec.log.warn('command not submitted', { detail: outcome.detail, attempts: outcome.attempts });
      }
      return outcome;
    });
  }

  /** A line a person submitted: journaled (before the agent sees it) and in the command history. */
  private _recordLine(rec: SessionRecord, line: string): void {
    this._journal(rec, 'command', line);
    rec.info.command_history.push(this._o.redactLine ? this._o.redactLine(line) : line);
    if (rec.info.command_history.length > 100)
      rec.info.command_history.splice(0, rec.info.command_history.length - 100);
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
    rec.info.cols = cols;
    rec.info.rows = rows;
    if (rec.spawned && !rec.exitSeen) this._host.resize(sessionId, cols, rows);
    this._onDidResize.fire(snapshotInfo(rec));
  }

  private _journal(rec: SessionRecord, kind: 'command' | 'input', text: string): void {
    if (!this._o.journal) return;
    try {
      this._o.journal.record({
        session_id: rec.info.session_id,
        kind,
        text,
        at: nowIso(),
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

  private _noteActivity(rec: SessionRecord): void {
    rec.lastInputAt = Date.now();
    rec.lastActivityMs = rec.lastInputAt;
  }

  // ── state ────────────────────────────────────────────────────────────────────────────────────

  private _applyDetection(rec: SessionRecord, d: Detection, title: string | null): void {
    if (rec.ended || rec.endAs || rec.exitSeen) return;
    if (!rec.spawned) {
      // Screen evidence before there is a process cannot be right (e.g. initializing → waiting_input);
      // during set-up it is the set-up command's screen, not the agent's.
      if (rec.setup) return;
      rec.log.warn('refused invalid transition', { from: rec.info.state, to: d.state, rule: d.reason.rule });
      return;
    }
    const authChanged =
      d.authentication_required !== rec.info.authentication_required ||
      d.auth_prompt !== rec.info.auth_prompt;
    if (title !== rec.info.title) rec.info.title = title;
    // Same state, other evidence (an idle title, then a trust question): the reason must say what the
    // agent waits for now, not what it waited for before.
    const reasonChanged =
      d.reason.source !== rec.info.state_reason.source || d.reason.rule !== rec.info.state_reason.rule;
    if (d.state === rec.info.state && !authChanged && !reasonChanged) return;
    if (!canTransition(rec.info.state, d.state)) {
      rec.log.warn('refused invalid transition', { from: rec.info.state, to: d.state, rule: d.reason.rule });
      return;
    }
    const previous = rec.info.state;
    rec.info.authentication_required = d.authentication_required;
    rec.info.auth_prompt = d.auth_prompt;
    if (d.state !== previous || reasonChanged) rec.info.state_reason = d.reason;
    rec.info.state = d.state;
    this._onDidChangeState.fire({ session: snapshotInfo(rec), previous });
    if (d.state === 'waiting_input' && previous !== 'waiting_input') this._maybeSendInitialPrompt(rec);
  }

  private _maybeSendInitialPrompt(rec: SessionRecord): void {
    const prompt = rec.initialPrompt;
    if (rec.initialPromptSent || !prompt) return;
    rec.initialPromptSent = true;
    queueMicrotask(() => {
      if (rec.ended) return;
      try {
        void this.command(rec.info.session_id, prompt);
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
    if (from !== to || final) this._onDidChangeState.fire({ session: snapshotInfo(rec), previous: from });
    return true;
  }

  // ── the shared /proc sampler: limits and resource_usage ──────────────────────────────────────

  private _ensureTimers(): void {
    this._sampleTimer ??= setInterval(
      () =>
        sampleSessions(
          this._sampler,
          this._sessions.values(),
          { limits: this.limits, cpuBreachSamples: this._o.cpuBreachSamples ?? 3, log: this._log },
          (rec, breach) => {
            this._recordError(rec, breach.error);
            rec.log.warn('limit breached; terminating', { limit: breach.rule, error: breach.error.message });
            void this._end(rec, {
              state: 'error',
              reason: stateReason('limit', breach.error.message, breach.rule),
            });
          },
        ),
      this._o.sampleIntervalMs ?? 2000,
    );
    this._sampleTimer.unref();
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
    if (rec.ended || rec.endAs || !rec.spawned || rec.exitSeen)
      throw new SessionNotRunningError(sessionId, rec.info.state);
    return rec;
  }

  private _recordError(rec: SessionRecord, error: SessionCoreError): void {
    rec.errors.push({ at: nowIso(), error: error.message, error_code: error.error_code as ErrorCode });
    if (rec.errors.length > 20) rec.errors.shift();
  }

  private _listenerError(error: unknown): void {
    this._log.error('event listener threw', { error });
  }
}

function validateSize(cols: number, rows: number): void {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || cols > 1000 || rows < 1 || rows > 500)
    throw new SessionCoreError('cols must be 1–1000 and rows 1–500', 'VALIDATION_ERROR');
}
