import { type ChildProcess, spawn } from 'node:child_process';
import type { AttemptCallbacks, AttemptEnd, AttemptOutcome, RunningAttempt } from './attempt-outcome.ts';
import { OutputTails } from './attempt-outcome.ts';
import type { OutputFormat } from './output-formats.ts';
import { OneShotOutputParser, type ParsedLine } from './output-parser.ts';
import { signalGroup, terminateGroup } from './process-group.ts';

export interface AttemptSpec {
  /** Absolute path (or PATH-resolvable name) of the agent binary. */
  binary: string;
  argv: string[];
  stdin: string | null;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  killGraceMs: number;
  format: OutputFormat;
}

/**
 * One spawn of a one-shot agent: its own process group (detached), argv never through a shell,
 * stdout parsed line by line, a run-time limit that stops counting while paused, and group-wide
 * pause (SIGSTOP) / resume (SIGCONT) / stop (SIGTERM → SIGKILL).
 */
export class AttemptRun implements RunningAttempt {
  readonly executor = 'cli' as const;
  readonly done: Promise<AttemptOutcome>;
  private _child: ChildProcess | null = null;
  private _stopReason: AttemptEnd | null = null;
  private _paused = false;
  private _remainingMs: number;
  private _timerStartedAt = 0;
  private _timer: NodeJS.Timeout | null = null;
  private _pausedTotalMs = 0;
  private _pausedAt = 0;
  private readonly _spec: AttemptSpec;

  constructor(spec: AttemptSpec, callbacks: AttemptCallbacks) {
    this._spec = spec;
    this._remainingMs = spec.timeoutMs;
    this.done = this._run(callbacks);
  }

  get pid(): number | null {
    return this._child?.pid ?? null;
  }

  get paused(): boolean {
    return this._paused;
  }

  /** SIGSTOP to the whole group; the run-time clock stops with it. */
  pause(): boolean {
    const pid = this.pid;
    if (pid === null || this._paused || this._stopReason) return false;
    if (!signalGroup(pid, 'SIGSTOP')) return false;
    this._paused = true;
    this._pausedAt = Date.now();
    this._stopTimer();
    return true;
  }

  resume(): boolean {
    const pid = this.pid;
    if (pid === null || !this._paused) return false;
    signalGroup(pid, 'SIGCONT');
    this._paused = false;
    this._pausedTotalMs += Date.now() - this._pausedAt;
    this._startTimer();
    return true;
  }

  cancel(reason: string): void {
    this._stop({ kind: 'cancelled', reason });
  }

  release(reason: string): void {
    this._stop({ kind: 'released', reason });
  }

  private _stop(reason: AttemptEnd): void {
    if (this._stopReason) return;
    this._stopReason = reason;
    this._stopTimer();
    const pid = this.pid;
    if (pid !== null) void terminateGroup(pid, this._spec.killGraceMs);
  }

  private _startTimer(): void {
    this._timerStartedAt = Date.now();
    this._timer = setTimeout(() => this._stop({ kind: 'timeout' }), Math.max(0, this._remainingMs));
  }

  private _stopTimer(): void {
    if (!this._timer) return;
    clearTimeout(this._timer);
    this._timer = null;
    this._remainingMs -= Date.now() - this._timerStartedAt;
  }

  private async _run(callbacks: AttemptCallbacks): Promise<AttemptOutcome> {
    const spec = this._spec;
    const parser = new OneShotOutputParser(spec.format);
    const tails = new OutputTails();
    let stderrPartial = '';
    const startedAt = Date.now();
    const emitStdout = (lines: ParsedLine[]) => {
      for (const line of lines) {
        tails.stdout(line);
        callbacks.onLine('stdout', line);
      }
    };
    const emitStderr = (text: string, flush: boolean) => {
      const parts = (stderrPartial + text).split('\n');
      stderrPartial = flush ? '' : (parts.pop() ?? '');
      for (const line of parts) {
        if (line.trim().length === 0) continue;
        tails.stderrLine(line);
        callbacks.onLine('stderr', { kind: 'raw', event_type: null, content: line });
      }
    };

    const end = await new Promise<AttemptEnd>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(spec.binary, spec.argv, {
          cwd: spec.cwd,
          env: spec.env,
          detached: true,
          stdio: [spec.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
          windowsHide: true,
        });
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        resolve({ kind: 'spawn_failed', code: e.code ?? 'UNKNOWN', message: e.message });
        return;
      }
      this._child = child;
      let exit: AttemptEnd | null = null;
      let settled = false;
      const finish = () => {
        if (settled || !exit) return;
        settled = true;
        resolve(exit);
      };
      child.once('error', (error: NodeJS.ErrnoException) => {
        // Spawn failures (ENOENT, EACCES) arrive here without an exit; later errors are pipe noise.
        if (child.pid === undefined) {
          settled = true;
          resolve({ kind: 'spawn_failed', code: error.code ?? 'UNKNOWN', message: error.message });
        }
      });
      child.stdout?.setEncoding('utf8');
      child.stderr?.setEncoding('utf8');
      child.stdout?.on('data', (text: string) => emitStdout(parser.push(text)));
      child.stderr?.on('data', (text: string) => emitStderr(text, false));
      if (child.stdin) {
        child.stdin.on('error', () => {}); // EPIPE when the agent exits without reading
        child.stdin.end(spec.stdin ?? '');
      }
      child.once('exit', (code, signal) => {
        exit = { kind: 'exited', exit_code: code, signal };
        // A grandchild in another session may hold the pipes open: do not wait for it forever.
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        }, 2000).unref();
      });
      child.once('close', () => finish());
      if (child.pid !== undefined) this._startTimer();
    });

    this._stopTimer();
    emitStdout(parser.end());
    emitStderr('', true);
    if (this._paused) this._pausedTotalMs += Date.now() - this._pausedAt;
    // Whatever is left of the group (an agent that exited but left children behind) goes too.
    const pid = this.pid;
    if (pid !== null && end.kind === 'exited') void terminateGroup(pid, this._spec.killGraceMs);
    const effectiveEnd = end.kind === 'exited' && this._stopReason ? this._stopReason : end;
    return {
      end: effectiveEnd,
      parsed: parser.result(),
      stderr_tail: tails.stderr,
      unstructured_tail: tails.unstructured,
      last_line: tails.lastLine,
      duration_ms: Math.max(0, Date.now() - startedAt - this._pausedTotalMs),
    };
  }
}
