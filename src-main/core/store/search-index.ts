// The full-text index of stored output, in its own database file `<db>-search` (schema 006 explains
// why: tokenizing is most of what storing output costs, and in the main file it held the write lock the
// command journal needs). Derived data: missing, damaged or belonging to another database, it is
// rebuilt from session_output; history search scans whatever is not indexed yet (history-search.ts).
//
// Contentless FTS5 (the text is in session_output; the index keeps only which row holds which token:
// detail=none) with contentless_delete, so a row that changes (an amended secret) or goes (retention)
// leaves the index too. Phrase order is checked against the row's text when searching.
import { chmodSync, closeSync, openSync, rmSync } from 'node:fs';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';

export function searchIndexPath(dbPath: string): string {
  return `${dbPath}-search`;
}

const SCHEMA = `
  CREATE VIRTUAL TABLE IF NOT EXISTS output_fts USING fts5(
    text, content = '', contentless_delete = 1, detail = none, tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TABLE IF NOT EXISTS progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- Highest session_output.id indexed: rows above it are not in the index yet.
    indexed_upto INTEGER NOT NULL,
    -- Highest output_index_queue.n followed.
    queue_done INTEGER NOT NULL,
    -- The main database this index belongs to (app_meta instance_id).
    instance_id TEXT NOT NULL
  ) STRICT;
`;

/**
 * Opens (creating or rebuilding as needed) the search index of the main database `main` on its own
 * connection. synchronous=OFF: the index never fsyncs — its writes must not queue up in front of the
 * command journal's fsync on the same disk. An OS crash or power cut can then leave it damaged: the
 * indexer rebuilds it when SQLite says so (rebuildSearchIndex), and search scans meanwhile.
 */
export function openSearchIndex(file: string, main: Database): Database {
  const instanceId = (
    main.prepare("SELECT value FROM app_meta WHERE key = 'instance_id'").get() as
      | { value: string }
      | undefined
  )?.value;
  const open = () => {
    // 0600 like the main file (the index is made of what agents printed).
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    const db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return db;
  };
  let db: Database;
  try {
    db = open();
    db.prepare('SELECT count(*) FROM progress').get();
  } catch {
    // Damaged or unreadable: start over (derived data).
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    db = open();
  }
  const row = db.prepare('SELECT instance_id FROM progress WHERE id = 1').get() as
    | { instance_id: string }
    | undefined;
  if (!row || row.instance_id !== (instanceId ?? '')) {
    db.transaction(() => {
      db.prepare("INSERT INTO output_fts(output_fts) VALUES ('delete-all')").run();
      db.prepare(
        'INSERT INTO progress (id, indexed_upto, queue_done, instance_id) VALUES (1, 0, 0, ?) ' +
          'ON CONFLICT(id) DO UPDATE SET indexed_upto = 0, queue_done = 0, instance_id = excluded.instance_id',
      ).run(instanceId ?? '');
    }).immediate();
  }
  return db;
}

/** The index is damaged (SQLITE_CORRUPT, SQLITE_NOTADB): it is derived data, start over. */
export function isDamaged(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  return code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB');
}

export function rebuildSearchIndex(file: string, damaged: Database | null, main: Database): Database {
  try {
    damaged?.close();
  } catch {}
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  return openSearchIndex(file, main);
}

export interface IndexSliceResult {
  rows: number;
  /** stored_bytes of the rows indexed. */
  bytes: number;
  /** More is waiting. */
  more: boolean;
}

/**
 * Indexes what session_output has and the index lacks: queued changes (output_index_queue) first, then
 * rows above the marker, in slices of about `maxBytes` each committed with the marker.
 */
export class SearchIndexer {
  private readonly _main: Database;
  private readonly _search: Database;
  private readonly _progress: Statement;
  private readonly _setProgress: Statement;
  private readonly _queue: Statement;
  private readonly _rows: Statement;
  private readonly _rowText: Statement;
  private readonly _insert: Statement;
  private readonly _delete: Statement;
  private readonly _trimQueue: Statement;
  private readonly _backlogRows: Statement;
  private readonly _backlogQueue: Statement;
  private _trimmedUpto = 0;

