-- 005_worktrees: sessions in their own git worktree and branch (issue 14).
--
-- Every worktree AutoDev makes under its managed folder is registered here BEFORE `git worktree add`
-- runs, so a crash at any point leaves a row that start-up finds and lists (never deletes). Rows stay
-- after removal (removed_at) as a record; the path is the identity of a live worktree.
CREATE TABLE worktrees (
  path TEXT PRIMARY KEY,
  -- The repository's main working tree and its shared git directory.
  repo TEXT NOT NULL,
  common_dir TEXT NOT NULL,
  branch TEXT NOT NULL,
  base TEXT NOT NULL,
  base_commit TEXT NOT NULL,
  -- Null until the session exists (and for a worktree whose session never started).
  session_id TEXT,
  created_at TEXT NOT NULL,
  -- When its session ended (normally, by error, or found interrupted at start-up).
  ended_at TEXT,
  -- Its session was live when AutoDev stopped without ending it (found at start-up).
  left_by_crash INTEGER NOT NULL DEFAULT 0 CHECK (left_by_crash IN (0, 1)),
  merged_at TEXT,
  removed_at TEXT,
  removed_reason TEXT
) STRICT;
CREATE INDEX idx_worktrees_session ON worktrees(session_id);

-- SessionInfo.worktree ({repo, path, branch, base, base_commit} as JSON), null for a plain directory.
ALTER TABLE cli_sessions ADD COLUMN worktree TEXT CHECK (worktree IS NULL OR json_valid(worktree));
