import {
  IPC_BATCH_INTERVAL_MS,
  IPC_BATCH_MAX_BYTES,
  type IpcBatch,
  type IpcEventItem,
} from '../../src-shared/ipc.ts';

export interface TimerLike {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerLike = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Rough wire size of an item: output dominates, so count its characters; the rest is small JSON. */
export function itemSize(item: IpcEventItem): number {
  if (item.kind === 'output') return item.data.length + 64;
  return JSON.stringify(item).length;
}

/**
 * One per window: coalesces everything main sends to that renderer into batches, cut every
 * `intervalMs` or as soon as `maxBytes` are queued, so a chatty agent costs ~60 IPC messages a
 * second, not thousands. Output order is preserved across kinds (status after the output it follows).
 * Flow control is not done here but by acks (see TerminalAttachments): this only bounds message rate.
 */
export class WindowEventChannel {
  private _items: IpcEventItem[] = [];
  private _bytes = 0;
  private _batch = 0;
  private _timer: unknown = null;
  private _disposed = false;
  private readonly _send: (batch: IpcBatch) => void;
  private readonly _intervalMs: number;
  private readonly _maxBytes: number;
  private readonly _timers: TimerLike;

  constructor(
    send: (batch: IpcBatch) => void,
    options: { intervalMs?: number; maxBytes?: number; timers?: TimerLike } = {},
  ) {
    this._send = send;
    this._intervalMs = options.intervalMs ?? IPC_BATCH_INTERVAL_MS;
    this._maxBytes = options.maxBytes ?? IPC_BATCH_MAX_BYTES;
    this._timers = options.timers ?? realTimers;
  }

  get pendingItems(): number {
    return this._items.length;
  }

  get batchesSent(): number {
    return this._batch;
  }

  push(item: IpcEventItem): void {
    if (this._disposed) return;
    this._items.push(item);
    this._bytes += itemSize(item);
    if (this._bytes >= this._maxBytes) {
      this.flush();
      return;
    }
    if (this._timer === null) this._timer = this._timers.setTimeout(() => this.flush(), this._intervalMs);
  }

  flush(): void {
    if (this._timer !== null) {
      this._timers.clearTimeout(this._timer);
      this._timer = null;
    }
    if (this._disposed || this._items.length === 0) return;
    const items = this._items;
    this._items = [];
    this._bytes = 0;
    this._batch += 1;
    try {
      this._send({ batch: this._batch, items });
    } catch {
      // The window went away between the check and the send: nothing more will reach it.
      this.dispose();
    }
  }

  dispose(): void {
    if (this._timer !== null) this._timers.clearTimeout(this._timer);
    this._timer = null;
    this._disposed = true;
    this._items = [];
  }
}
