import type { HostWelcome } from '../../../src-shared/pty-host-protocol.ts';
import type { OutputChunk } from '../../../src-shared/session.ts';
import type { Detection } from '../state/types.ts';
import { Emitter } from '../util/event.ts';
import type { PtyHostClient } from './host-client.ts';
import { connectExistingHost, type HostLaunchOptions, startHost } from './host-launcher.ts';
import type {
  HostAttached,
  HostExit,
  HostSessionState,
  HostSnapshot,
  HostSpawned,
  HostSpawnSpec,
  PtyHost,
  SubmitOutcome,
} from './types.ts';

export interface PtyHostStatus {
  connected: boolean;
  pid: number | null;
  version: string | null;
  started_at: string | null;
  /** Times the host died and was started again by this core. */
  restarts: number;
  /** Why the host was last lost, if it was. */
  last_loss: string | null;
}

const NOT_CONNECTED = 'the PTY host is restarting';

export interface SupervisedHostOptions extends HostLaunchOptions {
  /** Start attempts allowed within `restartWindowMs` (default 5 in 3 minutes); then it gives up. */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** The wait before the first start attempt after a loss (default 1 s); it doubles after each failed
   *  attempt, up to `backoffMaxMs` (default 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How hosts are found and started (default: host-launcher's). A seam for tests. */
  launcher?: {
    connectExisting(options: HostLaunchOptions): Promise<PtyHostClient | null>;
    start(options: HostLaunchOptions): Promise<PtyHostClient>;
  };
  /** Time and timers (default: the global ones). A seam for tests. */
  clock?: {
    now(): number;
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
}

/** The wait before start attempt `attempt` (0: the first after a loss): base·2^attempt, capped. */
export function restartDelay(attempt: number, baseMs = 1000, maxMs = 30_000): number {
  return Math.min(baseMs * 2 ** attempt, maxMs);
}

const realClock: NonNullable<SupervisedHostOptions['clock']> = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The core's PTY host with a supervisor: a dropped connection to a live host reconnects (the manager
 * re-attaches its sessions), a dead host is reported (its sessions are lost) and started again with
 * backoff — 1 s after the loss, then 2 s, 4 s … up to 30 s after each failed start — at most
 * `maxRestarts` start attempts within `restartWindowMs` (a sliding window, as VS Code limits its pty
 * host restarts), then it gives up and says why in `status.last_loss` ("… not restarting it …").
 * Attempts older than the window no longer count: a host that stays up longer than the window has
 * the whole budget again, so one that dies once a day is always restarted.
 */
export class SupervisedPtyHost implements PtyHost {
  private readonly _o: SupervisedHostOptions;
  private readonly _launcher: NonNullable<SupervisedHostOptions['launcher']>;
  private readonly _clock: NonNullable<SupervisedHostOptions['clock']>;
  /** The backoff wait under way, cancelled by shutdown/dispose so no timer outlives the supervisor. */
  private _backoff: { handle: unknown; done(): void } | null = null;
  private _client: PtyHostClient | null = null;
  private _wiring: { dispose(): void }[] = [];
  private _disposed = false;
  private _restartTimes: number[] = [];
  private readonly _status: PtyHostStatus = {
    connected: false,
    pid: null,
    version: null,
    started_at: null,
    restarts: 0,
    last_loss: null,
  };
  private readonly _onData = new Emitter<OutputChunk>();
  private readonly _onDetect = new Emitter<{
    session_id: string;
    detection: Detection;
    title: string | null;
  }>();
  private readonly _onExit = new Emitter<HostExit>();
  private readonly _onDidDisconnect = new Emitter<{ reason: string }>();
  private readonly _onDidReconnect = new Emitter<void>();
  private readonly _onDidChangeStatus = new Emitter<PtyHostStatus>();
  readonly onData = this._onData.event;
  readonly onDetect = this._onDetect.event;
  readonly onExit = this._onExit.event;
  readonly onDidDisconnect = this._onDidDisconnect.event;
  /** The same host again after a dropped connection: re-attach live sessions. */
  readonly onDidReconnect = this._onDidReconnect.event;
  readonly onDidChangeStatus = this._onDidChangeStatus.event;

  constructor(client: PtyHostClient, options: SupervisedHostOptions) {
    this._o = options;
    this._launcher = options.launcher ?? { connectExisting: connectExistingHost, start: startHost };
    this._clock = options.clock ?? realClock;
    this._wire(client);
  }

  /** What the host ran when we connected (sessions to reattach). */
  get welcome(): HostWelcome | null {
    return this._client?.welcome ?? null;
  }

  get status(): PtyHostStatus {
    return { ...this._status };
  }

  private _wire(client: PtyHostClient): void {
    this._client = client;
    this._status.connected = true;
    this._status.pid = client.welcome.pid;
    this._status.version = client.welcome.host_version;
    this._status.started_at = client.welcome.started_at;
    this._wiring = [
      client.onData((c) => this._onData.fire(c)),
      client.onDetect((d) => this._onDetect.fire(d)),
      client.onExit((e) => this._onExit.fire(e)),
      client.onDidDisconnect(() => void this._onLost()),
    ];
    this._onDidChangeStatus.fire(this.status);
  }

  private _unwire(): void {
    for (const d of this._wiring) d.dispose();
    this._wiring = [];
    this._client = null;
    this._status.connected = false;
  }

  private async _onLost(): Promise<void> {
    this._unwire();
    if (this._disposed) return;
    // The same host may still be there (a dropped connection): then nothing is lost.
    const again = await this._launcher.connectExisting(this._o).catch(() => null);
    if (again && !this._disposed) {
      this._o.logger.warn('pty host connection dropped; reconnected to the same host');
      this._wire(again);
      this._onDidReconnect.fire();
      return;
    }
    this._status.last_loss = `the PTY host (pid ${this._status.pid}) stopped`;
    this._o.logger.error('pty host lost: its sessions are gone', { pid: this._status.pid });
    this._onDidDisconnect.fire({ reason: this._status.last_loss });
    this._onDidChangeStatus.fire(this.status);
    await this._restart();
  }

  private async _restart(): Promise<void> {
    const windowMs = this._o.restartWindowMs ?? 180_000;
    const max = this._o.maxRestarts ?? 5;
    let last = this._status.last_loss;
    for (let attempt = 0; !this._disposed; attempt++) {
      const now = this._clock.now();
      this._restartTimes = this._restartTimes.filter((t) => now - t < windowMs);
      if (this._restartTimes.length >= max) {
        this._status.last_loss = `the PTY host did not stay up: ${this._restartTimes.length} restarts tried in ${Math.round(windowMs / 1000)} s (last: ${last}); not restarting it (restart AutoDev)`;
        this._o.logger.error('pty host keeps dying; giving up', { restarts: this._restartTimes.length });
        this._onDidChangeStatus.fire(this.status);
        return;
      }
      await this._wait(restartDelay(attempt, this._o.backoffBaseMs, this._o.backoffMaxMs));
      if (this._disposed) return;
      this._restartTimes.push(this._clock.now());
      try {
        const client = await this._launcher.start(this._o);
        if (this._disposed) {
          client.dispose();
          return;
        }
        this._status.restarts++;
        this._o.logger.info('pty host restarted', { pid: client.welcome.pid });
        this._wire(client);
        return;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
        this._o.logger.error('pty host restart failed', { error: String(error) });
      }
    }
  }

  private _wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this._backoff = null;
        resolve();
      };
      this._backoff = { handle: this._clock.setTimeout(done, ms), done };
    });
  }

  /** Stop supervising: a backoff wait under way ends now (the restart loop sees `_disposed`). */
  private _stopSupervising(): void {
    this._disposed = true;
    const backoff = this._backoff;
    if (backoff) {
      this._clock.clearTimeout(backoff.handle);
      backoff.done();
    }
  }

  private _require(): PtyHostClient {
    if (!this._client) throw new Error(NOT_CONNECTED);
    return this._client;
  }

  spawn(spec: HostSpawnSpec): Promise<HostSpawned> {
    return this._client ? this._client.spawn(spec) : Promise.reject(new Error(NOT_CONNECTED));
  }
  write(sessionId: string, data: string, kind: 'input' | 'command'): void {
    this._client?.write(sessionId, data, kind);
  }
  async submit(sessionId: string, text: string): Promise<SubmitOutcome> {
    if (!this._client) return { ok: false, attempts: 0, detail: NOT_CONNECTED };
    return this._client.submit(sessionId, text);
  }
  resize(sessionId: string, cols: number, rows: number): void {
    this._client?.resize(sessionId, cols, rows);
  }
  setPaused(sessionId: string, paused: boolean): void {
    this._client?.setPaused(sessionId, paused);
  }
  ackPersisted(sessionId: string, seq: number): void {
    this._client?.ackPersisted(sessionId, seq);
  }
  snapshot(sessionId: string): Promise<HostSnapshot> {
    return this._require().snapshot(sessionId);
  }
  attach(sessionId: string, afterSeq: number): Promise<HostAttached> {
    return this._require().attach(sessionId, afterSeq);
  }
  async kill(sessionId: string, graceMs: number): Promise<void> {
    await this._client?.kill(sessionId, graceMs);
  }
  async sweep(sessionId: string, graceMs: number): Promise<void> {
    await this._client?.sweep(sessionId, graceMs);
  }
  release(sessionId: string): void {
    this._client?.release(sessionId);
  }
  async list(): Promise<HostSessionState[]> {
    return this._client ? this._client.list() : [];
  }

  /** Stop the host (after its sessions were ended), and stop supervising. */
  async shutdown(force = false): Promise<void> {
    const client = this._client;
    this._stopSupervising();
    this._unwire();
    if (client) {
      await client
        .shutdown(force)
        .catch((error) => this._o.logger.warn('pty host shutdown failed', { error: String(error) }));
      client.dispose();
    }
  }

  /** Leave the host and its sessions running (keep-sessions); stop supervising. */
  dispose(): void {
    this._stopSupervising();
    const client = this._client;
    this._unwire();
    client?.dispose();
    this._onData.dispose();
    this._onDetect.dispose();
    this._onExit.dispose();
    this._onDidDisconnect.dispose();
    this._onDidReconnect.dispose();
    this._onDidChangeStatus.dispose();
  }
}
