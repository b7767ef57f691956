import type { Database } from 'better-sqlite3';

/** The last output seq stored for a session (0: none): where a reattached session's output resumes. */
export function lastStoredSeq(db: Database, sessionId: string): number {
  const row = db
    .prepare('SELECT MAX(seq_end) AS seq FROM session_output WHERE session_id = ?')
    .get(sessionId) as { seq: number | null } | undefined;
  return row?.seq ?? 0;
}
