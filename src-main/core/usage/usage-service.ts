import type { Database } from 'better-sqlite3';
import type { Registry } from 'prom-client';
import type { SessionInfo } from '../../../src-shared/session.ts';
import {
  addTotals,
  type BudgetEvent,
  type BudgetStatus,
  type DayUsage,
  emptyTotals,
  type ProviderUsage,
  type SessionUsage,
  type UsageQuery,
  UsageQuerySchema,
  type UsageReport,
} from '../../../src-shared/usage.ts';
import type { SessionRecords } from '../conversation/session-records.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderRegistry } from '../providers/types.ts';
import type { SessionManager } from '../sessions/types.ts';
import { Emitter, type Event } from '../util/event.ts';
import { type BudgetConfig, Budgets } from './budgets.ts';
import { addCall, PriceList } from './pricing.ts';
import { registerUsageCollectors } from './usage-metrics.ts';
import { localDay, type UsageRow, UsageStore } from './usage-store.ts';

export interface UsageServiceOptions {
  db: Database;
  sessions: SessionManager;
  records: SessionRecords;
  providers: ProviderRegistry;
  /** Ended sessions of earlier runs. */
  storedSession?: (sessionId: string) => SessionInfo | undefined;
  budgets?: BudgetConfig;
  /** Live sessions' records are checked this often (a stat when nothing changed). Default 15 s. */
  scanIntervalMs?: number;
  logger?: Logger;
  /** Clock (tests move the day). */
  now?: () => number;
}

export interface UsageService {
  /** Reads the session's records now and stores its figures; null when it has none. */
  scan(sessionId: string): SessionUsage | null;
  /** The session's figures (scanned first while it lives). */
  session(sessionId: string): SessionUsage | null;
  /** Per provider, per day and per session, with the budgets' state (GET /usage). */
  report(query?: UsageQuery): UsageReport;
  budgets(): BudgetStatus;
  /** A budget with action "stop" was passed: the refusal for a new turn of this session, else null. */
  admitTurn(session: SessionInfo): string | null;
  readonly onDidChangeUsage: Event<SessionUsage>;
  readonly onBudget: Event<BudgetEvent>;
  /** /metrics collectors (tokens and cost per provider, today's cost). */
  registerCollectors(registry: Registry): () => void;
  dispose(): void;
}

export function createUsageService(options: UsageServiceOptions): UsageService {
  return new SessionUsageService(options);
}

/**
 * Tokens and cost of interactive sessions, from the agents' own records (SessionRecords), priced with
 * each provider's model prices (pricing.ts, the tasks' cost formula) and stored per session, day and
 * model (usage-store.ts). A session is read when a turn ends, when it exits, and every
 * `scanIntervalMs` while it lives; a record that did not change costs a stat.
 */
class SessionUsageService implements UsageService {
  private readonly _o: UsageServiceOptions;
  private readonly _store: UsageStore;
  private readonly _budgets: Budgets;
  /** What was last stored per session: calls and files (unchanged records are not rewritten). */
  private readonly _seen = new Map<string, string>();
  private readonly _prices = new Map<string, PriceList>();
  private readonly _onDidChangeUsage = new Emitter<SessionUsage>((e) => this._listenerError(e));
  private readonly _onBudget = new Emitter<BudgetEvent>((e) => this._listenerError(e));
  readonly onDidChangeUsage = this._onDidChangeUsage.event;
  readonly onBudget = this._onBudget.event;
  private readonly _timer: NodeJS.Timeout;
  private _disposed = false;
  private readonly _disposables: { dispose(): void }[];

  constructor(options: UsageServiceOptions) {
    this._o = options;
    this._store = new UsageStore(options.db);
    const now = options.now ?? Date.now;
    this._budgets = new Budgets(options.budgets ?? {}, {
      dayCost: (day) => this._store.dayCost(day),
      sessionCost: (id) => this._store.session(id)?.totals.cost_usd ?? 0,
      today: () => localDay(now()),
    });
    const m = options.sessions;
    this._disposables = [
      m.onDidChangeState(({ session, previous }) => {
        // A turn ended (back to waiting, or an error), or the session ended: its record grew.
        if (
          previous !== session.state &&
          ['waiting_input', 'error', 'completed', 'terminated'].includes(session.state)
        )
          this._scanSoon(session.session_id);
      }),
      m.onDidExit((s) => this._scanSoon(s.session_id)),
    ];
    this._timer = setInterval(() => {
      for (const s of m.list()) if (s.ended_at === null) this._safeScan(s.session_id);
    }, options.scanIntervalMs ?? 15_000);
    this._timer.unref();
  }

  dispose(): void {
    this._disposed = true;
    clearInterval(this._timer);
    for (const d of this._disposables) d.dispose();
    this._onDidChangeUsage.dispose();
    this._onBudget.dispose();
  }

