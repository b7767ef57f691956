import type { Database } from 'better-sqlite3';
import {
  addTotals,
  type DayUsage,
  emptyTotals,
  type ModelUsage,
  type ProviderUsage,
  type SessionUsage,
  type UsageTotals,
} from '../../../src-shared/usage.ts';

/** One row: a session's calls of one model on one local day. */
export interface UsageRow extends UsageTotals {
  day: string;
  model: string;
}

export interface UsageSource {
  session_id: string;
  cli_tool: string;
  name: string | null;
  conversation_id: string | null;
  format: string;
  files: number;
  scanned_at: string;
  error: string | null;
}

/** The local calendar day (YYYY-MM-DD) of an instant: spend is counted per day where the user lives. */
export function localDay(at: number | string | Date): string {
  const d = at instanceof Date ? at : new Date(at);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const TOTALS_SQL = `COALESCE(SUM(calls), 0) AS calls, COALESCE(SUM(input_tokens), 0) AS input_tokens,
  COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cache_read_tokens), 0) AS cache_read_tokens,
  COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd,
  COALESCE(SUM(unpriced_calls), 0) AS unpriced_calls`;

function totalsOf(row: Record<string, unknown>): UsageTotals {
  return {
    calls: Number(row.calls ?? 0),
    input_tokens: Number(row.input_tokens ?? 0),
    output_tokens: Number(row.output_tokens ?? 0),
    cache_read_tokens: Number(row.cache_read_tokens ?? 0),
    cache_write_tokens: Number(row.cache_write_tokens ?? 0),
    cost_usd: Number(row.cost_usd ?? 0),
    unpriced_calls: Number(row.unpriced_calls ?? 0),
  };
}

/**
 * session_usage / session_usage_source (schema 010): a session's figures per day and model, written
 * whole on every scan (idempotent), read back per session, per provider and per day.
 */
export class UsageStore {
  private readonly _db: Database;

  constructor(db: Database) {
    this._db = db;
  }

  /** Replace the session's rows (one transaction: readers never see half a session). */
  replaceSession(source: UsageSource, rows: readonly UsageRow[]): void {
    const del = this._db.prepare('DELETE FROM session_usage WHERE session_id = ?');
    const ins = this._db.prepare(
      `INSERT INTO session_usage (session_id, cli_tool, day, model, calls, input_tokens, output_tokens,
         cache_read_tokens, cache_write_tokens, cost_usd, unpriced_calls)
       VALUES (@session_id, @cli_tool, @day, @model, @calls, @input_tokens, @output_tokens,
         @cache_read_tokens, @cache_write_tokens, @cost_usd, @unpriced_calls)`,
    );
    const src = this._db.prepare(
      `INSERT INTO session_usage_source (session_id, cli_tool, name, conversation_id, format, files, scanned_at, error)
       VALUES (@session_id, @cli_tool, @name, @conversation_id, @format, @files, @scanned_at, @error)
       ON CONFLICT (session_id) DO UPDATE SET cli_tool = excluded.cli_tool, name = excluded.name,
         conversation_id = excluded.conversation_id, format = excluded.format, files = excluded.files,
         scanned_at = excluded.scanned_at, error = excluded.error`,
    );
    this._db.transaction(() => {
      del.run(source.session_id);
      for (const row of rows) ins.run({ session_id: source.session_id, cli_tool: source.cli_tool, ...row });
      src.run(source);
    })();
  }

  session(sessionId: string): SessionUsage | null {
    const source = this._db
      .prepare('SELECT * FROM session_usage_source WHERE session_id = ?')
      .get(sessionId) as UsageSource | undefined;
    if (!source) return null;
    const rows = this._db
      .prepare('SELECT * FROM session_usage WHERE session_id = ? ORDER BY day, model')
      .all(sessionId) as (UsageRow & Record<string, unknown>)[];
    return sessionUsageOf(source, rows);
  }

  /** Per session with usage in [sinceDay, untilDay], most expensive first. */
  sessions(sinceDay: string, untilDay: string, cliTool: string | undefined, limit: number): SessionUsage[] {
    const filter = cliTool ? 'AND cli_tool = @cli_tool' : '';
    const ids = this._db
      .prepare(
        `SELECT session_id, SUM(cost_usd) AS usd, SUM(calls) AS n FROM session_usage
         WHERE day >= @since AND day <= @until ${filter}
         GROUP BY session_id ORDER BY usd DESC, n DESC LIMIT @limit`,
      )
      .all({ since: sinceDay, until: untilDay, cli_tool: cliTool, limit }) as { session_id: string }[];
    const out: SessionUsage[] = [];
    for (const { session_id } of ids) {
      const s = this.session(session_id);
      if (s) out.push(s);
    }
    return out;
  }

  /** Totals per day and provider in the range. */
  daysByProvider(sinceDay: string, untilDay: string, cliTool?: string): (ProviderUsage & { day: string })[] {
    const filter = cliTool ? 'AND cli_tool = @cli_tool' : '';
    return (
      this._db
        .prepare(
          `SELECT day, cli_tool, ${TOTALS_SQL} FROM session_usage
           WHERE day >= @since AND day <= @until ${filter} GROUP BY day, cli_tool ORDER BY day, cli_tool`,
        )
        .all({ since: sinceDay, until: untilDay, cli_tool: cliTool }) as Record<string, unknown>[]
    ).map((r) => ({ day: String(r.day), cli_tool: String(r.cli_tool), ...totalsOf(r) }));
  }

  /** All-time totals per provider (/metrics). */
  providersAllTime(): ProviderUsage[] {
    return (
      this._db
        .prepare(`SELECT cli_tool, ${TOTALS_SQL} FROM session_usage GROUP BY cli_tool ORDER BY cli_tool`)
        .all() as Record<string, unknown>[]
    ).map((r) => ({ cli_tool: String(r.cli_tool), ...totalsOf(r) }));
  }

  /** USD spent on a day (every session). */
  dayCost(day: string): number {
    const row = this._db
      .prepare('SELECT COALESCE(SUM(cost_usd), 0) AS usd FROM session_usage WHERE day = ?')
      .get(day) as {
      usd: number;
    };
    return row.usd;
  }
}

function sessionUsageOf(source: UsageSource, rows: (UsageRow & Record<string, unknown>)[]): SessionUsage {
  const totals = emptyTotals();
  const models = new Map<string, ModelUsage>();
  const days = new Map<string, DayUsage>();
  for (const r of rows) {
    const t = totalsOf(r);
    addTotals(totals, t);
    const m = models.get(r.model) ?? { model: r.model, ...emptyTotals() };
    models.set(r.model, addTotals(m, t) as ModelUsage);
    const d = days.get(r.day) ?? { day: r.day, ...emptyTotals() };
    days.set(r.day, addTotals(d, t) as DayUsage);
  }
  return {
    session_id: source.session_id,
    name: source.name,
    cli_tool: source.cli_tool,
    conversation_id: source.conversation_id,
    totals,
    models: [...models.values()].sort((a, b) => b.cost_usd - a.cost_usd || a.model.localeCompare(b.model)),
    days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
    source: {
      format: source.format,
      files: source.files,
      scanned_at: source.scanned_at,
      error: source.error,
    },
  };
}
