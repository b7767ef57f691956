import type { OutputChunk } from '../../../src-shared/session.ts';
import type { OutputAttachment, OutputConsumer } from './types.ts';

/**
 * One session's output path: PTY data → batches (a few ms, VS Code's TerminalDataBufferer) with a
 * per-session seq → bounded ring buffer (replay) → consumers. Flow control after VS Code: every
 * flow-controlled consumer counts unacked chars; past the high watermark the PTY is paused, below the
 * low watermark (for all of them) it resumes. Non-flow-controlled consumers never slow the PTY.
 *
 * Nothing is dropped between PTY and consumers: the pipeline hands every batch to every consumer
 * synchronously; what bounds memory is that a lagging flow-controlled consumer stops the source.
 * Sizes count UTF-16 chars (string length), like xterm.js's watermarks.
 */
export interface OutputPipelineOptions {
  sessionId: string;
  /** Batch window (ms). 0 = emit every PTY read on its own. */
  batchMs: number;
  /** Cut a batch early once it holds this many chars. */
  maxBatchChars: number;
  /** Ring buffer capacity in chars. */
  ringChars: number;
  highWatermark: number;
  lowWatermark: number;
  /** Seq of the first chunk (a session continued after a restart goes on from its last seq). Default 1. */
  firstSeq?: number;
  pause(): void;
  resume(): void;
  /** Every batch, before consumers (the manager's global onOutput). */
  onChunk(chunk: OutputChunk): void;
  onConsumerError(error: unknown): void;
}

/** Output this small is an echo or a cursor blink, not a flood: it never waits for a batch window. */
const ECHO_CHARS = 256;
/** Echo-sized batches go out at most this often (ms). */
const ECHO_SPACING_MS = 1;

interface ConsumerEntry {
  consumer: OutputConsumer;
  unacked: number;
}

export class OutputPipeline {
  private readonly _o: OutputPipelineOptions;
  private _pending: string[] = [];
  private _pendingChars = 0;
  private _timer: NodeJS.Timeout | undefined;
  private _lastFlushAt = Number.NEGATIVE_INFINITY;
  private _lastFlushChars = 0;
  private _seq = 0;
  private _totalChars = 0;
  private _ring: OutputChunk[] = [];
  private _ringHead = 0;
  private _ringChars = 0;
  private _consumers = new Set<ConsumerEntry>();
  private _paused = false;
  private _closed = false;

  constructor(options: OutputPipelineOptions) {
    this._o = options;
    this._seq = (options.firstSeq ?? 1) - 1;
  }

  get lastSeq(): number {
    return this._seq;
  }
  get totalChars(): number {
    return this._totalChars;
  }
  get paused(): boolean {
    return this._paused;
  }
  get bufferedChunks(): number {
    return this._ring.length - this._ringHead;
  }
  get bufferedChars(): number {
    return this._ringChars;
  }

  push(data: string): void {
    if (this._closed || data.length === 0) return;
    this._pending.push(data);
    this._pendingChars += data.length;
    // Leading edge: the first data after a quiet period goes out at once, and so does an echo-sized
    // read after an echo-sized batch (keys typed, or sent, back to back: each echo would otherwise wait
    // out the window the previous one opened). Data following a bigger batch within the window is
    // batched (throughput, fewer messages).
    if (
      this._o.batchMs <= 0 ||
      this._pendingChars >= this._o.maxBatchChars ||
      (this._timer === undefined && this._leadingEdge(performance.now() - this._lastFlushAt))
    ) {
      this.flush();
      return;
    }
    // Trailing edge: at most one batch window after the previous emission, not after this data (an
    // echo held only by the 1 ms spacing waits out that millisecond, not the window).
    const window = this._echoSized() ? ECHO_SPACING_MS : this._o.batchMs;
    this._timer ??= setTimeout(
      () => {
        this._timer = undefined;
        this.flush();
      },
      Math.max(0, this._lastFlushAt + window - performance.now()),
    );
  }

  private _leadingEdge(sinceFlushMs: number): boolean {
    if (sinceFlushMs >= this._o.batchMs) return true;
    // Echo after echo, at most one per millisecond (a program writing many tiny pieces is batched).
    return sinceFlushMs >= ECHO_SPACING_MS && this._echoSized();
  }