  /** After the agent wrote its record (it writes the answer as the turn ends): a little later, twice. */
  private _scanSoon(sessionId: string): void {
    for (const ms of [300, 2000]) setTimeout(() => this._safeScan(sessionId), ms).unref();
  }

  private _safeScan(sessionId: string): void {
    // A scan scheduled after a session event may come due after the core closed the database.
    if (this._disposed) return;
    try {
      this.scan(sessionId);
    } catch (error) {
      this._o.logger?.warn('usage scan failed', { session_id: sessionId, error });
    }
  }

  private _session(sessionId: string): SessionInfo | undefined {
    return this._o.sessions.get(sessionId) ?? this._o.storedSession?.(sessionId);
  }

  private _priceList(cliTool: string): PriceList {
    let list = this._prices.get(cliTool);
    if (!list) {
      list = new PriceList(this._o.providers.get(cliTool)?.prices);
      this._prices.set(cliTool, list);
    }
    return list;
  }

  scan(sessionId: string): SessionUsage | null {
    const session = this._session(sessionId);
    if (!session) return null;
    const view = this._o.records.read(session);
    if (!view) return this._store.session(sessionId);
    const calls = view.records.flatMap((r) => r.usage);
    const fingerprint = `${view.files.length}:${calls.length}:${calls[calls.length - 1]?.id ?? ''}:${session.name}`;
    if (this._seen.get(sessionId) === fingerprint) return this._store.session(sessionId);
    const prices = this._priceList(session.cli_tool);
    const rows = new Map<string, UsageRow>();
    for (const call of calls) {
      const day = localDay(call.at);
      const model = call.model ?? '';
      const key = `${day}\u0000${model}`;
      const row = rows.get(key) ?? { day, model, ...emptyTotals() };
      addCall(row, call, prices.costOf(call));
      rows.set(key, row);
    }
    this._store.replaceSession(
      {
        session_id: sessionId,
        cli_tool: session.cli_tool,
        name: session.name,
        conversation_id: view.conversation_id,
        format: view.format,
        files: view.files.length,
        scanned_at: new Date().toISOString(),
        error: view.error,
      },
      [...rows.values()],
    );
    this._seen.set(sessionId, fingerprint);
    const usage = this._store.session(sessionId);
    if (usage) {
      this._onDidChangeUsage.fire(usage);
      for (const event of this._budgets.check(sessionId)) this._onBudget.fire(event);
    }
    return usage;
  }

  session(sessionId: string): SessionUsage | null {
    const live = this._o.sessions.get(sessionId);
    return live ? this.scan(sessionId) : this._store.session(sessionId);
  }

  report(query: UsageQuery = {}): UsageReport {
    const q = UsageQuerySchema.parse(query);
    const now = (this._o.now ?? Date.now)();
    const until = localDay(now);
    const since = localDay(now - (q.days - 1) * 24 * 3600_000);
    const rows = this._store.daysByProvider(since, until, q.cli_tool);
    const totals = emptyTotals();
    const providers = new Map<string, ProviderUsage>();
    const days = new Map<string, DayUsage & { providers: ProviderUsage[] }>();
    for (const r of rows) {
      const { day, ...provider } = r;
      addTotals(totals, provider);
      const p = providers.get(r.cli_tool) ?? { cli_tool: r.cli_tool, ...emptyTotals() };
      providers.set(r.cli_tool, addTotals(p, provider) as ProviderUsage);
      const d = days.get(day) ?? { day, ...emptyTotals(), providers: [] };
      addTotals(d, provider);
      d.providers.push(provider);
      days.set(day, d);
    }
    return {
      generated_at: new Date(now).toISOString(),
      currency: 'USD',
      since_day: since,
      until_day: until,
      totals,
      providers: [...providers.values()].sort(
        (a, b) => b.cost_usd - a.cost_usd || a.cli_tool.localeCompare(b.cli_tool),
      ),
      days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
      sessions: this._store.sessions(since, until, q.cli_tool, q.limit),
      budgets: this.budgets(),
    };
  }

  budgets(): BudgetStatus {
    const live = this._o.sessions
      .list()
      .filter((s) => s.ended_at === null)
      .map((s) => s.session_id);
    return this._budgets.status(live);
  }

  admitTurn(session: SessionInfo): string | null {
    return this._budgets.refusal(session.session_id);
  }

  registerCollectors(registry: Registry): () => void {
    return registerUsageCollectors(registry, () => ({
      allTime: this._store.providersAllTime(),
      today: this._store.daysByProvider(
        localDay((this._o.now ?? Date.now)()),
        localDay((this._o.now ?? Date.now)()),
      ),
      budgets: this.budgets(),
    }));
  }

  private _listenerError(error: unknown): void {
    this._o.logger?.error('usage listener threw', { error });
  }
}
