/**
 * Bookkeeping for one terminal stream: output chunks carry `seq` (1, 2, 3… per session); a snapshot
 * stands for everything up to its `seq`. Whatever is written to the screen advances `lastSeq`, so a
 * reconnect resumes from exactly there and a replayed chunk is never written twice.
 */
export type OutputVerdict = 'write' | 'duplicate' | 'gap';

export class OutputSequencer {
  private _lastSeq: number;
  private _awaitingResync = false;

  constructor(lastSeq = 0) {
    this._lastSeq = lastSeq;
  }

  get lastSeq(): number {
    return this._lastSeq;
  }

  /** True between detecting a gap and the resume/snapshot that repairs it. */
  get awaitingResync(): boolean {
    return this._awaitingResync;
  }

  /**
   * Decide what to do with output `seq`. `write` advances lastSeq (the caller must write it);
   * `duplicate` is already on screen; `gap` means chunks are missing and the caller must ask to resume
   * from `lastSeq` (only the first chunk after the hole reports `gap`, the rest are dropped as duplicates
   * of what the resume will resend).
   */
  accept(seq: number): OutputVerdict {
    if (seq <= this._lastSeq) return 'duplicate';
    if (seq === this._lastSeq + 1) {
      this._lastSeq = seq;
      this._awaitingResync = false;
      return 'write';
    }
    if (this._awaitingResync) return 'duplicate';
    this._awaitingResync = true;
    return 'gap';
  }

  /** A snapshot replaces the screen as of `seq`; output continues at seq + 1. */
  snapshot(seq: number): void {
    this._lastSeq = seq;
    this._awaitingResync = false;
  }

  /** The connection dropped: whatever resync was pending will be redone by the next resume. */
  reconnecting(): void {
    this._awaitingResync = false;
  }
}

/**
 * Flow-control acks (VS Code's CharCountAckSize): count characters the terminal has parsed and report
 * them in steps, so the server can pause a flooding agent until the screen catches up.
 */
export const ACK_STEP_CHARS = 5000;

export class AckCounter {
  private _unacked = 0;
  private readonly _step: number;
  private readonly _send: (chars: number) => void;

  constructor(send: (chars: number) => void, step = ACK_STEP_CHARS) {
    this._send = send;
    this._step = step;
  }

  parsed(chars: number): void {
    this._unacked += chars;
    if (this._unacked >= this._step) {
      const chars = this._unacked;
      this._unacked = 0;
      this._send(chars);
    }
  }

  /** After a reconnect the server has cleared its counter; so do we. */
  reset(): void {
    this._unacked = 0;
  }
}

/** Exponential backoff with full jitter, capped; `random` is injectable for tests. */
export function backoffDelay(
  attempt: number,
  options: { baseMs?: number; maxMs?: number; random?: () => number } = {},
): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 15_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 20));
  // Keep at least half the ceiling so a burst of clients does not reconnect in lock-step at 0 ms.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
