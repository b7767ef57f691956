import type { Database } from 'better-sqlite3';

export interface RetentionLimits {
  /** Stored output (data + text bytes) kept per session; the oldest batches go first. null: no limit. */
  maxBytesPerSession: number | null;
  /** Stored output kept across all sessions; the globally oldest batches go first. null: no limit. */
  maxBytesTotal: number | null;
}

export const DEFAULT_RETENTION: RetentionLimits = {
  maxBytesPerSession: 64 * 1024 * 1024,
  maxBytesTotal: 1024 * 1024 * 1024,
};

/** Trim to 90 % of a limit, so a session at its limit is not trimmed again on every flush. */
const HYSTERESIS = 0.9;

export interface RetentionResult {
  deletedRows: number;
  deletedBytes: number;
}

/**
 * Deletes the oldest output rows over the limits. The FTS index and the per-session byte counters
 * follow through the schema's triggers, and cli_sessions.output_trimmed_seq records how far a session's
 * history was cut so the UI can say "older output removed". Runs in one BEGIN IMMEDIATE transaction.
 */
export function enforceRetention(
  db: Database,
  limits: RetentionLimits,
  sessionIds?: Iterable<string>,
): RetentionResult {
  const result: RetentionResult = { deletedRows: 0, deletedBytes: 0 };
  const deleteRows = (rows: { id: number; stored_bytes: number }[]) => {
    const del = db.prepare('DELETE FROM session_output WHERE id = ?');
    for (const row of rows) {
      result.deletedRows += del.run(row.id).changes;
      result.deletedBytes += row.stored_bytes;
    }
  };
  db.transaction(() => {
    if (limits.maxBytesPerSession !== null) {
      const over = sessionIds
        ? [...new Set(sessionIds)].filter((id) => {
            const row = db
              .prepare('SELECT stored_output_bytes AS b FROM cli_sessions WHERE session_id = ?')
              .get(id) as { b: number } | undefined;
            return row !== undefined && row.b > limits.maxBytesPerSession!;
          })
        : (
            db
              .prepare('SELECT session_id FROM cli_sessions WHERE stored_output_bytes > ?')
              .all(limits.maxBytesPerSession) as { session_id: string }[]
          ).map((r) => r.session_id);
      // Keep the newest rows whose running total fits; everything older goes.
      const victims = db.prepare(`
        SELECT id, stored_bytes FROM (
          SELECT id, stored_bytes,
                 sum(stored_bytes) OVER (ORDER BY seq_start DESC ROWS UNBOUNDED PRECEDING) AS newer
          FROM session_output WHERE session_id = ?)
        WHERE newer > ?`);
      const keep = Math.floor(limits.maxBytesPerSession * HYSTERESIS);
      for (const id of over) {
        deleteRows(victims.all(id, keep) as { id: number; stored_bytes: number }[]);
      }
    }
    if (limits.maxBytesTotal !== null) {
      const total = (
        db.prepare('SELECT coalesce(sum(stored_output_bytes), 0) AS t FROM cli_sessions').get() as {
          t: number;
        }
      ).t;
      if (total > limits.maxBytesTotal) {
        // Rowid order is insertion order: the globally oldest batches first, just enough of them.
        const excess = total - Math.floor(limits.maxBytesTotal * HYSTERESIS);
        const victims = db
          .prepare(`
          SELECT id, stored_bytes FROM (
            SELECT id, stored_bytes,
                   sum(stored_bytes) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS older
            FROM session_output)
          WHERE older - stored_bytes < ?`)
          .all(excess) as { id: number; stored_bytes: number }[];
        deleteRows(victims);
      }
    }
  }).immediate();
  return result;
}
