import type { LanStatus } from '../../src-shared/ipc.ts';
import { Emitter } from '../core/util/event.ts';
import { IpcError } from './ipc-router.ts';
import { encodeQr, qrRows } from './qr.ts';

/** A running dashboard server (the server helper's `startServer` result, adapted). */
export interface DashboardServerHandle {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** What the LAN toggle needs from the headless server and its auth (adapted in main.ts). */
export interface DashboardBackend {
  start(options: { host: string; port: number | undefined }): Promise<DashboardServerHandle>;
  /** A fresh, short-lived pairing credential for the dashboard shown in settings. */
  issuePairingToken(): Promise<string>;
}

export interface InterfaceAddress {
  address: string;
  family: string | number;
  internal: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1']);

const OFF: LanStatus = {
  running: false,
  url: null,
  host: null,
  port: null,
  token: null,
  qr: null,
  started_at: null,
  error: null,
};

/** Hosts the toggle may bind: loopback, or an address one of this machine's interfaces has. Never 0.0.0.0. */
export function allowedHosts(interfaces: Record<string, InterfaceAddress[] | undefined>): Set<string> {
  const hosts = new Set(LOOPBACK);
  for (const list of Object.values(interfaces)) for (const a of list ?? []) hosts.add(a.address);
  return hosts;
}

/**
 * The settings toggle for the LAN dashboard: starts/stops the server on loopback (default) or one
 * chosen interface, mints a fresh pairing token per start and exposes URL + token + QR rows. The
 * token goes in the URL fragment of the QR (fragments are never sent to servers or logged by them).
 */
export class LanDashboard {
  private readonly _backend: DashboardBackend;
  private readonly _interfaces: () => Record<string, InterfaceAddress[] | undefined>;
  private _handle: DashboardServerHandle | null = null;
  private _status: LanStatus = OFF;
  private _busy: Promise<unknown> = Promise.resolve();
  private readonly _onDidChange = new Emitter<LanStatus>();
  readonly onDidChange = this._onDidChange.event;

  constructor(backend: DashboardBackend, interfaces: () => Record<string, InterfaceAddress[] | undefined>) {
    this._backend = backend;
    this._interfaces = interfaces;
  }

  status(): LanStatus {
    return this._status;
  }

  private _serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this._busy.then(fn, fn);
    this._busy = next.catch(() => {});
    return next;
  }

  start(options: { host?: string; port?: number } = {}): Promise<LanStatus> {
    return this._serialize(async () => {
      const host = options.host ?? '127.0.0.1';
      if (!allowedHosts(this._interfaces()).has(host))
        throw new IpcError('VALIDATION_ERROR', `${host} is not an address of this machine`);
      if (this._handle) await this._stopNow();
      try {
        const handle = await this._backend.start({ host, port: options.port });
        this._handle = handle;
        const token = await this._backend.issuePairingToken();
        const pairUrl = `${handle.url}#pair=${encodeURIComponent(token)}`;
        let qr: string[] | null = null;
        try {
          qr = qrRows(encodeQr(pairUrl));
        } catch {
          qr = null; // too long for the encoder: the URL and token are still shown as text
        }
        this._set({
          running: true,
          url: handle.url,
          host: handle.host,
          port: handle.port,
          token,
          qr,
          started_at: new Date().toISOString(),
          error: null,
        });
      } catch (error) {
        if (this._handle) await this._stopNow();
        this._set({ ...OFF, error: (error as Error).message });
        throw error;
      }
      return this._status;
    });
  }

  stop(): Promise<LanStatus> {
    return this._serialize(async () => {
      await this._stopNow();
      this._set(OFF);
      return this._status;
    });
  }

  private async _stopNow(): Promise<void> {
    const handle = this._handle;
    this._handle = null;
    if (handle) await handle.close();
  }

  private _set(status: LanStatus): void {
    this._status = status;
    this._onDidChange.fire(status);
  }

  dispose(): Promise<void> {
    return this.stop().then(() => this._onDidChange.dispose());
  }
}
