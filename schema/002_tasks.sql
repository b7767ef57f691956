-- Tasks: queued one-shot agent runs (issue #7). The row is this instance's record of a task; with
-- REDIS_URL the shared queue and shared task state live in Redis, and these rows record what this
-- instance submitted and ran. Times are ISO-8601 UTC text with milliseconds; queue ordering uses
-- integers (seq, available_at_ms) so it never depends on string comparison of times.

-- Which state changes are legal. Mirrors TASK_TRANSITIONS in src-main/core/tasks/transitions.ts (a test
-- keeps the two equal); the trigger below refuses anything else, so no code path can skip validation.
CREATE TABLE IF NOT EXISTS task_transitions (
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  PRIMARY KEY (from_state, to_state)
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO task_transitions (from_state, to_state) VALUES
  ('queued', 'starting'), ('queued', 'paused'), ('queued', 'cancelled'), ('queued', 'error'),
  ('starting', 'running'), ('starting', 'queued'), ('starting', 'cancelled'), ('starting', 'error'),
  ('starting', 'timeout'),
  ('running', 'completing'), ('running', 'paused'), ('running', 'queued'), ('running', 'cancelled'),
  ('running', 'error'), ('running', 'timeout'),
  ('paused', 'queued'), ('paused', 'running'), ('paused', 'cancelled'), ('paused', 'error'),
  ('paused', 'completing'),
  ('completing', 'passed'), ('completing', 'failed'), ('completing', 'error'), ('completing', 'queued');

CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY,
  -- Enqueue order: FIFO within a priority. Assigned once at submission; a retry keeps its place.
  seq INTEGER NOT NULL UNIQUE,
  batch_id TEXT,
  cli_tool TEXT NOT NULL,
  prompt TEXT NOT NULL,
  working_directory TEXT NOT NULL,
  -- 0..100, higher runs first.
  priority INTEGER NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'starting', 'running', 'paused',
    'completing', 'passed', 'failed', 'error', 'cancelled', 'timeout')),
  -- Why the row is in its state; copied into task_history by the triggers.
  state_reason TEXT NOT NULL DEFAULT 'submitted',
  user_id TEXT NOT NULL DEFAULT 'local',
  mode TEXT NOT NULL DEFAULT 'async' CHECK (mode IN ('sync', 'async')),
  full_access INTEGER NOT NULL DEFAULT 0 CHECK (full_access IN (0, 1)),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_retries INTEGER NOT NULL DEFAULT 2,
  timeout_s REAL NOT NULL DEFAULT 600,
  -- Retry backoff: a queued task is not claimed before this (epoch ms).
  available_at_ms INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  started_at TEXT,
  ended_at TEXT,
  result_text TEXT,
  error TEXT,
  exit_code INTEGER,
  signal TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cache_read_tokens INTEGER,
  cost_usd REAL,
  duration_ms INTEGER,
  worker_id TEXT,
  pid INTEGER
) STRICT;

-- Serves the local queue claim (named with INDEXED BY in task-store.ts, so the planner cannot prefer
-- idx_tasks_state_created plus a sort):
--   SELECT … FROM tasks WHERE state = 'queued' AND available_at_ms <= ? ORDER BY priority DESC, seq
-- The partial index holds only queued rows, so it stays small however many tasks have finished.
CREATE INDEX IF NOT EXISTS idx_tasks_queue ON tasks (priority DESC, seq) WHERE state = 'queued';

-- Serves GET /tasks without filters: ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?
CREATE INDEX IF NOT EXISTS idx_tasks_created ON tasks (created_at DESC, seq DESC);

-- Serves GET /tasks?state=…: WHERE state = ? ORDER BY created_at DESC, seq DESC (no sort step), and the
-- metrics counts by state.
CREATE INDEX IF NOT EXISTS idx_tasks_state_created ON tasks (state, created_at DESC, seq DESC);

-- Serves GET /tasks?cli_tool=…: WHERE cli_tool = ? ORDER BY created_at DESC.
CREATE INDEX IF NOT EXISTS idx_tasks_tool_created ON tasks (cli_tool, created_at DESC);

-- Serves the per-user sliding-window rate limit (WHERE user_id = ? AND created_at > ? ORDER BY
-- created_at) and GET /tasks?user_id=….
CREATE INDEX IF NOT EXISTS idx_tasks_user_created ON tasks (user_id, created_at);

-- Serves recovery at start-up: WHERE state IN ('starting', 'running', 'paused', 'completing').
CREATE INDEX IF NOT EXISTS idx_tasks_active ON tasks (state)
  WHERE state IN ('starting', 'running', 'paused', 'completing');

