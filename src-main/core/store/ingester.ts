// Spool → SQLite (spool-format.ts has the format, output-spool.ts the writer). Runs in the persistence
// worker on its own connection (ingest-worker.ts), or on the main thread in the in-process mode; the
// code is the same. Each step is one short BEGIN IMMEDIATE transaction of at most `sliceBytes` of
// spool: the rows, the session's last_seq and the run's progress commit together, so a crash neither
// loses nor duplicates output, and a nearly full disk takes what fits, a slice at a time.
import { closeSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { stripAnsi, stripPiece } from './ansi.ts';
import { enforceRetention, type RetentionLimits } from './retention.ts';
import { type OutputBatch, SessionStore } from './session-store.ts';
import { type SpoolRecord, segmentName } from './spool-format.ts';
import { type Cursor, findLeftoverRuns, readSlice } from './spool-reader.ts';
import { type LoggerLike, silentLogger } from './types.ts';

export interface IngesterOptions {
  /** A connection to the main database (the worker's own, or the main one in-process). */
  db: Database;
  spoolDir: string;
  /** The run this process writes (its written position arrives through noteWritten). */
  run: string;
  /** Rows are cut at about this many UTF-16 chars of data. */
  rowChars?: number;
  /** Spool bytes per transaction. */
  sliceBytes?: number;
  retention?: RetentionLimits | null;
  logger?: LoggerLike;
}

export interface StepResult {
  rows: number;
  /** Spool bytes consumed. */
  bytes: number;
  /** More is ready to be stored now. */
  more: boolean;
  /** Rows inserted (for onDidCommitOutput). */
  batches: OutputBatch[];
  /** The current run is stored through here (null: this step was a leftover run's). */
  position: { segment: number; offset: number } | null;
  /** Segments of the current run fully stored: the writer may delete them. */
  segmentsDone: number[];
}

interface OpenRow {
  session_id: string;
  seq_start: number;
  seq_end: number;
  raw_bytes: number;
  data: string;
  at: number;
}

const EMPTY: StepResult = { rows: 0, bytes: 0, more: false, batches: [], position: null, segmentsDone: [] };

export class Ingester {
  private readonly _db: Database;
  private readonly _store: SessionStore;
  private readonly _o: Required<Omit<IngesterOptions, 'db' | 'logger' | 'retention'>> & {
    logger: LoggerLike;
    retention: RetentionLimits | null;
  };
  private readonly _current: Cursor;
  private readonly _leftovers: Cursor[] = [];
  /** What the writer has on disk: segment and the offset written in it. */
  private _written = { segment: 0, offset: 0 };
  /** Unfinished escape sequences per session (stripPiece): rolled back with a failed transaction. */
  private _carries = new Map<string, string>();
  private _bytesSinceTotalCheck = 0;
  private readonly _progress: Statement;
  private readonly _dropProgress: Statement;
  private readonly _readProgress: Statement;
  private readonly _lastRows: Statement;
  private readonly _updateRow: Statement;
  private readonly _appendText: Statement;

  constructor(options: IngesterOptions) {
    this._db = options.db;
    this._o = {
      rowChars: 32 * 1024,
      sliceBytes: 128 * 1024,
      ...options,
      logger: options.logger ?? silentLogger,
      retention: options.retention ?? null,
    };
    this._store = new SessionStore(this._db);
    this._progress = this._db.prepare(`
      INSERT INTO output_spool_progress (run, segment, byte_offset, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(run) DO UPDATE SET segment = excluded.segment, byte_offset = excluded.byte_offset,
        updated_at = excluded.updated_at`);
    this._dropProgress = this._db.prepare('DELETE FROM output_spool_progress WHERE run = ?');
    this._readProgress = this._db.prepare(
      'SELECT segment, byte_offset AS offset FROM output_spool_progress WHERE run = ?',
    );
    this._lastRows = this._db.prepare(
      'SELECT id, data FROM session_output WHERE session_id = ? AND gap = 0 ORDER BY seq_start DESC LIMIT ?',
    );
    this._updateRow = this._db.prepare(
      'UPDATE session_output SET data = ?, text = ?, stored_bytes = ? WHERE id = ?',
    );
    this._appendText = this._db.prepare(`
      UPDATE session_output SET data = data || ?, text = text || ?, stored_bytes = stored_bytes + ?
      WHERE id = (SELECT id FROM session_output WHERE session_id = ? AND gap = 0 ORDER BY seq_start DESC LIMIT 1)`);
    this._current = {
      run: options.run,
      dir: path.join(options.spoolDir, options.run),
      segment: 1,
      offset: 0,
      leftover: false,
      fd: null,
    };
    const saved = this._readProgress.get(options.run) as { segment: number; offset: number } | undefined;
    if (saved) {
      // This run was stored through here before (the worker died; this is the in-process fallback).
      this._current.segment = saved.segment;
      this._current.offset = saved.offset;
    }
    this._leftovers.push(
      ...findLeftoverRuns(
        options.spoolDir,
        options.run,
        (run) => this._readProgress.get(run) as { segment: number; offset: number } | undefined,
      ),
    );
    if (this._leftovers.length > 0)
      this._o.logger.info('storing the spool of an earlier run', { runs: this._leftovers.map((c) => c.run) });
  }

  /** Leftover runs not yet stored. */
  get leftoverRuns(): number {
    return this._leftovers.length;
  }

  /** The writer has records on disk up to (segment, offset). */
  noteWritten(segment: number, offset: number): void {
    if (
      segment > this._written.segment ||
      (segment === this._written.segment && offset > this._written.offset)
    )
      this._written = { segment, offset };
  }

  /** Something is ready to be stored. */
  get ready(): boolean {
    if (this._leftovers.length > 0) return true;
    const c = this._current;
    return (
      this._written.segment > c.segment ||
      (this._written.segment === c.segment && this._written.offset > c.offset)
    );
  }

  /** The current run is stored through everything written (position == written). */
  get caughtUp(): boolean {
    return !this.ready;
  }

  /**
   * Stores up to `sliceBytes` of spool in one transaction. Throws what SQLite throws (the caller
   * pauses on SQLITE_FULL and the like, and retries the same step later: nothing advanced).
   */
  step(): StepResult {
    const cursor = this._leftovers[0] ?? this._current;
    const read = readSlice(cursor, this._written, this._o.sliceBytes, this._o.logger);
    if (read === null) return cursor.leftover ? this._finishLeftover(cursor) : EMPTY;
    const { records, end, segmentEnded } = read;
    const carries = new Map(this._carries);
    const batches: OutputBatch[] = [];
    let rows = 0;
    this._db
      .transaction(() => {
        const open = new Map<string, OpenRow>();
        const flush = (session: string) => {
          const row = open.get(session);
          if (!row) return null;
          open.delete(session);
          const batch = this._insertRow(row, carries);
          batches.push(batch);
          rows++;
          return batch;
        };
        for (const { record } of records) this._apply(record, open, flush, carries);
        for (const session of [...open.keys()]) flush(session);
        this._progress.run(
          cursor.run,
          segmentEnded ? cursor.segment + 1 : cursor.segment,
          segmentEnded ? 0 : end,
          new Date().toISOString(),
        );
      })
      .immediate();
    // Committed: advance.
    this._carries = carries;
    const bytes = end - cursor.offset;
    const segmentsDone: number[] = [];
    if (segmentEnded) {
      if (cursor.fd !== null) closeSync(cursor.fd);
      cursor.fd = null;
      if (cursor.leftover) rmSync(path.join(cursor.dir, segmentName(cursor.segment)), { force: true });
      else segmentsDone.push(cursor.segment);
      cursor.segment++;
      cursor.offset = 0;
    } else cursor.offset = end;
    this._retention(batches);
    return {
      rows,
      bytes,
      more: this.ready,
      batches,
      position: cursor.leftover ? null : { segment: cursor.segment, offset: cursor.offset },
      segmentsDone,
    };
  }

  /** A leftover run read to its end: its directory and progress row go. */
  private _finishLeftover(cursor: Cursor): StepResult {
    if (cursor.fd !== null) closeSync(cursor.fd);
    this._leftovers.shift();
    this._dropProgress.run(cursor.run);
    rmSync(cursor.dir, { recursive: true, force: true });
    this._o.logger.info('spool of an earlier run stored', { run: cursor.run });
    return { ...EMPTY, more: this.ready };
  }

  private _apply(
    record: SpoolRecord,
    open: Map<string, OpenRow>,
    flush: (session: string) => OutputBatch | null,
    carries: Map<string, string>,
  ): void {
    const s = record.s;
    switch (record.k) {
      case 's':
        this._store.insertSessionIfMissing(record.info);
        return;
      case 'o': {
        const row = open.get(s);
        if (row && row.seq_end + 1 === record.a && row.data.length + record.data.length <= this._o.rowChars) {
          row.seq_end = record.b;
          row.raw_bytes += record.r;
          row.data += record.data;
          row.at = record.t;
          return;
        }
        if (row) flush(s);
        open.set(s, {
          session_id: s,
          seq_start: record.a,
          seq_end: record.b,
          raw_bytes: record.r,
          data: record.data,
          at: record.t,
        });
        return;
      }
      case 'c': {
        const row = open.get(s);
        if (row) {
          row.data += record.data;
          return;
        }
        const piece = stripPiece(carries.get(s) ?? '', record.data);
        carries.set(s, piece.carry);
        this._appendText.run(
          record.data,
          piece.text,
          Buffer.byteLength(record.data) + Buffer.byteLength(piece.text),
          s,
        );
        return;
      }
      case 'g':
        flush(s);
        this._store.insertOutput({
          session_id: s,
          seq_start: record.a,
          seq_end: record.b,
          raw_bytes: record.r,
          data: '',
          text: '',
          gap: true,
          at: new Date(record.t).toISOString(),
        });
        return;
      case 'b':
        flush(s);
        return;
      case 'e': {
        const batch = flush(s);
        const rest = stripAnsi(carries.get(s) ?? '');
        carries.delete(s);
        if (!rest) return;
        // The stripper's held escape sequence ends the text of the session's last row.
        if (batch) batch.text += rest;
        this._appendText.run('', rest, Buffer.byteLength(rest), s);
        return;
      }
      case 'a':
        this._amend(record, open, carries);
        return;
    }
  }

  /**
   * A secret completed after its start was released (stream-redactor.ts): the session's stored output
   * ends with `removed`, which becomes `data`. The rows concerned are rewritten (their text re-stripped,
   * the search index follows through output_index_queue). If the output does not end with `removed`
   * (output dropped in between, or retention took the rows), nothing is rewritten and it is logged.
   */
  private _amend(
    record: Extract<SpoolRecord, { k: 'a' }>,
    open: Map<string, OpenRow>,
    carries: Map<string, string>,
  ): void {
    if (record.removed.length === 0) {
      this._apply({ k: 'c', s: record.s, t: record.t, data: record.data }, open, () => null, carries);
      return;
    }
    const row = open.get(record.s);
    if (row?.data.endsWith(record.removed)) {
      row.data = row.data.slice(0, row.data.length - record.removed.length) + record.data;
      return;
    }
    // The end spans stored rows (newest first), and the open row if any.
    // As many of the last rows as hold `removed` (a secret typed one key at a time is one row per key).
    let stored: { id: number; data: string }[] = [];
    for (let n = 32; n <= 4096; n *= 4) {
      stored = (this._lastRows.all(record.s, n) as { id: number; data: string }[]).reverse();
      let chars = row?.data.length ?? 0;
      for (const r of stored) chars += r.data.length;
      if (chars >= record.removed.length || stored.length < n) break;
    }
    const parts = [...stored.map((r) => r.data), row?.data ?? ''];
    const whole = parts.join('');
    if (!whole.endsWith(record.removed)) {
      this._o.logger.warn('amendment of released output skipped: the stored output does not end with it', {
        session_id: record.s,
      });
      return;
    }
    let cut = whole.length - record.removed.length;
    let inserted = false;
    for (let i = 0; i < parts.length; i++) {
      const data = parts[i] as string;
      let next = data;
      if (cut < data.length) {
        next = (cut > 0 ? data.slice(0, cut) : '') + (inserted ? '' : record.data);
        inserted = true;
      }
      cut = Math.max(0, cut - data.length);
      if (next === data) continue;
      if (i < stored.length) {
        const text = stripAnsi(next);
        const r = stored[i] as { id: number; data: string };
        this._updateRow.run(next, text, Buffer.byteLength(next) + Buffer.byteLength(text), r.id);
      } else if (row) row.data = next;
    }
  }

  private _insertRow(row: OpenRow, carries: Map<string, string>): OutputBatch {
    const piece = stripPiece(carries.get(row.session_id) ?? '', row.data);
    carries.set(row.session_id, piece.carry);
    const batch: OutputBatch = {
      session_id: row.session_id,
      seq_start: row.seq_start,
      seq_end: row.seq_end,
      raw_bytes: row.raw_bytes,
      data: row.data,
      text: piece.text,
      gap: false,
      at: new Date(row.at).toISOString(),
    };
    this._store.insertOutput(batch);
    return batch;
  }

  private _retention(batches: OutputBatch[]): void {
    const limits = this._o.retention;
    if (!limits || batches.length === 0) return;
    for (const b of batches) this._bytesSinceTotalCheck += b.data.length + b.text.length;
    // The total needs a sum over all sessions: check it every ~1 % of the limit written.
    const checkTotal =
      limits.maxBytesTotal !== null &&
      this._bytesSinceTotalCheck >= Math.max(64 * 1024, limits.maxBytesTotal / 100);
    const result = enforceRetention(
      this._db,
      {
        maxBytesPerSession: limits.maxBytesPerSession,
        maxBytesTotal: checkTotal ? limits.maxBytesTotal : null,
      },
      batches.map((b) => b.session_id),
    );
    if (checkTotal) this._bytesSinceTotalCheck = 0;
    if (result.deletedRows > 0) this._o.logger.debug('retention removed old output', { ...result });
  }

  /** The current run is fully stored and this process is done with it: its directory and row go. */
  finishCurrentRun(): boolean {
    if (this.ready) return false;
    if (this._current.fd !== null) closeSync(this._current.fd);
    this._current.fd = null;
    this._dropProgress.run(this._current.run);
    rmSync(this._current.dir, { recursive: true, force: true });
    return true;
  }

  close(): void {
    for (const c of [this._current, ...this._leftovers]) {
      if (c.fd !== null) closeSync(c.fd);
      c.fd = null;
    }
  }
}
