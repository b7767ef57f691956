-- Command search finds what a person submitted (kind 'command', lines assembled on Enter), never the raw
-- key journal (kind 'input': one row per write, kept for durability and replay). Searching keys showed
-- single keystrokes as hits and, for a secret typed one key at a time, indexed its characters one per
-- row. The index's content becomes a view of the lines, so a rebuild or an integrity check sees exactly
-- what the triggers index.
DROP TRIGGER IF EXISTS trg_command_fts_insert;
DROP TRIGGER IF EXISTS trg_command_fts_delete;
DROP TRIGGER IF EXISTS trg_command_fts_update;
DROP TABLE IF EXISTS command_fts;

CREATE VIEW command_lines AS SELECT id, text FROM cli_session_commands WHERE kind = 'command';

CREATE VIRTUAL TABLE command_fts USING fts5(
  text, content = 'command_lines', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO command_fts(command_fts) VALUES ('rebuild');

CREATE TRIGGER trg_command_fts_insert AFTER INSERT ON cli_session_commands WHEN new.kind = 'command' BEGIN
  INSERT INTO command_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER trg_command_fts_delete AFTER DELETE ON cli_session_commands WHEN old.kind = 'command' BEGIN
  INSERT INTO command_fts(command_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER trg_command_fts_update AFTER UPDATE OF text ON cli_session_commands WHEN old.kind = 'command' BEGIN
  INSERT INTO command_fts(command_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO command_fts(rowid, text) VALUES (new.id, new.text);
END;