  private _echoSized(): boolean {
    return this._pendingChars <= ECHO_CHARS && this._lastFlushChars <= ECHO_CHARS;
  }

  /** Emit what is pending now (before resize, before exit, before a snapshot). */
  flush(): void {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    if (this._pendingChars === 0) return;
    this._lastFlushAt = performance.now();
    this._lastFlushChars = this._pendingChars;
    const data = this._pending.length === 1 ? (this._pending[0] as string) : this._pending.join('');
    this._pending = [];
    this._pendingChars = 0;
    this._emit({ session_id: this._o.sessionId, seq: ++this._seq, data, at: Date.now() });
  }

  /**
   * A chunk batched and numbered elsewhere (the PTY host): remember and fan out as is. Chunks must come
   * in seq order; one at or below the last seq is a duplicate (a replay after a reconnect) and ignored.
   */
  accept(chunk: OutputChunk): void {
    if (this._closed || chunk.seq <= this._seq) return;
    this._seq = chunk.seq;
    this._emit(chunk);
  }

  private _emit(chunk: OutputChunk): void {
    const data = chunk.data;
    this._totalChars += data.length;
    this._remember(chunk);
    try {
      this._o.onChunk(chunk);
    } catch (error) {
      this._o.onConsumerError(error);
    }
    for (const entry of this._consumers) {
      if (entry.consumer.flowControlled) entry.unacked += data.length;
      try {
        entry.consumer.onData(chunk);
      } catch (error) {
        this._o.onConsumerError(error);
      }
    }
    this._updateFlow();
  }

  attach(consumer: OutputConsumer): OutputAttachment {
    const entry: ConsumerEntry = { consumer, unacked: 0 };
    this._consumers.add(entry);
    return {
      ack: (chars: number) => {
        if (!this._consumers.has(entry) || !(chars > 0)) return;
        entry.unacked = Math.max(0, entry.unacked - chars);
        this._updateFlow();
      },
      dispose: () => {
        if (this._consumers.delete(entry)) this._updateFlow();
      },
    };
  }

  /** Chunks with seq > afterSeq, or null when some of them already left the ring. */
  replay(afterSeq: number): OutputChunk[] | null {
    if (afterSeq >= this._seq) return [];
    const first = this._ring[this._ringHead];
    if (!first || first.seq > afterSeq + 1) return null;
    const out: OutputChunk[] = [];
    for (let i = this._ringHead; i < this._ring.length; i++) {
      const chunk = this._ring[i] as OutputChunk;
      if (chunk.seq > afterSeq) out.push(chunk);
    }
    return out;
  }

  /** Stop accepting data and release the PTY (the process is gone: never keep it paused). */
  close(): void {
    this.flush();
    this._closed = true;
    if (this._paused) {
      this._paused = false;
      this._o.resume();
    }
  }

  private _remember(chunk: OutputChunk): void {
    this._ring.push(chunk);
    this._ringChars += chunk.data.length;
    // Keep at least the newest chunk even when it alone exceeds the capacity.
    while (this._ringChars > this._o.ringChars && this._ring.length - this._ringHead > 1) {
      const old = this._ring[this._ringHead] as OutputChunk;
      this._ring[this._ringHead] = undefined as unknown as OutputChunk;
      this._ringHead++;
      this._ringChars -= old.data.length;
    }
    if (this._ringHead > 1024 && this._ringHead * 2 > this._ring.length) {
      this._ring = this._ring.slice(this._ringHead);
      this._ringHead = 0;
    }
  }

  private _updateFlow(): void {
    if (this._closed) return;
    let maxUnacked = 0;
    for (const entry of this._consumers)
      if (entry.consumer.flowControlled && entry.unacked > maxUnacked) maxUnacked = entry.unacked;
    if (!this._paused && maxUnacked > this._o.highWatermark) {
      this._paused = true;
      this._o.pause();
    } else if (this._paused && maxUnacked < this._o.lowWatermark) {
      this._paused = false;
      this._o.resume();
    }
  }
}
