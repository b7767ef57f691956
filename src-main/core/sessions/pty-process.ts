import { closeSync, constants, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { type IPty, spawn } from 'node-pty';
import { Emitter } from '../util/event.ts';

/**
 * A node-pty child with a complete tail. node-pty (Linux) can lose the last KBs a process wrote
 * before exiting (microsoft/node-pty#72/#726; measured here: a 100 KB `cat` lost up to 8 KB in 4 of 8
 * runs): when the last slave fd closes, the master read may return EIO while data is still queued in
 * the tty, and 200 ms after the native exit node-pty destroys its socket regardless of what is unread.
 *
 * Two fixes, both local to this module:
 * 1. We hold our own fd on the slave (/dev/pts/N, O_NOCTTY, close-on-exec), so the master never sees
 *    the hang-up EIO while we read.
 * 2. node-pty's exit timer ends in `socket.destroy()`; we intercept that call (on this instance only),
 *    which tells us the process exited, then keep reading (even through a flow-control pause) until
 *    the master has been quiet for `quietMs` (re-armed per chunk, checked after an I/O poll phase),
 *    capped at `drainCapMs` (a grandchild may hold the slave and keep writing). Then we close our slave
 *    fd and really destroy the socket, and node-pty emits exit. Consumers thus see every byte, then exit.
 *
 * After exit we never call `kill()`/`destroy()` on the IPty: its deferred SIGHUP could hit a recycled PID.
 */
export interface PtySpawnOptions {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  quietMs?: number;
  drainCapMs?: number;
}

export interface PtyExit {
  exitCode: number;
  /** Signal name (SIGKILL…) when the process was killed by a signal. */
  signal: string | null;
}

interface SocketLike {
  destroy(...args: unknown[]): unknown;
  pause(): unknown;
  resume(): unknown;
  isPaused(): boolean;
}

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, num]) => [num as number, name]),
);

export class PtyProcess {
  readonly pid: number;
  /** The slave's path (/dev/pts/N), while this process holds it open (until exit). */
  readonly ptsName: string | null;
  private readonly _pty: IPty;
  private readonly _socket: SocketLike;
  private readonly _realDestroy: (...args: unknown[]) => unknown;
  private _slaveFd: number | null = null;
  private _paused = false;
  private _draining = false;
  private _exited = false;
  private _destroyed = false;
  private _lastDataAt = 0;
  private _reads = 0;
  private readonly _quietMs: number;
  private readonly _drainCapMs: number;
  private readonly _onData = new Emitter<string>();
  private readonly _onExit = new Emitter<PtyExit>();
  readonly onData = this._onData.event;
  readonly onExit = this._onExit.event;

  /** Throws when the spawn itself fails (e.g. posix_spawn refused); callers turn that into an error state. */
  constructor(options: PtySpawnOptions) {
    this._quietMs = options.quietMs ?? 20;
    this._drainCapMs = options.drainCapMs ?? 5000;
    this._pty = spawn(options.file, options.args, {
      name: 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      cwd: options.cwd,
      env: options.env,
      encoding: 'utf8',
    });
    this.pid = this._pty.pid;
    const internals = this._pty as unknown as { _socket: SocketLike; ptsName?: string; _pty?: string };
    this._socket = internals._socket;
    const ptsName = internals.ptsName ?? internals._pty;
    this.ptsName = ptsName ?? null;
    try {
      if (ptsName)
        this._slaveFd = openSync(ptsName, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch {
      this._slaveFd = null; // still works, minus guarantee 1
    }
    this._realDestroy = this._socket.destroy.bind(this._socket);
    this._socket.destroy = (...args: unknown[]) => {
      if (this._destroyed) return this._realDestroy(...args);
      this._beginExitDrain();
      return this._socket;
    };
    this._pty.onData((data) => {
      this._lastDataAt = Date.now();
      this._reads++;
      this._onData.fire(data);
    });
    this._pty.onExit(({ exitCode, signal }) => {
      this._exited = true;
      this._closeSlave();
      this._onExit.fire({
        exitCode,
        signal: signal ? (SIGNAL_NAMES.get(signal) ?? `signal ${signal}`) : null,
      });
    });
  }

  get exited(): boolean {
    return this._exited;
  }

  write(data: string): void {
    if (!this._exited && !this._draining) this._pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this._exited || this._draining) return;
    try {
      this._pty.resize(cols, rows);
    } catch {
      // The pty may be closing; a resize then is meaningless.
    }
  }

  /** Flow control: stop reading the master (the kernel then blocks the writer). */
  pause(): void {
    this._paused = true;
    if (!this._draining) this._pty.pause();
  }

  resume(): void {
    this._paused = false;
    this._pty.resume();
  }

  get paused(): boolean {
    return this._paused;
  }

  /** Last resort when no exit arrives (process unkillable): release the master now. */
  forceClose(): void {
    if (this._destroyed) return;
    this._destroyed = true;
    this._closeSlave();
    this._realDestroy();
  }

  private _beginExitDrain(): void {
    if (this._draining) return;
    this._draining = true;
    // Read what is left even when a lagging consumer paused us: the writer is gone, the rest is bounded.
    this._pty.resume();
    const startedAt = Date.now();
    let quietSince = Math.max(this._lastDataAt, startedAt);
    const check = () => {
      const readsBefore = this._reads;
      // Decide after an I/O poll phase (setImmediate), so data already readable is read first.
      setImmediate(() => {
        if (this._reads !== readsBefore) quietSince = this._lastDataAt;
        const now = Date.now();
        if (now - quietSince >= this._quietMs || now - startedAt >= this._drainCapMs) {
          this.forceClose();
          return;
        }
        setTimeout(check, Math.max(1, this._quietMs - (now - quietSince)));
      });
    };
    setTimeout(check, this._quietMs);
  }

  private _closeSlave(): void {
    if (this._slaveFd === null) return;
    try {
      closeSync(this._slaveFd);
    } catch {
      // already closed
    }
    this._slaveFd = null;
  }

  /** Kill just the root process (used only before exit; tree kills go through process-tree.ts). */
  signalRoot(signal: NodeJS.Signals): void {
    if (this._exited) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // gone
    }
  }
}
