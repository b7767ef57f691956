// The output spool's writer, on the thread that reads the PTYs (spool-format.ts has the format,
// ingester.ts the reader that stores it in SQLite). Appending to a file is what the live path does
// instead of waiting for SQLite: a write() into the page cache, batched every few ms. A kill -9 keeps
// what was written (the OS has it); the next start stores it.
//
// Also the source of the not-yet-stored tail for history reads (pendingOps): records written but not
// yet confirmed by the ingester are read back from their segment; records not yet written are in memory.
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { decodeRecords, encodeRecord, runDir, type SpoolRecord, segmentName } from './spool-format.ts';
import { type LoggerLike, silentLogger } from './types.ts';

export interface OutputSpoolOptions {
  /** `<db>-spool`. */
  dir: string;
  /** This process's run directory name (spool-format.ts runName). */
  run: string;
  /** A new segment file past this many bytes (segments are deleted once stored). */
  segmentBytes?: number;
  /** Longest a record waits in memory before it is written (ms). */
  writeMs?: number;
  /** Queued bytes that trigger a write at once. */
  writeBytes?: number;
  /** While writes fail: memory kept for output beyond this is dropped oldest-first behind gap records. */
  maxBufferedBytes?: number;
  /** Records up to (segment, offset) are on disk: what the ingester may read. */
  onWritten(segment: number, offset: number): void;
  /** Output through `seq` of a session is in the spool file (survives a kill -9 of this process). */
  onOutputWritten?(sessionId: string, seq: number): void;
  /** A write failed (disk full, I/O): the caller pauses and retries with `write()`. */
  onError(error: unknown): void;
  logger?: LoggerLike;
}

/** What history shows of a session that is not in SQLite yet, in order. */
export type PendingOp =
  | {
      kind: 'row';
      seq_start: number;
      seq_end: number;
      at: string;
      data: string;
      gap: boolean;
      raw_bytes: number;
    }
  /** Continues the output before it (a released tail). */
  | { kind: 'append'; data: string }
  /** The output so far ends with `removed`: it becomes `insert` (an amended secret). */
  | { kind: 'amend'; removed: string; insert: string };

export interface SessionLoss {
  seq_start: number;
  seq_end: number;
  chunks: number;
  bytes: number;
}

interface Written {
  segment: number;
  offset: number;
  length: number;
  session: string;
  kind: SpoolRecord['k'];
  /** Last output seq in the record (output records only). */
  seqEnd?: number;
}

/** Records merged into one while queued, at most this many UTF-16 chars (rows are cut at ~32 KiB). */
const MAX_RECORD_CHARS = 64 * 1024;

export class OutputSpool {
  private readonly _o: Required<Omit<OutputSpoolOptions, 'logger' | 'onOutputWritten'>> &
    Pick<OutputSpoolOptions, 'onOutputWritten'> & { logger: LoggerLike };
  private readonly _dir: string;
  private _queue: SpoolRecord[] = [];
  private _queueBytes = 0;
  private _written: Written[] = [];
  private _writtenHead = 0;
  private _segment = 0;
  private _segmentOffset = 0;
  private _fd: number | null = null;
  private readonly _readFds = new Map<number, number>();
  private _timer: NodeJS.Timeout | undefined;
  private _immediate: NodeJS.Immediate | undefined;
  private _failing = false;
  private _closed = false;
  droppedChunks = 0;
  droppedBytes = 0;

  constructor(options: OutputSpoolOptions) {
    this._o = {
      segmentBytes: 4 * 1024 * 1024,
      writeMs: 20,
      writeBytes: 256 * 1024,
      maxBufferedBytes: 16 * 1024 * 1024,
      logger: silentLogger,
      ...options,
    };
    this._dir = runDir(options.dir, options.run);
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    mkdirSync(this._dir, { recursive: true, mode: 0o700 });
  }

  get runDir(): string {
    return this._dir;
  }
  /** Bytes (UTF-16 chars, approximately) queued in memory, not yet written. */
  get bufferedBytes(): number {
    return this._queueBytes;
  }
  /** Where the next record goes (what "everything written so far" means to the ingester). */
  get position(): { segment: number; offset: number } {
    return { segment: this._segment, offset: this._segmentOffset };
  }
  get failing(): boolean {
    return this._failing;
  }

  enqueue(record: SpoolRecord): void {
    if (this._closed) return;
    const last = this._queue[this._queue.length - 1];
    let added = sizeOf(record);
    // Consecutive output of one session merges into one record: fewer records, fewer rows.
    if (
      record.k === 'o' &&
      last?.k === 'o' &&
      last.s === record.s &&
      last.b + 1 === record.a &&
      last.data.length + record.data.length <= MAX_RECORD_CHARS
    ) {
      last.b = record.b;
      last.r += record.r;
      last.t = record.t;
      last.data += record.data;
      added = record.data.length;
    } else {
      this._queue.push(record);
    }
    this._queueBytes += added;
    if (this._failing) {
      this._boundMemory();
      return;
    }
    // A burst that does not yield (many chunks in one turn of the event loop) is written at once past
    // 4× writeBytes: memory stays bounded without waiting for anything but a write() to the page cache.
    if (this._queueBytes >= 4 * this._o.writeBytes) this.write();
    else if (this._queueBytes >= this._o.writeBytes)
      this._immediate ??= setImmediate(() => this._writeSoon());
    else if (!this._timer) {
      this._timer = setTimeout(() => this._writeSoon(), this._o.writeMs);
      this._timer.unref?.();
    }
  }

