import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import type { OutputChunk } from '../../../src-shared/session.ts';

export interface RetentionOptions {
  /** The session's spool file (created on first use, 0600, deleted once everything in it is acked). */
  spoolPath: string;
  /** Unacked output kept in memory before the oldest goes to the spool, in chars. */
  memoryChars: number;
  /** Spool size past which the oldest output is dropped (recorded as a gap), in bytes. */
  maxSpoolBytes: number;
}

/**
 * The output of one session the core has not yet confirmed as stored. While the core is attached it
 * acks as it persists, so this stays small; while it is away (a crash, a restart, an upgrade) the host
 * keeps everything here — in memory up to `memoryChars`, then in a spool file — and the next core
 * takes it from here with contiguous seqs. Beyond `maxSpoolBytes` the oldest output is dropped and
 * `droppedThrough` says up to which seq (the core records the gap).
 */
export class OutputRetention {
  private readonly _o: RetentionOptions;
  private _memory: OutputChunk[] = [];
  private _memoryChars = 0;
  private _spoolBytes = 0;
  private _spoolFirst = 0;
  private _spoolLast = 0;
  private _acked = 0;
  /** Highest seq dropped for lack of room (0: none). */
  droppedThrough = 0;

  constructor(options: RetentionOptions) {
    this._o = options;
  }

  get retainedChars(): number {
    return this._memoryChars + this._spoolBytes;
  }

  append(chunk: OutputChunk): void {
    if (chunk.seq <= this._acked) return;
    this._memory.push(chunk);
    this._memoryChars += chunk.data.length;
    if (this._memoryChars > this._o.memoryChars) this._spill();
  }

  /** The core stored everything up to `seq`. */
  ack(seq: number): void {
    if (seq <= this._acked) return;
    this._acked = seq;
    let drop = 0;
    while (drop < this._memory.length && this._memory[drop]!.seq <= seq) {
      this._memoryChars -= this._memory[drop]!.data.length;
      drop++;
    }
    if (drop > 0) this._memory = this._memory.slice(drop);
    if (this._spoolLast > 0 && seq >= this._spoolLast) this._clearSpool();
  }

  /** Every retained chunk after `afterSeq`, oldest first. */
  readAfter(afterSeq: number): OutputChunk[] {
    const out: OutputChunk[] = [];
    if (this._spoolLast > afterSeq && existsSync(this._o.spoolPath)) {
      for (const line of readFileSync(this._o.spoolPath, 'utf8').split('\n')) {
        if (line.length === 0) continue;
        const chunk = JSON.parse(line) as OutputChunk;
        if (chunk.seq > afterSeq && chunk.seq > this._acked) out.push(chunk);
      }
    }
    for (const chunk of this._memory) if (chunk.seq > afterSeq) out.push(chunk);
    return out;
  }

  dispose(): void {
    this._clearSpool();
    this._memory = [];
    this._memoryChars = 0;
  }

  /** Oldest half of memory → the spool (one append), bounded by maxSpoolBytes. */
  private _spill(): void {
    let moved = 0;
    const target = this._o.memoryChars / 2;
    let lines = '';
    let n = 0;
    while (n < this._memory.length && this._memoryChars - moved > target) {
      const chunk = this._memory[n]!;
      lines += `${JSON.stringify({ session_id: chunk.session_id, seq: chunk.seq, at: chunk.at, data: chunk.data })}\n`;
      moved += chunk.data.length;
      n++;
    }
    if (n === 0) return;
    const first = this._memory[0]!.seq;
    const last = this._memory[n - 1]!.seq;
    this._memory = this._memory.slice(n);
    this._memoryChars -= moved;
    const bytes = Buffer.byteLength(lines);
    if (this._spoolBytes + bytes > this._o.maxSpoolBytes) {
      // Over the cap: the oldest output goes (the spool restarts with this batch).
      if (this._spoolLast > 0) this.droppedThrough = Math.max(this.droppedThrough, this._spoolLast);
      this._clearSpool();
    }
    try {
      appendFileSync(this._o.spoolPath, lines, { mode: 0o600 });
      if (this._spoolFirst === 0) this._spoolFirst = first;
      this._spoolLast = last;
      this._spoolBytes += bytes;
    } catch {
      // No room on disk: the chunks are lost; say so rather than pretend.
      this.droppedThrough = Math.max(this.droppedThrough, last);
    }
  }

  private _clearSpool(): void {
    if (this._spoolLast > 0) rmSync(this._o.spoolPath, { force: true });
    this._spoolBytes = 0;
    this._spoolFirst = 0;
    this._spoolLast = 0;
  }
}
