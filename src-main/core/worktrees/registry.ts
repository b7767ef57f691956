import type { Database, Statement } from 'better-sqlite3';
import type { WorktreeInfo } from '../../../src-shared/worktrees.ts';

/**
 * The record of every worktree AutoDev made: SQLite (`worktrees`, schema/005) when the core has a
 * database, else in memory. A row is written before `git worktree add`, so a crash at any moment leaves
 * something for start-up to find.
 */
export interface WorktreeRecord extends WorktreeInfo {
  common_dir: string;
  session_id: string | null;
  created_at: string;
  ended_at: string | null;
  left_by_crash: boolean;
  merged_at: string | null;
  removed_at: string | null;
}

export interface WorktreeRegistry {
  add(record: WorktreeRecord): void;
  bindSession(path: string, sessionId: string): void;
  markEnded(path: string, at: string, leftByCrash: boolean): void;
  markMerged(path: string, at: string): void;
  markRemoved(path: string, at: string, reason: string): void;
  /** Forget a row (a worktree whose `git worktree add` failed: nothing was made). */
  delete(path: string): void;
  byPath(path: string): WorktreeRecord | undefined;
  /** The session's worktree (its newest row, removed or not). */
  bySession(sessionId: string): WorktreeRecord | undefined;
  /** Rows not removed, oldest first. */
  live(): WorktreeRecord[];
}

interface Row {
  path: string;
  repo: string;
  common_dir: string;
  branch: string;
  base: string;
  base_commit: string;
  session_id: string | null;
  created_at: string;
  ended_at: string | null;
  left_by_crash: number;
  merged_at: string | null;
  removed_at: string | null;
}

const fromRow = (r: Row): WorktreeRecord => ({ ...r, left_by_crash: r.left_by_crash === 1 });

export function createSqliteRegistry(db: Database): WorktreeRegistry {
  const write = <T>(fn: () => T): T => db.transaction(fn).immediate();
  const s = (sql: string): Statement => db.prepare(sql);
  const insert = s(`INSERT INTO worktrees (path, repo, common_dir, branch, base, base_commit, session_id,
      created_at, ended_at, left_by_crash, merged_at, removed_at)
    VALUES (@path, @repo, @common_dir, @branch, @base, @base_commit, @session_id, @created_at, @ended_at,
      @left_by_crash, @merged_at, @removed_at)`);
  const dropRemoved = s('DELETE FROM worktrees WHERE path = ? AND removed_at IS NOT NULL');
  const bind = s('UPDATE worktrees SET session_id = ? WHERE path = ?');
  const ended = s(
    'UPDATE worktrees SET ended_at = coalesce(ended_at, ?), left_by_crash = max(left_by_crash, ?) WHERE path = ?',
  );
  const merged = s('UPDATE worktrees SET merged_at = ? WHERE path = ?');
  const removed = s('UPDATE worktrees SET removed_at = ?, removed_reason = ? WHERE path = ?');
  const del = s('DELETE FROM worktrees WHERE path = ?');
  const byPath = s('SELECT * FROM worktrees WHERE path = ?');
  const bySession = s('SELECT * FROM worktrees WHERE session_id = ? ORDER BY created_at DESC LIMIT 1');
  const live = s('SELECT * FROM worktrees WHERE removed_at IS NULL ORDER BY created_at, path');
  return {
    add(record) {
      write(() => {
        // A removed worktree's folder may be reused by a new branch of the same name.
        dropRemoved.run(record.path);
        insert.run({ ...record, left_by_crash: record.left_by_crash ? 1 : 0 });
      });
    },
    bindSession: (path, sessionId) => void write(() => bind.run(sessionId, path)),
    markEnded: (path, at, leftByCrash) => void write(() => ended.run(at, leftByCrash ? 1 : 0, path)),
    markMerged: (path, at) => void write(() => merged.run(at, path)),
    markRemoved: (path, at, reason) => void write(() => removed.run(at, reason, path)),
    delete: (path) => void write(() => del.run(path)),
    byPath: (path) => {
      const row = byPath.get(path) as Row | undefined;
      return row ? fromRow(row) : undefined;
    },
    bySession: (sessionId) => {
      const row = bySession.get(sessionId) as Row | undefined;
      return row ? fromRow(row) : undefined;
    },
    live: () => (live.all() as Row[]).map(fromRow),
  };
}

export function createMemoryRegistry(): WorktreeRegistry {
  const rows = new Map<string, WorktreeRecord>();
  const update = (path: string, patch: Partial<WorktreeRecord>) => {
    const row = rows.get(path);
    if (row) rows.set(path, { ...row, ...patch });
  };
  return {
    add(record) {
      const existing = rows.get(record.path);
      if (existing && existing.removed_at === null) throw new Error(`worktree ${record.path} is registered`);
      rows.set(record.path, { ...record });
    },
    bindSession: (path, sessionId) => update(path, { session_id: sessionId }),
    markEnded(path, at, leftByCrash) {
      const row = rows.get(path);
      if (row)
        update(path, { ended_at: row.ended_at ?? at, left_by_crash: row.left_by_crash || leftByCrash });
    },
    markMerged: (path, at) => update(path, { merged_at: at }),
    markRemoved: (path, at) => update(path, { removed_at: at }),
    delete: (path) => void rows.delete(path),
    byPath: (path) => {
      const row = rows.get(path);
      return row ? { ...row } : undefined;
    },
    bySession: (sessionId) =>
      [...rows.values()]
        .filter((r) => r.session_id === sessionId)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
        .map((r) => ({ ...r }))[0],
    live: () =>
      [...rows.values()]
        .filter((r) => r.removed_at === null)
        .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
        .map((r) => ({ ...r })),
  };
}
