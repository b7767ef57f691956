-- 001_core: sessions, what users sent, what agents printed (with full-text search), state history,
-- preferences, the process ledger recovery uses, auth token revocation, recovery reports.
-- Applied inside one transaction by src-main/core/store/migrations.ts; PRAGMA user_version becomes 1.
-- Times are ISO-8601 UTC text with milliseconds ('2026-01-01T00:00:00.000Z'), so they sort as text.

-- Small key/value facts about this installation (the stable instance id used for Redis ownership…).
CREATE TABLE app_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- One row per session: every SessionInfo field (src-shared/session.ts) except command_history, which
-- is derived from cli_session_commands.
CREATE TABLE cli_sessions (
  session_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  cli_tool TEXT NOT NULL,
  mode TEXT NOT NULL DEFAULT 'interactive',
  full_access INTEGER NOT NULL DEFAULT 0 CHECK (full_access IN (0, 1)),
  user_id TEXT NOT NULL DEFAULT 'local',
  state TEXT NOT NULL CHECK (state IN ('initializing', 'starting', 'running', 'waiting_input',
    'processing', 'completed', 'error', 'terminated')),
  state_reason TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(state_reason)),
  authentication_required INTEGER NOT NULL DEFAULT 0 CHECK (authentication_required IN (0, 1)),
  auth_prompt TEXT,
  pid INTEGER,
  created_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  last_activity TEXT NOT NULL,
  current_directory TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  exit_signal TEXT,
  cols INTEGER NOT NULL DEFAULT 120,
  rows INTEGER NOT NULL DEFAULT 32,
  last_seq INTEGER NOT NULL DEFAULT 0,
  title TEXT,
  metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  -- Which AutoDev instance ran it (app_meta 'instance_id'); Redis ownership is checked against it.
  owner_instance TEXT,
  -- Bytes of session_output rows currently stored (kept by triggers; retention reads it).
  stored_output_bytes INTEGER NOT NULL DEFAULT 0,
  -- Output with seq <= this was removed by retention (0: nothing removed).
  output_trimmed_seq INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- What a user typed or sent, written BEFORE it reaches the PTY (text already redacted).
CREATE TABLE cli_session_commands (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES cli_sessions(session_id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('command', 'input')),
  text TEXT NOT NULL,
  at TEXT NOT NULL
) STRICT;

-- Terminal output in batches (one row per flush per session). `data` keeps the redacted bytes with
-- their ANSI sequences (replay in a terminal); `text` is the same with ANSI stripped (search,
-- transcripts). gap = 1 marks output that could not be stored (persistence paused, buffer full).
CREATE TABLE session_output (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES cli_sessions(session_id) ON DELETE CASCADE,
  seq_start INTEGER NOT NULL,
  seq_end INTEGER NOT NULL CHECK (seq_end >= seq_start),
  -- UTF-8 bytes the agent printed in this range (before redaction).
  raw_bytes INTEGER NOT NULL,
  -- What this row costs on disk (data + text), the unit of retention.
  stored_bytes INTEGER NOT NULL,
  data TEXT NOT NULL,
  text TEXT NOT NULL,
  gap INTEGER NOT NULL DEFAULT 0 CHECK (gap IN (0, 1)),
  at TEXT NOT NULL
) STRICT;

CREATE TABLE session_state_history (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES cli_sessions(session_id) ON DELETE CASCADE,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(reason)),
  at TEXT NOT NULL
) STRICT;

CREATE TABLE user_preferences (
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL CHECK (json_valid(value)),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (user_id, key)
) STRICT;

-- Crash markers: every process tree a session spawned, with what proves identity after a restart
-- (start time in clock ticks since boot + the boot id). released_at is set when the tree is gone.
CREATE TABLE process_ledger (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES cli_sessions(session_id) ON DELETE CASCADE,
  pid INTEGER NOT NULL,
  pgid INTEGER NOT NULL,
  start_ticks INTEGER NOT NULL,
  boot_id TEXT NOT NULL,
  spawned_at TEXT NOT NULL,
  released_at TEXT,
  release_reason TEXT
) STRICT;

