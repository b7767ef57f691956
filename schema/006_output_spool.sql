-- Storage off the live path (src-main/core/store/persistence.ts has the design):
--
-- 1. Output reaches session_output through a spool: the live path appends each session's redacted
--    output to append-only segment files next to the database (`<db>-spool/<run>/`) and an ingester
--    stores them here at its own pace. output_spool_progress says how far each run's spool is stored;
--    it is updated in the same transaction as the rows it covers, so a crash (of the app or of the
--    ingester) neither loses nor duplicates output: the next start stores the rest.
-- 2. The full-text index of output moves to its own database file (`<db>-search`, search-index.ts).
--    FTS5 tokenizing is most of what storing output costs (60–100 ms of CPU per MiB of base64); in its
--    own file it no longer holds this file's write lock, which the command journal needs, nor grows
--    the WAL that the journal's fsync (synchronous=FULL) must flush. output_index_queue lists rows
--    whose text changed (an amended secret) or that went away (retention, deleted sessions) or whose
--    id was reused, for the indexer to follow (triggers below). command_fts stays here.

DROP TRIGGER trg_output_fts_insert_below;
DROP TRIGGER trg_output_fts_delete;
DROP TRIGGER trg_output_fts_update;
DROP TABLE session_output_fts;
DROP TABLE output_fts_progress;

CREATE TABLE output_spool_progress (
  run TEXT PRIMARY KEY,
  segment INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE output_index_queue (
  n INTEGER PRIMARY KEY,
  id INTEGER NOT NULL
) STRICT;

-- The highest session_output.id ever used: a new row at or below it reuses the id of a deleted row,
-- which the index (keyed by id) must hear about.
CREATE TABLE output_id_high (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  max_id INTEGER NOT NULL
) STRICT;
INSERT INTO output_id_high (id, max_id) SELECT 1, coalesce(max(id), 0) FROM session_output;

CREATE TRIGGER trg_output_index_insert AFTER INSERT ON session_output BEGIN
  INSERT INTO output_index_queue (id)
  SELECT new.id WHERE new.id <= (SELECT max_id FROM output_id_high WHERE id = 1);
  UPDATE output_id_high SET max_id = new.id WHERE id = 1 AND max_id < new.id;
END;
CREATE TRIGGER trg_output_index_delete AFTER DELETE ON session_output BEGIN
  INSERT INTO output_index_queue (id) VALUES (old.id);
END;
CREATE TRIGGER trg_output_index_update AFTER UPDATE OF text ON session_output BEGIN
  INSERT INTO output_index_queue (id) VALUES (new.id);
END;

-- An amended row (a secret completed after its start was stored) changes size.
CREATE TRIGGER trg_output_bytes_update AFTER UPDATE OF stored_bytes ON session_output BEGIN
  UPDATE cli_sessions
  SET stored_output_bytes = max(0, stored_output_bytes - old.stored_bytes + new.stored_bytes)
  WHERE session_id = new.session_id;
END;
