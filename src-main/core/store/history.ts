import type { Database } from 'better-sqlite3';
import type { HistoryEntry, Page, SearchHit } from '../../../src-shared/rest.ts';
import type { SessionInfo, StateReason } from '../../../src-shared/session.ts';
import { applyPending, type PendingOutput, type StoredOutputRow, storedThrough } from './history-pending.ts';
import { createSearch } from './history-search.ts';
import { searchIndexPath } from './search-index.ts';
import { rowToSessionInfo, type SessionRow } from './session-store.ts';

export type { PendingOutput, StoredOutputRow } from './history-pending.ts';
export { ftsPhrase } from './history-search.ts';

export interface HistoryOptions {
  /** Output not stored yet (persistence.pending): merged after the stored rows. */
  pending?: PendingOutput | null;
  /** The search index file (default `<database>-search`; null: none, output is scanned). */
  searchPath?: string | null;
}

/** Parsed list filters (the output of SessionListQuerySchema in src-shared/rest.ts). */
export interface SessionListFilter {
  status?: SessionInfo['state'] | 'active' | 'ended';
  cli_tool?: string;
  user_id?: string;
  /** created_at >= since (any Date-parsable text). */
  since?: string;
  /** created_at < until. */
  until?: string;
  limit?: number;
  offset?: number;
}

export interface HistoryFilter {
  message_type?: 'command' | 'output' | 'state' | 'all';
  limit?: number;
  offset?: number;
  /** Output with its ANSI sequences (for a terminal) instead of plain text. */
  raw?: boolean;
  /** Command entries include the raw key journal (kind 'input'), not only the submitted lines. */
  keys?: boolean;
}

export interface StoredCommandRow {
  id: number;
  seq: number;
  kind: 'command' | 'input';
  text: string;
  at: string;
}

export interface StateHistoryRow {
  from: SessionInfo['state'] | null;
  to: SessionInfo['state'];
  reason: StateReason;
  at: string;
}

export interface SessionExport {
  format: 'autodev.session.v1';
  exported_at: string;
  session: SessionInfo;
  output_trimmed_seq: number;
  commands: StoredCommandRow[];
  output: StoredOutputRow[];
  state_history: StateHistoryRow[];
}

export interface History {
  listSessions(filter?: SessionListFilter): Page<SessionInfo>;
  getSession(sessionId: string): SessionInfo | undefined;
  /** Commands, output and state changes of one session merged by time (REST history). */
  entries(sessionId: string, filter?: HistoryFilter): Page<HistoryEntry>;
  commands(sessionId: string, page?: { limit?: number; offset?: number }): Page<StoredCommandRow>;
  /** Output batches with seq_end > afterSeq, in seq order (terminal replay, Redis resync). */
  output(sessionId: string, afterSeq?: number, limit?: number): StoredOutputRow[];
  stateHistory(sessionId: string): StateHistoryRow[];
  /** Full-text search over output and commands; matches wrapped in « ». Newest first. */
  search(query: { q: string; session_id?: string; limit?: number }): SearchHit[];
  exportJson(sessionId: string): SessionExport | undefined;
  /** Plain text: header, output with ANSI stripped, commands marked `» `, footer. */
  exportTranscript(sessionId: string): string | undefined;
}

const FINAL = "('completed', 'terminated')";

function toIso(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new RangeError(`not a date: ${text}`);
  return new Date(t).toISOString();
}

function gapText(row: { raw_bytes: number; seq_start: number; seq_end: number }): string {
  return `[output ${row.seq_start}–${row.seq_end} not stored: ${row.raw_bytes} bytes dropped while persistence was paused]`;
}

