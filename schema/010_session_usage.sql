-- Tokens and cost of interactive sessions (issue #15), read from the agents' own records (Claude Code
-- transcripts, Codex rollouts, Gemini CLI chat files) and priced with the providers' model prices.
-- One row per session, local calendar day and model; a scan replaces a session's rows, so re-reading a
-- record never counts it twice. No foreign key to sessions: spend stays in the daily figures after the
-- retention policy deletes an old session's history.
CREATE TABLE IF NOT EXISTS session_usage (
  session_id TEXT NOT NULL,
  cli_tool TEXT NOT NULL,
  day TEXT NOT NULL,
  model TEXT NOT NULL,
  calls INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  -- USD of the priced calls; unpriced_calls had no price for their model.
  cost_usd REAL NOT NULL,
  unpriced_calls INTEGER NOT NULL,
  PRIMARY KEY (session_id, day, model)
) STRICT;

CREATE INDEX IF NOT EXISTS idx_session_usage_day ON session_usage (day, cli_tool);

-- Where a session's figures come from (the record files) and when they were last read.
CREATE TABLE IF NOT EXISTS session_usage_source (
  session_id TEXT PRIMARY KEY,
  cli_tool TEXT NOT NULL,
  name TEXT,
  conversation_id TEXT,
  format TEXT NOT NULL,
  files INTEGER NOT NULL,
  scanned_at TEXT NOT NULL,
  error TEXT
) STRICT;
