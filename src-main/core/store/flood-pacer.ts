// When the persistence worker may take its next step. Storing and indexing output is work the live
// stream does not wait for (the spool has every byte, and history reads serve the spool's tail), so
// while output floods in, the worker gives the PTY host, the server and the agent the machine: after
// each step it rests a multiple of the step's time. On two cores a worker storing a flood at full
// speed held the live stream back by about a third (bench/ws-throughput.bench.ts); once the flood
// stops, it catches up at full speed.

export interface FloodPacerOptions {
  /** Incoming spool bytes per second above which output is a flood. */
  floodBytesPerSecond: number;
  /** During a flood, rest this multiple of each step's time (4: at most 20 % of a core). */
  restFactor: number;
  /** Incoming bytes are counted over this window (ms). */
  windowMs: number;
}

export const DEFAULT_FLOOD_PACING: FloodPacerOptions = {
  floodBytesPerSecond: 2 * 1024 * 1024,
  restFactor: 4,
  windowMs: 1000,
};

export class FloodPacer {
  private readonly _o: FloodPacerOptions;
  /** [time, bytes] of spool writes in the window. */
  private readonly _incoming: [number, number][] = [];
  private _incomingBytes = 0;
  private _nextAt = 0;

  constructor(options: Partial<FloodPacerOptions> = {}) {
    this._o = { ...DEFAULT_FLOOD_PACING, ...options };
  }

  /** Bytes the live path wrote to the spool now. */
  noteIncoming(bytes: number, now: number): void {
    if (bytes <= 0) return;
    this._incoming.push([now, bytes]);
    this._incomingBytes += bytes;
  }

  flooding(now: number): boolean {
    while (this._incoming.length > 0 && now - (this._incoming[0] as [number, number])[0] > this._o.windowMs)
      this._incomingBytes -= (this._incoming.shift() as [number, number])[1];
    return this._incomingBytes > (this._o.floodBytesPerSecond * this._o.windowMs) / 1000;
  }

  /** A step that took `tookMs` ended now: during a flood the next waits restFactor × tookMs. */
  stepTook(tookMs: number, now: number): void {
    this._nextAt = this.flooding(now) ? now + tookMs * this._o.restFactor : 0;
  }

  /** How long to wait before the next step (0: now). A flood that stopped ends the rest at once. */
  waitMs(now: number): number {
    if (this._nextAt <= now) return 0;
    if (!this.flooding(now)) {
      this._nextAt = 0;
      return 0;
    }
    return this._nextAt - now;
  }
}

/** Spool bytes between two written positions of the writer (a new segment counts from its start). */
export function writtenDelta(
  before: { segment: number; offset: number } | null,
  after: { segment: number; offset: number },
): number {
  if (!before || after.segment !== before.segment) return after.offset;
  return Math.max(0, after.offset - before.offset);
}