-- Issued tokens, for revocation (the server checks revoked_at on every verify).
CREATE TABLE auth_tokens (
  jti TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  scope TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;

CREATE TABLE recovery_reports (
  id INTEGER PRIMARY KEY,
  instance_id TEXT,
  started_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  report TEXT NOT NULL CHECK (json_valid(report))
) STRICT;

-- ---------------------------------------------------------------------------------------------------
-- Indexes: each names the query it serves. (PRIMARY KEY / UNIQUE autoindexes are not counted.)

-- GET /cli/sessions?status=running (list by state, newest first).
CREATE INDEX idx_sessions_state_created ON cli_sessions(state, created_at DESC);
-- GET /cli/sessions?cli_tool=claude (list by provider, newest first).
CREATE INDEX idx_sessions_tool_created ON cli_sessions(cli_tool, created_at DESC);
-- GET /cli/sessions?user_id=… (list by user, newest first).
CREATE INDEX idx_sessions_user_created ON cli_sessions(user_id, created_at DESC);
-- GET /cli/sessions?since=…&until=… and the unfiltered list (time range, newest first).
CREATE INDEX idx_sessions_created ON cli_sessions(created_at DESC);
-- Recovery and the active_sessions view: sessions not yet ended (small partial index).
CREATE INDEX idx_sessions_live ON cli_sessions(owner_instance) WHERE ended_at IS NULL;
-- History paging of commands: WHERE session_id = ? ORDER BY seq, id (also the FK index).
CREATE INDEX idx_commands_session_seq ON cli_session_commands(session_id, seq, id);
-- command_history of SessionInfo: only kind = 'command', newest first.
CREATE INDEX idx_commands_session_cmd ON cli_session_commands(session_id, id DESC) WHERE kind = 'command';
-- History paging of output by seq; Redis resync (seq_end > ?); one row per range, no duplicates.
CREATE UNIQUE INDEX ux_output_session_seq ON session_output(session_id, seq_start);
-- Session history merged by time (message_type=all) and the time-range filter of search.
CREATE INDEX idx_output_session_at ON session_output(session_id, at);
-- State history of one session in order (also the FK index).
CREATE INDEX idx_state_history_session ON session_state_history(session_id, id);
-- Recovery: the unreleased ledger of a boot (leftover process trees to kill).
CREATE INDEX idx_ledger_live_boot ON process_ledger(boot_id, session_id) WHERE released_at IS NULL;
-- FK index: release a session's ledger rows on exit, cascade on delete.
CREATE INDEX idx_ledger_session ON process_ledger(session_id);
-- "Revoke all tokens of a device/user": WHERE subject = ? AND revoked_at IS NULL.
CREATE INDEX idx_tokens_subject ON auth_tokens(subject, issued_at);
-- Purge of expired tokens: WHERE expires_at < now.
CREATE INDEX idx_tokens_expires ON auth_tokens(expires_at);
-- Diagnostics: the latest recovery reports.
CREATE INDEX idx_recovery_reports_started ON recovery_reports(started_at DESC);

-- ---------------------------------------------------------------------------------------------------
-- Full-text search ("where did an agent print X"): external-content FTS5 over the ANSI-free text,
-- kept in sync by the triggers below (insert, delete — retention — and update).

CREATE VIRTUAL TABLE session_output_fts USING fts5(
  text, content = 'session_output', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE command_fts USING fts5(
  text, content = 'cli_session_commands', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER trg_output_fts_insert AFTER INSERT ON session_output BEGIN
  INSERT INTO session_output_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER trg_output_fts_delete AFTER DELETE ON session_output BEGIN
  INSERT INTO session_output_fts(session_output_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER trg_output_fts_update AFTER UPDATE OF text ON session_output BEGIN
  INSERT INTO session_output_fts(session_output_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO session_output_fts(rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER trg_command_fts_insert AFTER INSERT ON cli_session_commands BEGIN
  INSERT INTO command_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER trg_command_fts_delete AFTER DELETE ON cli_session_commands BEGIN
  INSERT INTO command_fts(command_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER trg_command_fts_update AFTER UPDATE OF text ON cli_session_commands BEGIN
  INSERT INTO command_fts(command_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO command_fts(rowid, text) VALUES (new.id, new.text);
END;

-- ---------------------------------------------------------------------------------------------------
-- Consistency triggers.

-- updated_at follows every change unless the writer set it itself.
CREATE TRIGGER trg_sessions_updated_at AFTER UPDATE ON cli_sessions
WHEN new.updated_at IS old.updated_at BEGIN
  UPDATE cli_sessions SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE session_id = new.session_id;
END;

-- State history cannot drift from the sessions table: every state a row enters is recorded here.
CREATE TRIGGER trg_sessions_state_insert AFTER INSERT ON cli_sessions BEGIN
  INSERT INTO session_state_history(session_id, from_state, to_state, reason, at)
  VALUES (new.session_id, NULL, new.state, new.state_reason,
          coalesce(json_extract(new.state_reason, '$.at'), new.created_at));
END;
CREATE TRIGGER trg_sessions_state_update AFTER UPDATE OF state ON cli_sessions
WHEN new.state IS NOT old.state BEGIN
  INSERT INTO session_state_history(session_id, from_state, to_state, reason, at)
  VALUES (new.session_id, old.state, new.state, new.state_reason,
          coalesce(json_extract(new.state_reason, '$.at'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
END;

-- Stored output bytes per session, for retention without scanning session_output.
CREATE TRIGGER trg_output_bytes_insert AFTER INSERT ON session_output BEGIN
  UPDATE cli_sessions SET stored_output_bytes = stored_output_bytes + new.stored_bytes
  WHERE session_id = new.session_id;
END;
CREATE TRIGGER trg_output_bytes_delete AFTER DELETE ON session_output BEGIN
  UPDATE cli_sessions
  SET stored_output_bytes = max(0, stored_output_bytes - old.stored_bytes),
      output_trimmed_seq = CASE WHEN old.gap = 0 AND old.seq_end > output_trimmed_seq
                                THEN old.seq_end ELSE output_trimmed_seq END
  WHERE session_id = old.session_id;
END;

-- ---------------------------------------------------------------------------------------------------
-- Dashboard views.

-- Sessions whose process may still be running (not completed/terminated, not ended).
CREATE VIEW active_sessions AS
SELECT session_id, name, cli_tool, user_id, state, pid, created_at, started_at, last_activity,
       owner_instance, last_seq
FROM cli_sessions
WHERE ended_at IS NULL AND state NOT IN ('completed', 'terminated');

-- Per provider: how many sessions, in which states, how long they ran, how much they printed.
CREATE VIEW session_stats AS
SELECT cli_tool,
       count(*) AS total_sessions,
       sum(ended_at IS NULL AND state NOT IN ('completed', 'terminated')) AS active_sessions,
       sum(state = 'completed') AS completed_sessions,
       sum(state = 'terminated') AS terminated_sessions,
       sum(state = 'error') AS error_sessions,
       avg(CASE WHEN ended_at IS NOT NULL AND started_at IS NOT NULL
                THEN (julianday(ended_at) - julianday(started_at)) * 86400.0 END) AS avg_duration_s,
       sum(stored_output_bytes) AS stored_output_bytes,
       (SELECT count(*) FROM cli_session_commands c
         WHERE c.session_id IN (SELECT s2.session_id FROM cli_sessions s2 WHERE s2.cli_tool = s.cli_tool)
           AND c.kind = 'command') AS commands,
       max(last_activity) AS last_activity
FROM cli_sessions s
GROUP BY cli_tool;
