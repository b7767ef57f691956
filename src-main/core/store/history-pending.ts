// Output not stored yet (spooled, or still in memory), merged after what SQLite has, so a history read
// is complete and contiguous in seq at any moment (persistence.ts: the ingester trails the live stream
// by a few ms, more during a flood). The spool records are filtered by the ingester's progress row read
// in the same snapshot as the stored rows, so nothing is shown twice or skipped.
import type { Database } from 'better-sqlite3';
import { stripAnsi } from './ansi.ts';
import type { PendingOp } from './output-spool.ts';

export interface StoredOutputRow {
  seq_start: number;
  seq_end: number;
  at: string;
  data: string;
  text: string;
  gap: boolean;
  raw_bytes: number;
}

/** What persistence offers history (persistence.ts `pending`). */
export interface PendingOutput {
  /** This process's spool run (its progress row says how far the ingester stored it). */
  readonly run: string;
  /** The session's output records not stored as of `storedThrough` (null: none stored yet). */
  ops(sessionId: string, storedThrough: { segment: number; offset: number } | null): PendingOp[];
  /** Sessions that have such records. */
  sessions(): Set<string>;
}

export function storedThrough(db: Database, run: string): { segment: number; offset: number } | null {
  return (
    (db.prepare('SELECT segment, byte_offset AS offset FROM output_spool_progress WHERE run = ?').get(run) as
      | { segment: number; offset: number }
      | undefined) ?? null
  );
}

/**
 * Applies pending ops after `tail` — the session's last stored rows, in seq order (enough of them for
 * an amendment: a few hundred chars). Returns the rows that changed or were added, in seq order.
 */
export function applyPending(
  tail: StoredOutputRow[],
  ops: PendingOp[],
): { changed: Map<number, StoredOutputRow>; added: StoredOutputRow[] } {
  const rows = tail.map((r) => ({ ...r }));
  const firstNew = rows.length;
  const changed = new Set<number>();
  for (const op of ops) {
    if (op.kind === 'row') {
      rows.push({
        seq_start: op.seq_start,
        seq_end: op.seq_end,
        at: op.at,
        data: op.data,
        text: stripAnsi(op.data),
        gap: op.gap,
        raw_bytes: op.raw_bytes,
      });
      continue;
    }
    // The last non-gap row gets the continuation or the amendment.
    let i = rows.length - 1;
    while (i >= 0 && (rows[i] as StoredOutputRow).gap) i--;
    if (i < 0) continue;
    if (op.kind === 'append' || op.removed.length === 0) {
      const r = rows[i] as StoredOutputRow;
      const data = op.kind === 'append' ? op.data : op.insert;
      r.data += data;
      r.text += stripAnsi(data);
      changed.add(i);
      continue;
    }
    // amend: the output ends with `removed` (possibly across rows): it becomes `insert`.
    let need = op.removed.length;
    let j = i;
    let joined = '';
    while (j >= 0 && joined.length < need) {
      const r = rows[j] as StoredOutputRow;
      if (!r.gap) joined = r.data + joined;
      if (joined.length >= need) break;
      j--;
    }
    if (!joined.endsWith(op.removed)) continue;
    // Rows j..i hold the removed text; row j keeps its prefix plus the insert, later ones are emptied.
    let cut = joined.length - need;
    for (let k = Math.max(j, 0); k <= i; k++) {
      const r = rows[k] as StoredOutputRow;
      if (r.gap) continue;
      const next =
        cut < r.data.length ? r.data.slice(0, Math.max(0, cut)) + (need > 0 ? op.insert : '') : r.data;
      if (cut < r.data.length) need = 0;
      cut = Math.max(0, cut - r.data.length);
      if (next !== r.data) {
        r.data = next;
        r.text = stripAnsi(next);
        changed.add(k);
      }
    }
  }
  const changedTail = new Map<number, StoredOutputRow>();
  for (const k of changed)
    if (k < firstNew) changedTail.set((rows[k] as StoredOutputRow).seq_start, rows[k] as StoredOutputRow);
  return { changed: changedTail, added: rows.slice(firstNew) };
}
