import type { OutputChunk } from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import { MirrorFeeder, type MirrorFeederOptions } from '../sessions/mirror-feeder.ts';
import { OutputPipeline } from '../sessions/output-pipeline.ts';
import { PASSIVE_DETECTOR } from '../sessions/passive-detector.ts';
import { bootId, type ProcStat, readStat, type TreeRoot } from '../sessions/process-tree.ts';
import { PtyProcess } from '../sessions/pty-process.ts';
import type { SessionContainment } from '../sessions/session-containment.ts';
import type { Detection, ScreenStateDetector } from '../state/types.ts';
import { submitStrategy } from './submit-strategy.ts';
import { submitConfirmed } from './submitter.ts';
import type {
  HostExit,
  HostSessionState,
  HostSnapshot,
  HostSpawned,
  HostSpawnSpec,
  SubmitOutcome,
} from './types.ts';

export type MirrorTuning = Partial<
  Pick<
    MirrorFeederOptions,
    'compactAboveChars' | 'budgetChars' | 'maxWriteChars' | 'scrollbackLines' | 'coalesceMs'
  >
>;

export interface HostSessionOptions {
  spec: HostSpawnSpec;
  detector: ScreenStateDetector;
  mirror?: MirrorTuning;
  log: Logger;
  /** Keeps the session's processes together (its cgroup) and ends all of them. */
  containment: SessionContainment;
  onData(chunk: OutputChunk): void;
  onDetect(detection: Detection, title: string | null): void;
  onExit(exit: HostExit): void;
}

/**
 * One PTY and everything mechanical about it: the output batches and their seqs, the headless mirror
 * (fed without letting it set the agent's pace), the mirror's answers to terminal queries (the only
 * answers a live query ever gets), ordered writes around confirmed submissions, and the tree kill.
 */
export class HostSession {
  readonly id: string;
  readonly spawned: HostSpawned;
  private readonly _o: HostSessionOptions;
  private readonly _pty: PtyProcess;
  private readonly _pipeline: OutputPipeline;
  private readonly _detector: ScreenStateDetector;
  private readonly _feeder: MirrorFeeder | null;
  private _mirrorParsedSeq = 0;
  private _cols: number;
  private _rows: number;
  private _exited = false;
  private _exitedPromise: Promise<void>;
  private _markExited!: () => void;
  private _knownTree: ProcStat[] = [];
  /** Writes held back while a submission types its text (released once its Enter went out). */
  private _held: string[] | null = null;
  private _submitting: Promise<unknown> = Promise.resolve();
  private _otherWrites = 0;
  private _corePaused = false;
  private _lastOutputAt = 0;
  private _lastInputAt = 0;
  private readonly _startedAt = Date.now();
  private _mirrorPaused = false;
  private readonly _disposables: { dispose(): void }[] = [];

  constructor(options: HostSessionOptions) {
    this._o = options;
    const { spec } = options;
    this.id = spec.session_id;
    this._cols = spec.cols;
    this._rows = spec.rows;
    this._detector = options.detector;
    this._exitedPromise = new Promise((resolve) => {
      this._markExited = resolve;
    });
    this._pipeline = new OutputPipeline({
      sessionId: spec.session_id,
      batchMs: spec.output.batchMs,
      maxBatchChars: spec.output.maxBatchChars,
      ringChars: spec.output.retainChars,
      highWatermark: spec.output.highWatermark,
      lowWatermark: spec.output.lowWatermark,
      firstSeq: spec.first_seq ?? 1,
      pause: () => this._setMirrorPaused(true),
      resume: () => this._setMirrorPaused(false),
      onChunk: (chunk) => options.onData(chunk),
      onConsumerError: (error) => options.log.warn('output consumer threw', { error }),
    });
    this._feeder = this._attachMirror(options);
    this._disposables.push(
      this._detector.onDidDetect((d) => options.onDetect(d, this._detector.title)),
      // Answers to queries in the live output go straight to the agent: never journaled, never queued
      // behind a submission (an agent waiting for its cursor position would stall the submission).
      this._detector.onReply((reply) => this._pty.write(reply)),
    );
    // Containment: the agent joins its session cgroup before it runs (session-containment.ts).
    const argv = options.containment.prepare(spec.session_id, spec.file, spec.args);
    try {
      this._pty = new PtyProcess({
        file: argv.file,
        args: argv.args,
        cwd: spec.cwd,
        env: spec.env,
        cols: spec.cols,
        rows: spec.rows,
      });
    } catch (error) {
      options.containment.forget(spec.session_id);
      throw error;
    }
    const stat = readStat(this._pty.pid);
    if (stat) this._knownTree = [stat];
    this.spawned = { pid: this._pty.pid, start_ticks: stat?.start_ticks ?? 0, boot_id: bootId() };
    options.containment.started(spec.session_id, { ...this._treeRoot(), tty: this._pty.ptsName });
    this._disposables.push(
      this._pty.onData((data) => {
        this._lastOutputAt = Date.now();
        this._pipeline.push(data);
      }),
      this._pty.onExit((exit) => this._onPtyExit(exit.exitCode, exit.signal)),
    );
  }