  private _writeSoon(): void {
    this._clearTimers();
    if (!this._failing) this.write();
  }

  private _clearTimers(): void {
    if (this._timer) clearTimeout(this._timer);
    this._timer = undefined;
    if (this._immediate) clearImmediate(this._immediate);
    this._immediate = undefined;
  }

  /**
   * Writes the queue to disk (synchronous: a write() into the page cache). On a failure (disk full…)
   * the records that fit are kept on disk, the file is cut back to the last whole record, the rest
   * stays queued and `onError` is called; the next call retries — so a disk with a little room left
   * takes a little more each time. true when the queue is empty afterwards.
   */
  write(): boolean {
    this._clearTimers();
    if (this._closed) return this._queue.length === 0;
    let done = 0;
    try {
      while (done < this._queue.length) {
        if (this._fd === null || this._segmentOffset >= this._o.segmentBytes) this._openSegment();
        // Encode up to ~writeBytes, within the segment.
        const buffers: Buffer[] = [];
        const meta: Written[] = [];
        let bytes = 0;
        let i = done;
        for (; i < this._queue.length; i++) {
          const rec = this._queue[i] as SpoolRecord;
          const buf = encodeRecord(rec);
          meta.push({
            segment: this._segment,
            offset: this._segmentOffset + bytes,
            length: buf.length,
            session: rec.s,
            kind: rec.k,
            ...(rec.k === 'o' ? { seqEnd: rec.b } : {}),
          });
          buffers.push(buf);
          bytes += buf.length;
          if (bytes >= this._o.writeBytes || this._segmentOffset + bytes >= this._o.segmentBytes) {
            i++;
            break;
          }
        }
        const all = buffers.length === 1 ? (buffers[0] as Buffer) : Buffer.concat(buffers, bytes);
        let off = 0;
        try {
          // Positional writes: after a torn write is cut off (below), the next one lands right there.
          while (off < all.length)
            off += writeSync(this._fd as number, all, off, all.length - off, this._segmentOffset + off);
        } catch (error) {
          // Keep the whole records that made it; cut the torn one off the file.
          let kept = 0;
          let keptBytes = 0;
          while (kept < meta.length && keptBytes + (meta[kept] as Written).length <= off) {
            keptBytes += (meta[kept] as Written).length;
            kept++;
          }
          try {
            ftruncateSync(this._fd as number, this._segmentOffset + keptBytes);
          } catch {}
          this._commitWritten(meta.slice(0, kept), keptBytes);
          done += kept;
          throw error;
        }
        this._commitWritten(meta, bytes);
        done = i;
      }
      this._dropDone(done);
      if (this._failing) this._failing = false;
      return true;
    } catch (error) {
      this._dropDone(done);
      this._failing = true;
      this._boundMemory();
      this._o.onError(error);
      return false;
    }
  }

  private _commitWritten(meta: Written[], bytes: number): void {
    if (meta.length === 0) return;
    for (const m of meta) this._written.push(m);
    this._segmentOffset += bytes;
    this._o.onWritten(this._segment, this._segmentOffset);
    if (this._o.onOutputWritten) {
      const through = new Map<string, number>();
      for (const m of meta) if (m.seqEnd !== undefined) through.set(m.session, m.seqEnd);
      for (const [session, seq] of through) this._o.onOutputWritten(session, seq);
    }
  }

  private _dropDone(done: number): void {
    if (done === 0) return;
    for (let k = 0; k < done; k++) this._queueBytes -= sizeOf(this._queue[k] as SpoolRecord);
    this._queue = this._queue.slice(done);
    if (this._queue.length === 0) this._queueBytes = 0;
  }

  private _openSegment(): void {
    if (this._fd !== null) {
      closeSync(this._fd);
      this._fd = null;
    }
    const next = this._segment + 1;
    this._fd = openSync(path.join(this._dir, segmentName(next)), 'wx', 0o600);
    this._segment = next;
    this._segmentOffset = 0;
  }

  /** While writes fail, memory stays bounded: the oldest output records become gap records. */
  private _boundMemory(): void {
    if (this._queueBytes <= this._o.maxBufferedBytes) return;
    const kept: SpoolRecord[] = [];
    const lastGap = new Map<string, Extract<SpoolRecord, { k: 'g' }>>();
    for (const r of this._queue) {
      if (this._queueBytes > this._o.maxBufferedBytes && r.k === 'o') {
        this._queueBytes -= sizeOf(r);
        this.droppedChunks += r.b - r.a + 1;
        this.droppedBytes += r.r;
        const gap = lastGap.get(r.s);
        if (gap && gap.b + 1 === r.a) {
          gap.b = r.b;
          gap.r += r.r;
          gap.t = r.t;
          continue;
        }
        const marker: SpoolRecord = { k: 'g', s: r.s, a: r.a, b: r.b, r: r.r, t: r.t };
        this._queueBytes += sizeOf(marker);
        lastGap.set(r.s, marker);
        kept.push(marker);
        continue;
      }
      if (r.k === 'g') lastGap.set(r.s, r);
      else if (r.k === 'o' || r.k === 'c') lastGap.delete(r.s);
      kept.push(r);
    }
    this._queue = kept;
  }

