// "Where did an agent print X": full-text search over commands (command_fts, in the main database) and
// output — the rows the search index has (search-index.ts, its own file), the stored rows it has not
// reached yet (scanned), and the output not stored yet (the spool, history-pending.ts). Every output
// hit is checked against the row's current text: the phrase in order (the index only knows which row
// holds which word), and never text that changed since it was indexed.
import { existsSync } from 'node:fs';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { SearchHit } from '../../../src-shared/rest.ts';
import { applyPending, type PendingOutput, storedThrough } from './history-pending.ts';
import { searchCandidates } from './search-index.ts';

/** User text → one FTS5 phrase: no operators, no syntax errors, "where did it print X". */
export function ftsPhrase(q: string): string {
  return `"${q.replace(/"/g, '""')}"`;
}

const WORD = /[\p{L}\p{N}]+/gu;
/** Index candidates examined per search at most (a common word in a huge history). */
const MAX_CANDIDATES = 5000;

interface Hit {
  kind: 'output' | 'command';
  session_id: string;
  seq: number | null;
  at: string;
  snippet: string;
  name: string;
  cli_tool: string;
}

/** Same semantics as an FTS5 phrase under unicode61: whole tokens in order, anything else between them,
 *  case-insensitive; diacritics are tried both ways. The snippet is cut around the first match. */
function phraseMatcher(tokens: string[]): (text: string) => string | null {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const build = (toks: string[]) =>
    new RegExp(`(?<![\\p{L}\\p{N}])${toks.map(esc).join('[^\\p{L}\\p{N}]+')}(?![\\p{L}\\p{N}])`, 'iu');
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '');
  const re = build(tokens);
  const folded = build(tokens.map(fold));
  return (text) => {
    let t = text;
    let m = re.exec(t);
    if (!m) {
      t = fold(text);
      m = folded.exec(t);
      if (!m) return null;
    }
    const from = Math.max(0, m.index - 48);
    const to = Math.min(t.length, m.index + m[0].length + 48);
    return `${from > 0 ? '…' : ''}${t.slice(from, m.index)}«${m[0]}»${t.slice(m.index + m[0].length, to)}${to < t.length ? '…' : ''}`;
  };
}

export function createSearch(
  db: Database,
  options: { searchPath: string | null; pending: PendingOutput | null },
): (query: { q: string; session_id?: string; limit?: number }) => SearchHit[] {
  let index: Database | null = null;
  const openIndex = (): Database | null => {
    if (index) return index;
    if (!options.searchPath || !existsSync(options.searchPath)) return null;
    try {
      index = new BetterSqlite3(options.searchPath, { fileMustExist: true });
      index.pragma('busy_timeout = 2000');
    } catch {
      index = null;
    }
    return index;
  };
  const sessionNames = db.prepare('SELECT name, cli_tool FROM cli_sessions WHERE session_id = ?');

  return ({ q, session_id, limit = 50 }) => {
    const commands = db
      .prepare(`
        SELECT 'command' AS kind, x.session_id, x.seq, x.at,
               snippet(command_fts, 0, '«', '»', '…', 16) AS snippet, s.name, s.cli_tool
        FROM command_fts JOIN cli_session_commands x ON x.id = command_fts.rowid
        JOIN cli_sessions s ON s.session_id = x.session_id
        WHERE command_fts MATCH @q ${session_id ? 'AND x.session_id = @sid' : ''}
        ORDER BY x.at DESC LIMIT @limit`)
      .all({ q: ftsPhrase(q), sid: session_id ?? null, limit }) as Hit[];
    const hits: Hit[] = [...commands];
    const tokens = q.match(WORD) ?? [];
    if (tokens.length > 0 && limit > 0) hits.push(...outputHits(tokens, session_id, limit));
    hits.sort((x, y) => (x.at < y.at ? 1 : x.at > y.at ? -1 : 0));
    hits.length = Math.min(hits.length, limit);
    return hits.map((r) => ({
      session_id: r.session_id,
      session_name: r.name,
      cli_tool: r.cli_tool,
      kind: r.kind,
      seq: r.seq,
      at: r.at,
      snippet: r.snippet,
    }));
  };

  function outputHits(tokens: string[], sessionId: string | undefined, limit: number): Hit[] {
    const match = phraseMatcher(tokens);
    const hits: Hit[] = [];
    let idx = openIndex();
    let marker = 0;
    try {
      marker = idx
        ? ((idx.prepare('SELECT indexed_upto FROM progress WHERE id = 1').pluck().get() as
            | number
            | undefined) ?? 0)
        : 0;
    } catch {
      // Unreadable (being rebuilt, damaged): everything is scanned; reopened next time.
      try {
        idx?.close();
      } catch {}
      index = null;
      idx = null;
    }
    const rowsById = db.prepare(`
      SELECT x.id, x.session_id, x.seq_start AS seq, x.at, x.text, s.name, s.cli_tool
      FROM session_output x JOIN cli_sessions s ON s.session_id = x.session_id
      WHERE x.id IN (SELECT value FROM json_each(?)) ${sessionId ? 'AND x.session_id = ?' : ''}
      ORDER BY x.id DESC`);
    const take = (r: Record<string, unknown>) => {
      const snippet = match(r.text as string);
      if (snippet === null) return;
      hits.push({
        kind: 'output',
        session_id: r.session_id as string,
        seq: r.seq as number,
        at: r.at as string,
        snippet,
        name: r.name as string,
        cli_tool: r.cli_tool as string,
      });
    };
    // 1. Stored but not indexed yet (above the marker): scanned, newest first.
    const unindexed = db
      .prepare(`
        SELECT x.session_id, x.seq_start AS seq, x.at, x.text, s.name, s.cli_tool
        FROM session_output x JOIN cli_sessions s ON s.session_id = x.session_id
        WHERE x.id > @marker AND x.text LIKE @first ${sessionId ? 'AND x.session_id = @sid' : ''}
        ORDER BY x.id DESC`)
      .iterate({ marker, first: `%${tokens[0]}%`, sid: sessionId ?? null }) as IterableIterator<
      Record<string, unknown>
    >;
    for (const r of unindexed) {
      take(r);
      if (hits.length >= limit) break;
    }
    // 2. Indexed: candidates from the index, newest first, checked against the current text.
    if (idx && hits.length < limit) {
      let before = marker + 1;
      let examined = 0;
      while (hits.length < limit && examined < MAX_CANDIDATES) {
        let ids: number[];
        try {
          ids = searchCandidates(idx, tokens, 200, before);
        } catch {
          break;
        }
        if (ids.length === 0) break;
        examined += ids.length;
        before = ids[ids.length - 1] as number;
        const params: unknown[] = [JSON.stringify(ids)];
        if (sessionId) params.push(sessionId);
        for (const r of rowsById.all(...params) as Record<string, unknown>[]) {
          take(r);
          if (hits.length >= limit) break;
        }
      }
    }
    // 3. Not stored yet (spool, memory).
    const pending = options.pending;
    if (pending) {
      const through = storedThrough(db, pending.run);
      for (const id of pending.sessions()) {
        if (sessionId && id !== sessionId) continue;
        const { added } = applyPending([], pending.ops(id, through));
        const names = sessionNames.get(id) as { name: string; cli_tool: string } | undefined;
        for (const row of added) {
          if (row.gap) continue;
          take({
            session_id: id,
            seq: row.seq_start,
            at: row.at,
            text: row.text,
            ...(names ?? { name: '', cli_tool: '' }),
          });
        }
      }
    }
    return hits;
  }
}