  private _attachMirror(options: HostSessionOptions): MirrorFeeder | null {
    const detector = this._detector;
    if ((detector as { [PASSIVE_DETECTOR]?: true })[PASSIVE_DETECTOR]) {
      // No screen to keep: a plain consumer that acks at once (never slows the PTY).
      this._pipeline.attach({
        flowControlled: false,
        onData: (chunk) =>
          detector.write(chunk.data, () => {
            this._mirrorParsedSeq = chunk.seq;
          }),
      });
      return null;
    }
    // The mirror is a flow-controlled consumer fed through MirrorFeeder: exact while it keeps up,
    // compacting plain scrolling floods when it lags, pausing the PTY only past its budget.
    const attachment = this._pipeline.attach({
      flowControlled: true,
      onData: (chunk) => feeder.write(chunk),
    });
    const feeder = new MirrorFeeder({
      detector,
      cols: this._cols,
      rows: this._rows,
      ...options.mirror,
      ack: (chars) => attachment.ack(chars),
      onParsed: (seq) => {
        this._mirrorParsedSeq = seq;
      },
      onError: (error) => options.log.warn('mirror write failed', { error }),
    });
    return feeder;
  }

  get exited(): boolean {
    return this._exited;
  }

  get detector(): ScreenStateDetector {
    return this._detector;
  }

  /** Keystrokes and other raw input, in order with submissions. */
  write(data: string, kind: 'input' | 'command'): void {
    if (this._exited) return;
    this._otherWrites++;
    this._noteInput(kind, data);
    if (this._held) this._held.push(data);
    else this._pty.write(data);
  }

  submit(text: string): Promise<SubmitOutcome> {
    // One submission at a time, in order; keystrokes typed meanwhile wait for its Enter.
    const run = this._submitting.then(() => this._submitNow(text));
    this._submitting = run.catch(() => {});
    return run;
  }

  private async _submitNow(text: string): Promise<SubmitOutcome> {
    if (this._exited) return { ok: false, attempts: 0, detail: 'the session has ended' };
    this._held = [];
    const release = () => {
      const held = this._held;
      this._held = null;
      for (const data of held ?? []) this._pty.write(data);
    };
    const session = this;
    try {
      return await submitConfirmed(
        {
          write(data) {
            session._pty.write(data);
            if (data === '\r') release();
          },
          detector: this._detector,
          get otherWrites() {
            return session._otherWrites;
          },
          noteSubmitted: () => this._noteInput('command'),
          get ended() {
            return session._exited;
          },
        },
        text,
        submitStrategy(this._o.spec.provider),
      );
    } finally {
      release();
    }
  }

  private _noteInput(kind: 'input' | 'command', data?: string): void {
    this._lastInputAt = Date.now();
    try {
      this._detector.noteInput(kind, data);
    } catch (error) {
      this._o.log.warn('detector noteInput failed', { error });
    }
  }

  resize(cols: number, rows: number): void {
    if (this._exited || (cols === this._cols && rows === this._rows)) return;
    this._pipeline.flush(); // output produced for the old size goes out first
    this._cols = cols;
    this._rows = rows;
    this._pty.resize(cols, rows);
    this._feeder?.resize(cols, rows); // in order with the output still queued for the mirror
    if (!this._feeder) this._detector.resize(cols, rows);
  }

  setCorePaused(paused: boolean): void {
    this._corePaused = paused;
    this._applyPause();
  }

  private _setMirrorPaused(paused: boolean): void {
    if (paused === this._mirrorPaused) return;
    this._mirrorPaused = paused;
    this._applyPause();
  }

