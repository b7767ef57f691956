import type { BudgetAction, BudgetEvent, BudgetState, BudgetStatus } from '../../../src-shared/usage.ts';

/**
 * Optional spending limits for interactive sessions (agent-deck has the same two): a daily amount over
 * every session, and an amount per session. Past one, `warn` announces it (a live `budget` event, the
 * UI shows it); `stop` also refuses new turns — messages through the API and prompts sent with
 * `command` — while a person can still type into the terminal. Amounts are USD at the providers'
 * prices; calls of unpriced models do not count.
 */
export interface BudgetConfig {
  daily_usd?: number | null;
  session_usd?: number | null;
  action?: BudgetAction;
}

export interface BudgetFigures {
  dayCost(day: string): number;
  sessionCost(sessionId: string): number;
  today(): string;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

export class Budgets {
  private readonly _c: BudgetConfig;
  private readonly _f: BudgetFigures;
  /** Crossings already announced: `daily:<day>`, `session:<id>`. */
  private readonly _announced = new Set<string>();

  constructor(config: BudgetConfig, figures: BudgetFigures) {
    this._c = config;
    this._f = figures;
  }

  get action(): BudgetAction {
    return this._c.action ?? 'warn';
  }

  /** Budgets this session's new figures crossed (each announced once: per day, per session). */
  check(sessionId: string): BudgetEvent[] {
    const events: BudgetEvent[] = [];
    const day = this._f.today();
    const daily = this._c.daily_usd;
    if (daily != null) {
      const spent = this._f.dayCost(day);
      if (spent >= daily && !this._announced.has(`daily:${day}`)) {
        this._announced.add(`daily:${day}`);
        events.push({
          scope: 'daily',
          action: this.action,
          limit_usd: daily,
          spent_usd: spent,
          session_id: null,
          day,
        });
      }
    }
    const per = this._c.session_usd;
    if (per != null) {
      const spent = this._f.sessionCost(sessionId);
      if (spent >= per && !this._announced.has(`session:${sessionId}`)) {
        this._announced.add(`session:${sessionId}`);
        events.push({
          scope: 'session',
          action: this.action,
          limit_usd: per,
          spent_usd: spent,
          session_id: sessionId,
          day,
        });
      }
    }
    return events;
  }

  /** Why a new turn of this session is refused (action `stop` and a budget passed), else null. */
  refusal(sessionId: string): string | null {
    if (this.action !== 'stop') return null;
    const daily = this._c.daily_usd;
    if (daily != null) {
      const spent = this._f.dayCost(this._f.today());
      if (spent >= daily)
        return `daily budget reached: ${usd(spent)} spent today of ${usd(daily)} (usage.budgets.daily_usd); no new turns until tomorrow`;
    }
    const per = this._c.session_usd;
    if (per != null) {
      const spent = this._f.sessionCost(sessionId);
      if (spent >= per)
        return `session budget reached: ${usd(spent)} spent in this session of ${usd(per)} (usage.budgets.session_usd); no new turns`;
    }
    return null;
  }

  status(liveSessions: readonly string[]): BudgetStatus {
    const daily = this._c.daily_usd;
    const per = this._c.session_usd;
    let dailyState: BudgetState | null = null;
    if (daily != null) {
      const spent = this._f.dayCost(this._f.today());
      dailyState = { scope: 'daily', limit_usd: daily, spent_usd: spent, exceeded: spent >= daily };
    }
    const sessions: BudgetState[] = [];
    if (per != null) {
      for (const id of liveSessions) {
        const spent = this._f.sessionCost(id);
        if (spent >= per)
          sessions.push({
            scope: 'session',
            limit_usd: per,
            spent_usd: spent,
            session_id: id,
            exceeded: true,
          });
      }
    }
    return { action: this.action, daily: dailyState, sessions, session_limit_usd: per ?? null };
  }
}