export function createHistory(db: Database, options: HistoryOptions = {}): History {
  const pending = options.pending ?? null;
  const search = createSearch(db, {
    searchPath:
      options.searchPath !== undefined ? options.searchPath : db.memory ? null : searchIndexPath(db.name),
    pending,
  });
  const getRow = db.prepare('SELECT * FROM cli_sessions WHERE session_id = ?');
  const recentCommands = db.prepare(
    `SELECT text FROM cli_session_commands WHERE session_id = ? AND kind = 'command' ORDER BY id DESC LIMIT 50`,
  );
  const toInfo = (row: SessionRow) =>
    rowToSessionInfo(
      row,
      (recentCommands.all(row.session_id) as { text: string }[]).map((c) => c.text).reverse(),
    );

  const outputStmt = db.prepare(`
    SELECT seq_start, seq_end, at, data, text, gap, raw_bytes FROM session_output
    WHERE session_id = ? AND seq_end > ? ORDER BY seq_start LIMIT ?`);
  const commandsStmt = db.prepare(`
    SELECT id, seq, kind, text, at FROM cli_session_commands WHERE session_id = ?
    ORDER BY seq, id LIMIT ? OFFSET ?`);
  const commandsCount = db.prepare('SELECT count(*) AS n FROM cli_session_commands WHERE session_id = ?');
  const statesStmt = db.prepare(`
    SELECT from_state, to_state, reason, at FROM session_state_history WHERE session_id = ? ORDER BY id`);

  const mapOutput = (r: Record<string, unknown>): StoredOutputRow => ({
    seq_start: r.seq_start as number,
    seq_end: r.seq_end as number,
    at: r.at as string,
    data: r.data as string,
    text: r.text as string,
    gap: r.gap === 1,
    raw_bytes: r.raw_bytes as number,
  });
  const lastRowsStmt = db.prepare(`
    SELECT seq_start, seq_end, at, data, text, gap, raw_bytes FROM session_output
    WHERE session_id = ? ORDER BY seq_start DESC LIMIT 256`);

  /** Output not stored yet, applied after the session's stored rows: the stored rows it changed (a
   *  continuation, an amendment; by seq_start) and the rows it adds. Call inside the read transaction
   *  of the stored rows it goes with (`snapshot`). */
  function pendingFor(sessionId: string): {
    changed: Map<number, StoredOutputRow>;
    added: StoredOutputRow[];
  } | null {
    if (!pending) return null;
    const ops = pending.ops(sessionId, storedThrough(db, pending.run));
    if (ops.length === 0) return null;
    const tail = ops.some((o) => o.kind !== 'row')
      ? (lastRowsStmt.all(sessionId) as Record<string, unknown>[]).map(mapOutput).reverse()
      : [];
    return applyPending(tail, ops);
  }
  /** One read snapshot: stored rows and the ingester's progress agree. */
  const snapshot = <T>(fn: () => T): T => db.transaction(fn).deferred();

  const history: History = {
    listSessions(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.status === 'active') where.push(`ended_at IS NULL AND state NOT IN ${FINAL}`);
      else if (filter.status === 'ended') where.push(`(ended_at IS NOT NULL OR state IN ${FINAL})`);
      else if (filter.status) {
        where.push('state = ?');
        params.push(filter.status);
      }
      if (filter.cli_tool) {
        where.push('cli_tool = ?');
        params.push(filter.cli_tool);
      }
      if (filter.user_id) {
        where.push('user_id = ?');
        params.push(filter.user_id);
      }
      const since = toIso(filter.since);
      if (since) {
        where.push('created_at >= ?');
        params.push(since);
      }
      const until = toIso(filter.until);
      if (until) {
        where.push('created_at < ?');
        params.push(until);
      }
      const limit = filter.limit ?? 50;
      const offset = filter.offset ?? 0;
      const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      const total = (
        db.prepare(`SELECT count(*) AS n FROM cli_sessions ${clause}`).get(...params) as { n: number }
      ).n;
      const rows = db
        .prepare(`SELECT * FROM cli_sessions ${clause} ORDER BY created_at DESC, session_id LIMIT ? OFFSET ?`)
        .all(...params, limit, offset) as SessionRow[];
      return { items: rows.map(toInfo), total, limit, offset };
    },

    getSession(sessionId) {
      const row = getRow.get(sessionId) as SessionRow | undefined;
      return row ? toInfo(row) : undefined;
    },

    entries(sessionId, filter = {}) {
      const type = filter.message_type ?? 'all';
      const limit = filter.limit ?? 100;
      const offset = filter.offset ?? 0;
      const parts: string[] = [];
      // ord keeps a command before the output it caused when both carry the same millisecond.
      if (type === 'all' || type === 'command')
        parts.push(`SELECT 'command' AS t, at, 0 AS ord, id, seq AS a, NULL AS b, text AS x, kind AS y,
          NULL AS z, 0 AS gap, 0 AS raw_bytes FROM cli_session_commands WHERE session_id = @id
          ${filter.keys ? '' : "AND kind = 'command'"}`);
      if (type === 'all' || type === 'output')
        parts.push(`SELECT 'output' AS t, at, 1 AS ord, id, seq_start AS a, seq_end AS b,
          ${filter.raw ? 'data' : 'text'} AS x, NULL AS y, NULL AS z, gap, raw_bytes
          FROM session_output WHERE session_id = @id`);
      if (type === 'all' || type === 'state')
        parts.push(`SELECT 'state' AS t, at, 2 AS ord, id, NULL AS a, NULL AS b, from_state AS x,
          to_state AS y, reason AS z, 0 AS gap, 0 AS raw_bytes FROM session_state_history WHERE session_id = @id`);
      const union = parts.join(' UNION ALL ');
      const read = snapshot(() => {
        const p = type === 'all' || type === 'output' ? pendingFor(sessionId) : null;
        const total = (
          db.prepare(`SELECT count(*) AS n FROM (${union})`).get({ id: sessionId }) as { n: number }
        ).n;
        // With output not stored yet, the page is cut after merging it in (it is the newest output).
        const rows = db
          .prepare(`${union} ORDER BY at, ord, id LIMIT @limit OFFSET @offset`)
          .all({ id: sessionId, limit: p ? offset + limit : limit, offset: p ? 0 : offset }) as Record<
          string,
          unknown
        >[];
        if (!p) return { rows, total };
        for (const r of rows) {
          const c = r.t === 'output' ? p.changed.get(r.a as number) : undefined;
          if (c) r.x = filter.raw ? c.data : c.text;
        }
        const added = p.added.map(
          (o): Record<string, unknown> => ({
            t: 'output',
            at: o.at,
            ord: 1,
            id: Number.MAX_SAFE_INTEGER,
            a: o.seq_start,
            b: o.seq_end,
            x: filter.raw ? o.data : o.text,
            gap: o.gap ? 1 : 0,
            raw_bytes: o.raw_bytes,
          }),
        );
        const all = [...rows, ...added].sort(
          (x, y) => (x.at as string).localeCompare(y.at as string) || (x.ord as number) - (y.ord as number),
        );
        return { rows: all.slice(offset, offset + limit), total: total + added.length };
      });
      const { rows, total } = read;
      const items = rows.map((r): HistoryEntry => {
        if (r.t === 'command')
          return {
            message_type: 'command',
            at: r.at as string,
            seq: r.a as number,
            command: r.x as string,
            kind: r.y as 'command' | 'input',
          };
        if (r.t === 'output')
          return {
            message_type: 'output',
            at: r.at as string,
            seq_start: r.a as number,
            seq_end: r.b as number,
            output:
              r.gap === 1
                ? gapText({
                    raw_bytes: r.raw_bytes as number,
                    seq_start: r.a as number,
                    seq_end: r.b as number,
                  })
                : (r.x as string),
          };
        const reason = JSON.parse(r.z as string) as Partial<StateReason>;
        return {
          message_type: 'state',
          at: r.at as string,
          from: (r.x as string | null) ?? null,
          to: r.y as string,
          reason: reason.detail ?? '',
        };
      });
      return { items, total, limit, offset };
    },

    commands(sessionId, page = {}) {
      const limit = page.limit ?? 100;
      const offset = page.offset ?? 0;
      const items = commandsStmt.all(sessionId, limit, offset) as StoredCommandRow[];
      const total = (commandsCount.get(sessionId) as { n: number }).n;
      return { items, total, limit, offset };
    },

    output(sessionId, afterSeq = 0, limit = 1000) {
      return snapshot(() => {
        const stored = (outputStmt.all(sessionId, afterSeq, limit) as Record<string, unknown>[]).map(
          mapOutput,
        );
        const p = pendingFor(sessionId);
        if (!p) return stored;
        const rows = stored.map((r) => p.changed.get(r.seq_start) ?? r);
        if (limit !== -1 && rows.length >= limit) return rows;
        for (const r of p.added) if (r.seq_end > afterSeq) rows.push(r);
        return limit === -1 ? rows : rows.slice(0, limit);
      });
    },

    stateHistory(sessionId) {
      return (statesStmt.all(sessionId) as Record<string, unknown>[]).map((r) => ({
        from: r.from_state as SessionInfo['state'] | null,
        to: r.to_state as SessionInfo['state'],
        reason: JSON.parse(r.reason as string) as StateReason,
        at: r.at as string,
      }));
    },

    search(query) {
      return snapshot(() => search(query));
    },

    exportJson(sessionId) {
      return snapshot(() => exportJson(sessionId));
    },

    exportTranscript(sessionId) {
      return snapshot(() => exportTranscript(sessionId));
    },
  };

  function exportJson(sessionId: string): SessionExport | undefined {
    const row = getRow.get(sessionId) as SessionRow | undefined;
    if (!row) return undefined;
    return {
      format: 'autodev.session.v1',
      exported_at: new Date().toISOString(),
      session: toInfo(row),
      output_trimmed_seq: row.output_trimmed_seq,
      commands: commandsStmt.all(sessionId, -1, 0) as StoredCommandRow[],
      output: history.output(sessionId, 0, -1),
      state_history: history.stateHistory(sessionId),
    };
  }

  function exportTranscript(sessionId: string): string | undefined {
    const row = getRow.get(sessionId) as SessionRow | undefined;
    if (!row) return undefined;
    const info = toInfo(row);
    const lines: string[] = [
      `# AutoDev session ${info.session_id} — ${info.name} (${info.cli_tool})`,
      `# user ${info.user_id} · created ${info.created_at} · directory ${info.current_directory}`,
    ];
    if (row.output_trimmed_seq > 0)
      lines.push(`# output up to seq ${row.output_trimmed_seq} removed by retention`);
    lines.push('');
    // Commands and output merged by time; `input` (raw keys) is echoed in the output already.
    const merged = db
      .prepare(`
          SELECT at, 0 AS ord, id, 'command' AS t, text, 0 AS gap, 0 AS raw_bytes, seq AS a, seq AS b
          FROM cli_session_commands WHERE session_id = @id AND kind = 'command'
          UNION ALL
          SELECT at, 1, id, 'output', text, gap, raw_bytes, seq_start, seq_end
          FROM session_output WHERE session_id = @id
          ORDER BY at, ord, id`)
      .all({ id: sessionId }) as Record<string, unknown>[];
    const p = pendingFor(sessionId);
    if (p) {
      for (const r of merged) {
        const c = r.t === 'output' ? p.changed.get(r.a as number) : undefined;
        if (c) r.text = c.text;
      }
      for (const o of p.added)
        merged.push({
          at: o.at,
          ord: 1,
          t: 'output',
          text: o.text,
          gap: o.gap ? 1 : 0,
          raw_bytes: o.raw_bytes,
          a: o.seq_start,
          b: o.seq_end,
        });
      merged.sort(
        (x, y) => (x.at as string).localeCompare(y.at as string) || (x.ord as number) - (y.ord as number),
      );
    }
    let body = '';
    for (const r of merged) {
      if (r.t === 'command') {
        if (body.length > 0 && !body.endsWith('\n')) body += '\n';
        body += `» ${r.text as string}\n`;
      } else if (r.gap === 1) {
        if (body.length > 0 && !body.endsWith('\n')) body += '\n';
        body += `${gapText({ raw_bytes: r.raw_bytes as number, seq_start: r.a as number, seq_end: r.b as number })}\n`;
      } else body += r.text as string;
    }
    lines.push(body.endsWith('\n') || body.length === 0 ? body : `${body}\n`);
    const end =
      info.ended_at === null
        ? `# state ${info.state} (still live when exported)`
        : `# ended ${info.ended_at} · state ${info.state} · exit ${info.exit_code ?? info.exit_signal ?? 'unknown'}` +
          ` · ${info.state_reason.detail}`;
    lines.push(end);
    return `${lines.join('\n')}\n`;
  }
  return history;
}