  private _applyPause(): void {
    if (this._exited) return;
    if (this._corePaused || this._mirrorPaused) this._pty.pause();
    else this._pty.resume();
  }

  replay(afterSeq: number): OutputChunk[] | null {
    return this._pipeline.replay(afterSeq);
  }

  /** Re-evaluate while output flows and for a while after it stops (so stability windows close). */
  tick(now: number): void {
    if (this._exited) return;
    const quietFor = now - Math.max(this._lastOutputAt, this._lastInputAt, this._startedAt);
    if (quietFor > this._o.spec.provider.stability_ms * 2 + 2000) return;
    try {
      this._o.onDetect(this._detector.evaluate(now), this._detector.title);
    } catch (error) {
      this._o.log.warn('detector evaluate failed', { error });
    }
  }

  async snapshot(): Promise<HostSnapshot> {
    this._pipeline.flush();
    this._feeder?.flush();
    // Serialize once the mirror has parsed everything emitted so far (bounded wait), and say which seq it shows.
    const target = this._pipeline.lastSeq;
    const deadline = Date.now() + 2000;
    while (this._mirrorParsedSeq < target && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    return {
      seq: this._mirrorParsedSeq,
      screen: this._detector.serialize(),
      cols: this._cols,
      rows: this._rows,
    };
  }

  state(): HostSessionState {
    return {
      session_id: this.id,
      pid: this.spawned.pid,
      start_ticks: this.spawned.start_ticks,
      cols: this._cols,
      rows: this._rows,
      last_seq: this._pipeline.lastSeq,
      exited: this._exited,
      detection: this._detector.evaluate(),
      title: this._detector.title,
    };
  }

  private _treeRoot(): TreeRoot {
    return { session_id: this.id, pid: this.spawned.pid, start_ticks: this.spawned.start_ticks };
  }

  async kill(graceMs: number): Promise<void> {
    if (this._exited) return this.sweep(graceMs);
    await this._killTree(graceMs, false);
    const exited = await Promise.race([
      this._exitedPromise.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 7000).unref()),
    ]);
    if (!exited) {
      this._o.log.error('no exit after the tree kill; closing the pty');
      this._pty.forceClose();
      await Promise.race([this._exitedPromise, new Promise((r) => setTimeout(r, 1000).unref())]);
      if (!this._exited) this._onPtyExit(-1, 'SIGKILL');
    }
  }

  /** Leftovers (setsid daemons, grandchildren) of a process that ended: no orphans. */
  sweep(graceMs: number): Promise<void> {
    return this._killTree(graceMs, true);
  }

  private async _killTree(graceMs: number, leftovers: boolean): Promise<void> {
    const containment = this._o.containment;
    const options = {
      graceMs,
      extra: this._knownTree,
      log: (event: string, fields: Record<string, unknown>) => this._o.log.warn(event, fields),
    };
    // After the exit: leftovers are ended and the session's cgroup removed (release).
    const result = leftovers
      ? await containment.release(this.id, options)
      : await containment.terminate(this.id, options);
    if (leftovers && result.signalled > 0)
      this._o.log.info('killed processes left behind by the session', { ...result });
    if (result.escalated.length > 0)
      this._o.log.warn('escalated to SIGKILL after the grace period', {
        pids: result.escalated,
        grace_ms: graceMs,
      });
    if (result.survivors.length > 0)
      this._o.log.error('processes survived SIGKILL', { pids: result.survivors });
  }

  /** Processes seen in the tree (the core's resource sampler), kept for the kill. */
  noteTree(members: ProcStat[]): void {
    if (members.length > 0) this._knownTree = members;
  }

  private _onPtyExit(exitCode: number, signal: string | null): void {
    if (this._exited) return;
    this._pipeline.close(); // flushes the last batch before the exit is announced
    this._feeder?.flush();
    this._exited = true;
    this._held = null;
    let lastLines: string[] = [];
    try {
      lastLines = this._detector
        .screenText()
        .split('\n')
        .map((l) => l.trimEnd())
        .filter((l) => l.trim().length > 0)
        .slice(-5);
    } catch {}
    this._o.onExit({ session_id: this.id, exit_code: exitCode, signal, last_lines: lastLines });
    this._markExited();
  }

  dispose(): void {
    this._o.containment.forget(this.id);
    for (const d of this._disposables.splice(0)) d.dispose();
    this._feeder?.dispose();
    this._detector.dispose();
  }
}
