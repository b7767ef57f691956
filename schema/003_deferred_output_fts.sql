-- Output search indexing leaves the output INSERT (bench/persistence-throughput.bench.ts).
--
-- FTS5 tokenizing is most of what storing terminal output costs (~40 ms per MiB of text here, four
-- times the INSERT itself), and with the insert trigger of 001 it ran inside every flush, on the thread
-- that reads the PTYs. From this version on, session_output rows are indexed afterwards, in small
-- slices (src-main/core/store/fts-indexer.ts), by the persistence worker on its own connection or, in
-- the in-process mode, at the end of each flush transaction. `output_fts_progress.indexed_upto` is the
-- highest session_output.id already in session_output_fts: rows above it are stored but not yet
-- indexed, and history search scans them directly so a search never misses them.
CREATE TABLE output_fts_progress (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_upto INTEGER NOT NULL
) STRICT;
-- Everything stored so far went through the old insert trigger: it is indexed.
INSERT INTO output_fts_progress (id, indexed_upto) SELECT 1, coalesce(max(id), 0) FROM session_output;

DROP TRIGGER trg_output_fts_insert;
DROP TRIGGER trg_output_fts_delete;
DROP TRIGGER trg_output_fts_update;

-- A rowid at or below the marker that is new (rowids are reused after the newest rows are deleted,
-- e.g. a session deleted with its output) is indexed at once: the indexer only looks above the marker.
CREATE TRIGGER trg_output_fts_insert_below AFTER INSERT ON session_output
WHEN new.id <= (SELECT indexed_upto FROM output_fts_progress WHERE id = 1) BEGIN
  INSERT INTO session_output_fts(rowid, text) VALUES (new.id, new.text);
END;
-- Only indexed rows are removed from the index (an external-content 'delete' of a row that was never
-- indexed would corrupt it); retention and cascades delete unindexed rows freely.
CREATE TRIGGER trg_output_fts_delete AFTER DELETE ON session_output
WHEN old.id <= (SELECT indexed_upto FROM output_fts_progress WHERE id = 1) BEGIN
  INSERT INTO session_output_fts(session_output_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER trg_output_fts_update AFTER UPDATE OF text ON session_output
WHEN old.id <= (SELECT indexed_upto FROM output_fts_progress WHERE id = 1) BEGIN
  INSERT INTO session_output_fts(session_output_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO session_output_fts(rowid, text) VALUES (new.id, new.text);
END;

-- FTS5's automatic merging runs inside whichever INSERT crosses a threshold and can hold the write
-- lock for tens of ms on a large index (measured: 40–60 ms stalls of the main thread's next write).
-- Off: the indexer runs bounded 'merge' steps in their own short transactions instead
-- (fts-indexer.ts mergeStep); crisismerge (16 segments on a level) still bounds the segment count.
INSERT INTO session_output_fts(session_output_fts, rank) VALUES ('automerge', 0);
