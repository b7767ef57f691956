import type { Database, Statement } from 'better-sqlite3';

/**
 * Indexes session_output rows into session_output_fts after they are stored (schema 003): the rows
 * above `output_fts_progress.indexed_upto`, oldest first, a bounded slice per call. Each slice is one
 * transaction that also advances the marker, so the index and the marker can never disagree, after a
 * crash included (an interrupted slice rolls back and is simply indexed again).
 */
export interface FtsIndexer {
  /** Indexes rows worth up to ~maxBytes of stored_bytes (data + text; at least one row) in one
   *  BEGIN IMMEDIATE transaction. */
  indexSlice(maxBytes?: number): { rows: number; bytes: number; more: boolean };
  /** Same, inside the caller's open transaction (the in-process flush). */
  indexSliceInTransaction(maxBytes?: number): { rows: number; bytes: number; more: boolean };
  /** Rows stored but not yet indexed. */
  backlog(): number;
  /** One bounded FTS5 'merge' step (~`pages` pages written; automerge is off, schema 003) in its own
   *  transaction. true when there is more to merge. */
  mergeStep(pages?: number): boolean;
  /** Same, inside the caller's open transaction. */
  mergeStepInTransaction(pages?: number): boolean;
}

/** ~2–3 ms of tokenizing on this machine: the longest a journal INSERT waits behind a slice. */
export const DEFAULT_SLICE_BYTES = 64 * 1024;
/** Pages (4 KiB) a merge step writes: ~1–3 ms. */
export const DEFAULT_MERGE_PAGES = 64;

export function createFtsIndexer(db: Database): FtsIndexer {
  const marker = db.prepare('SELECT indexed_upto AS n FROM output_fts_progress WHERE id = 1').pluck();
  // stored_bytes (data + text, UTF-8) sits before the big columns: sizing a slice must not read the
  // rows' overflow pages (length(text) would read every candidate whole).
  const candidates: Statement = db.prepare(
    'SELECT id, stored_bytes AS n FROM session_output WHERE id > ? ORDER BY id LIMIT 64',
  );
  const index = db.prepare(
    'INSERT INTO session_output_fts(rowid, text) SELECT id, text FROM session_output WHERE id > ? AND id <= ?',
  );
  const advance = db.prepare('UPDATE output_fts_progress SET indexed_upto = ? WHERE id = 1');
  const backlog = db.prepare('SELECT count(*) FROM session_output WHERE id > ?').pluck();
  const merge = db.prepare("INSERT INTO session_output_fts(session_output_fts, rank) VALUES ('merge', ?)");
  // FTS5: a total_changes() delta below 2 across 'merge' means there was nothing (left) to merge.
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  const mergeOnce = (pages: number) => {
    const before = totalChanges.get() as number;
    merge.run(pages);
    return (totalChanges.get() as number) - before >= 2;
  };

  function slice(maxBytes: number): { rows: number; bytes: number; more: boolean } {
    const from = marker.get() as number;
    const rows = candidates.all(from) as { id: number; n: number }[];
    if (rows.length === 0) return { rows: 0, bytes: 0, more: false };
    let upto = from;
    let bytes = 0;
    let count = 0;
    for (const r of rows) {
      if (count > 0 && bytes + r.n > maxBytes) break;
      upto = r.id;
      bytes += r.n;
      count++;
    }
    index.run(from, upto);
    advance.run(upto);
    return { rows: count, bytes, more: count < rows.length || rows.length === 64 };
  }

  return {
    indexSlice(maxBytes = DEFAULT_SLICE_BYTES) {
      return db.transaction(() => slice(maxBytes)).immediate();
    },
    indexSliceInTransaction(maxBytes = DEFAULT_SLICE_BYTES) {
      return slice(maxBytes);
    },
    backlog() {
      return backlog.get(marker.get()) as number;
    },
    mergeStep(pages = DEFAULT_MERGE_PAGES) {
      return db.transaction(() => mergeOnce(pages)).immediate();
    },
    mergeStepInTransaction(pages = DEFAULT_MERGE_PAGES) {
      return mergeOnce(pages);
    },
  };
}