  /** The ingester stored everything before (segment, offset) of this run. */
  confirm(segment: number, offset: number): void {
    let h = this._writtenHead;
    while (h < this._written.length) {
      const w = this._written[h] as Written;
      if (w.segment > segment || (w.segment === segment && w.offset >= offset)) break;
      h++;
    }
    this._writtenHead = h;
    if (h > 1024 && h * 2 > this._written.length) {
      this._written = this._written.slice(h);
      this._writtenHead = 0;
    }
  }

  /** The ingester is done with a segment: delete it (never the one being written). */
  releaseSegment(segment: number): void {
    if (segment >= this._segment) return;
    const fd = this._readFds.get(segment);
    if (fd !== undefined) {
      closeSync(fd);
      this._readFds.delete(segment);
    }
    try {
      unlinkSync(path.join(this._dir, segmentName(segment)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this._o.logger.warn('spool segment could not be deleted', { segment, error: String(error) });
    }
  }

  /**
   * Output of a session not stored yet, in order: written records read back, then queued ones.
   * `storedThrough`: the ingester's progress as the caller read it from the database (records before
   * it are stored, whatever this thread has heard so far).
   */
  pendingOps(
    sessionId: string,
    storedThrough: { segment: number; offset: number } | null = null,
  ): PendingOp[] {
    const ops: PendingOp[] = [];
    for (let h = this._writtenHead; h < this._written.length; h++) {
      const w = this._written[h] as Written;
      if (w.session !== sessionId || w.kind === 'e' || w.kind === 's') continue;
      if (
        storedThrough &&
        (w.segment < storedThrough.segment ||
          (w.segment === storedThrough.segment && w.offset < storedThrough.offset))
      )
        continue;
      const rec = this._readBack(w);
      if (rec) toOps(rec, ops);
    }
    for (const rec of this._queue) if (rec.s === sessionId) toOps(rec, ops);
    return ops;
  }

  /** Sessions with output not confirmed stored yet. */
  pendingSessions(): Set<string> {
    const ids = new Set<string>();
    for (let h = this._writtenHead; h < this._written.length; h++)
      ids.add((this._written[h] as Written).session);
    for (const rec of this._queue) ids.add(rec.s);
    return ids;
  }

  private _readBack(w: Written): SpoolRecord | null {
    let fd = this._readFds.get(w.segment);
    try {
      if (fd === undefined) {
        fd = openSync(path.join(this._dir, segmentName(w.segment)), 'r');
        this._readFds.set(w.segment, fd);
      }
      const buf = Buffer.allocUnsafe(w.length);
      const n = readSync(fd, buf, 0, w.length, w.offset);
      const { records } = decodeRecords(buf, 0, n);
      return records[0]?.record ?? null;
    } catch (error) {
      this._o.logger.warn('spool record could not be read back', {
        segment: w.segment,
        error: String(error),
      });
      return null;
    }
  }

  /** What is still only in memory, per session (at close while writes fail: output that is lost). */
  unwritten(): Map<string, SessionLoss> {
    const lost = new Map<string, SessionLoss>();
    for (const r of this._queue) {
      if (r.k !== 'o' && r.k !== 'g') continue;
      const l = lost.get(r.s);
      if (l) {
        l.seq_end = r.b;
        l.chunks += r.b - r.a + 1;
        l.bytes += r.r;
      } else lost.set(r.s, { seq_start: r.a, seq_end: r.b, chunks: r.b - r.a + 1, bytes: r.r });
    }
    return lost;
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._clearTimers();
    if (this._fd !== null) closeSync(this._fd);
    this._fd = null;
    for (const fd of this._readFds.values()) closeSync(fd);
    this._readFds.clear();
  }
}

function sizeOf(r: SpoolRecord): number {
  return 64 + ('data' in r ? r.data.length : 0) + (r.k === 'a' ? r.removed.length : 0);
}

function toOps(rec: SpoolRecord, ops: PendingOp[]): void {
  if (rec.k === 'o')
    ops.push({
      kind: 'row',
      seq_start: rec.a,
      seq_end: rec.b,
      at: new Date(rec.t).toISOString(),
      data: rec.data,
      gap: false,
      raw_bytes: rec.r,
    });
  else if (rec.k === 'g')
    ops.push({
      kind: 'row',
      seq_start: rec.a,
      seq_end: rec.b,
      at: new Date(rec.t).toISOString(),
      data: '',
      gap: true,
      raw_bytes: rec.r,
    });
  else if (rec.k === 'c') ops.push({ kind: 'append', data: rec.data });
  else if (rec.k === 'a') ops.push({ kind: 'amend', removed: rec.removed, insert: rec.data });
}