  constructor(main: Database, search: Database) {
    this._main = main;
    this._search = search;
    this._progress = search.prepare(
      'SELECT indexed_upto AS upto, queue_done AS done FROM progress WHERE id = 1',
    );
    this._setProgress = search.prepare('UPDATE progress SET indexed_upto = ?, queue_done = ? WHERE id = 1');
    this._queue = main.prepare('SELECT n, id FROM output_index_queue WHERE n > ? ORDER BY n LIMIT 512');
    // stored_bytes sits before the big columns: sizing a slice does not read the rows' overflow pages.
    this._rows = main.prepare(
      'SELECT id, stored_bytes AS n FROM session_output WHERE id > ? ORDER BY id LIMIT 128',
    );
    this._rowText = main.prepare('SELECT text FROM session_output WHERE id = ?').pluck();
    this._insert = search.prepare('INSERT INTO output_fts(rowid, text) VALUES (?, ?)');
    this._delete = search.prepare('DELETE FROM output_fts WHERE rowid = ?');
    this._trimQueue = main.prepare('DELETE FROM output_index_queue WHERE n <= ?');
    this._backlogRows = main.prepare('SELECT count(*) FROM session_output WHERE id > ?').pluck();
    this._backlogQueue = main.prepare('SELECT count(*) FROM output_index_queue WHERE n > ?').pluck();
  }

  get indexedUpto(): number {
    return (this._progress.get() as { upto: number }).upto;
  }

  /** Rows not indexed yet plus changes not followed yet. */
  backlog(): number {
    const p = this._progress.get() as { upto: number; done: number };
    return (this._backlogRows.get(p.upto) as number) + (this._backlogQueue.get(p.done) as number);
  }

  indexSlice(maxBytes = 256 * 1024): IndexSliceResult {
    const p = this._progress.get() as { upto: number; done: number };
    // One read snapshot of the main database for the queue and the rows.
    const work = this._main
      .transaction(() => {
        const queued = this._queue.all(p.done) as { n: number; id: number }[];
        const candidates = this._rows.all(p.upto) as { id: number; n: number }[];
        const rows: { id: number; text: string }[] = [];
        let bytes = 0;
        for (const r of candidates) {
          if (rows.length > 0 && bytes + r.n > maxBytes) break;
          rows.push({ id: r.id, text: this._rowText.get(r.id) as string });
          bytes += r.n;
        }
        const changed = new Map<number, string | undefined>();
        for (const q of queued)
          if (q.id <= p.upto && !changed.has(q.id))
            changed.set(q.id, this._rowText.get(q.id) as string | undefined);
        return {
          rows,
          bytes,
          changed,
          queueDone: queued.at(-1)?.n ?? p.done,
          more: candidates.length > rows.length || candidates.length === 128 || queued.length === 512,
        };
      })
      .deferred();
    if (work.rows.length === 0 && work.queueDone === p.done) return { rows: 0, bytes: 0, more: false };
    const upto = work.rows.at(-1)?.id ?? p.upto;
    this._search
      .transaction(() => {
        for (const [id, text] of work.changed) {
          this._delete.run(id);
          if (text !== undefined) this._insert.run(id, text);
        }
        for (const r of work.rows) this._insert.run(r.id, r.text);
        this._setProgress.run(upto, work.queueDone);
      })
      .immediate();
    return { rows: work.rows.length, bytes: work.bytes, more: work.more };
  }

  /** Forget followed queue entries (a short write on the main database: done now and then). */
  trimQueue(): void {
    const done = (this._progress.get() as { done: number }).done;
    if (done - this._trimmedUpto < 4096) return;
    this._main.transaction(() => this._trimQueue.run(done)).immediate();
    this._trimmedUpto = done;
  }
}

/** Row ids whose text holds every token (any order), newest first, below `beforeId`. */
export function searchCandidates(
  search: Database,
  tokens: string[],
  limit: number,
  beforeId: number,
): number[] {
  if (tokens.length === 0) return [];
  const match = tokens.map((t) => `"${t.replace(/"/g, '""')}"`).join(' ');
  return search
    .prepare(
      'SELECT rowid FROM output_fts WHERE output_fts MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?',
    )
    .pluck()
    .all(match, beforeId, limit) as number[];
}