CREATE TABLE IF NOT EXISTS task_history (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
  state_from TEXT,
  state_to TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  worker_id TEXT,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Serves GET /tasks/{id}: WHERE task_id = ? ORDER BY id.
CREATE INDEX IF NOT EXISTS idx_task_history_task ON task_history (task_id, id);

CREATE TABLE IF NOT EXISTS task_outputs (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL DEFAULT 1,
  -- Order within the attempt.
  seq INTEGER NOT NULL,
  stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr', 'result')),
  -- 'event': a parsed JSON event (event_type holds its type); 'raw': unparsable or unknown text;
  -- 'final': the final result text of the attempt.
  kind TEXT NOT NULL CHECK (kind IN ('event', 'raw', 'final')),
  event_type TEXT,
  content TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Serves GET /tasks/{id} outputs: WHERE task_id = ? ORDER BY attempt, seq.
CREATE INDEX IF NOT EXISTS idx_task_outputs_task ON task_outputs (task_id, attempt, seq);

-- One row per finished attempt: the figures behind getMetrics() and /metrics.
CREATE TABLE IF NOT EXISTS task_metrics (
  task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  cli_tool TEXT NOT NULL,
  outcome TEXT NOT NULL,
  queue_wait_ms INTEGER,
  duration_ms INTEGER,
  reported_duration_ms INTEGER,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cache_read_tokens INTEGER,
  cost_usd REAL,
  exit_code INTEGER,
  output_lines INTEGER NOT NULL DEFAULT 0,
  malformed_lines INTEGER NOT NULL DEFAULT 0,
  worker_id TEXT,
  recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (task_id, attempt)
) STRICT;

-- Serves duration percentiles per provider: WHERE cli_tool = ? AND duration_ms IS NOT NULL
-- ORDER BY duration_ms (an index scan in order, no sort).
CREATE INDEX IF NOT EXISTS idx_task_metrics_tool_duration ON task_metrics (cli_tool, duration_ms);

-- Per-provider dashboard figures (the seeds' TaskSummary).
CREATE VIEW IF NOT EXISTS task_summary AS
SELECT
  cli_tool,
  COUNT(*) AS total,
  SUM(state = 'queued') AS queued,
  SUM(state IN ('starting', 'running', 'completing')) AS running,
  SUM(state = 'paused') AS paused,
  SUM(state = 'passed') AS passed,
  SUM(state = 'failed') AS failed,
  SUM(state = 'error') AS error,
  SUM(state = 'cancelled') AS cancelled,
  SUM(state = 'timeout') AS timeout,
  CASE WHEN SUM(state IN ('passed', 'failed', 'error', 'timeout')) > 0
    THEN CAST(SUM(state = 'passed') AS REAL) / SUM(state IN ('passed', 'failed', 'error', 'timeout'))
  END AS success_rate,
  AVG(duration_ms) AS avg_duration_ms,
  COALESCE(SUM(input_tokens), 0) AS input_tokens,
  COALESCE(SUM(output_tokens), 0) AS output_tokens,
  COALESCE(SUM(cache_read_tokens), 0) AS cache_read_tokens,
  COALESCE(SUM(cost_usd), 0) AS cost_usd
FROM tasks
GROUP BY cli_tool;

-- A state change that task_transitions does not list is refused, whoever attempts it.
CREATE TRIGGER IF NOT EXISTS trg_tasks_validate_transition
BEFORE UPDATE OF state ON tasks
WHEN NEW.state <> OLD.state
  AND NOT EXISTS (SELECT 1 FROM task_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
BEGIN
  SELECT RAISE(ABORT, 'invalid task state transition');
END;

-- Every row starts with a history entry (NULL → its first state).
CREATE TRIGGER IF NOT EXISTS trg_tasks_history_insert
AFTER INSERT ON tasks
BEGIN
  INSERT INTO task_history (task_id, state_from, state_to, reason, attempt, worker_id)
  VALUES (NEW.task_id, NULL, NEW.state, NEW.state_reason, NEW.attempts, NEW.worker_id);
END;

-- Every state change is recorded with the reason written alongside it, in the same statement.
CREATE TRIGGER IF NOT EXISTS trg_tasks_history_update
AFTER UPDATE OF state ON tasks
WHEN NEW.state <> OLD.state
BEGIN
  INSERT INTO task_history (task_id, state_from, state_to, reason, attempt, worker_id)
  VALUES (NEW.task_id, OLD.state, NEW.state, NEW.state_reason, NEW.attempts, NEW.worker_id);
END;

-- updated_at follows every change the writer did not stamp itself (recursive_triggers is off, so the
-- inner UPDATE does not fire this again).
CREATE TRIGGER IF NOT EXISTS trg_tasks_updated_at
AFTER UPDATE ON tasks
WHEN NEW.updated_at = OLD.updated_at
BEGIN
  UPDATE tasks SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE task_id = NEW.task_id;
END;
