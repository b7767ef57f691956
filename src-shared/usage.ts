import { z } from 'zod';
import type { TaskTokenTotals } from './tasks.ts';

/**
 * Tokens and cost of interactive sessions (issue #15, part 3), read from the agents' own records
 * (Claude Code transcripts, Codex rollouts, Gemini CLI chat files) and priced with the providers'
 * model prices. Totals extend the one-shot tasks' token totals (src-shared/tasks.ts).
 *
 *   GET /usage?days=30              → UsageReport (per provider, per day, per session; budgets)
 *   GET /cli/sessions/{id}/usage    → SessionUsage
 */

export interface UsageTotals extends TaskTokenTotals {
  /** Cache writes (Anthropic's cache creation; 0 for agents whose API has none). */
  cache_write_tokens: number;
  /** Model calls counted. */
  calls: number;
  /** Calls of a model without a price: their tokens count, their cost is not in `cost_usd`. */
  unpriced_calls: number;
}

export interface ModelUsage extends UsageTotals {
  /** As the record names it ('' when it names none). */
  model: string;
}

export interface DayUsage extends UsageTotals {
  /** Local calendar day of the model calls, YYYY-MM-DD. */
  day: string;
}

export interface ProviderUsage extends UsageTotals {
  cli_tool: string;
}

export interface SessionUsage {
  session_id: string;
  name: string | null;
  cli_tool: string;
  conversation_id: string | null;
  totals: UsageTotals;
  models: ModelUsage[];
  days: DayUsage[];
  /** Where the figures come from; null when no record was found (yet). */
  source: { format: string; files: number; scanned_at: string | null; error: string | null } | null;
}

export type BudgetScope = 'daily' | 'session';
export type BudgetAction = 'warn' | 'stop';

export interface BudgetState {
  scope: BudgetScope;
  limit_usd: number;
  spent_usd: number;
  /** `session` scope: the session (the most expensive live one in the report). */
  session_id?: string;
  exceeded: boolean;
}

export interface BudgetStatus {
  action: BudgetAction;
  daily: BudgetState | null;
  /** Sessions at or over the per-session amount. */
  sessions: BudgetState[];
  session_limit_usd: number | null;
}

export interface UsageReport {
  generated_at: string;
  currency: 'USD';
  /** First and last day covered (local calendar days). */
  since_day: string;
  until_day: string;
  totals: UsageTotals;
  providers: ProviderUsage[];
  days: (DayUsage & { providers: ProviderUsage[] })[];
  /** Sessions with usage in the range, most expensive first (at most `limit`). */
  sessions: SessionUsage[];
  budgets: BudgetStatus;
}

export const UsageQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(366).default(30),
  cli_tool: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type UsageQuery = z.input<typeof UsageQuerySchema>;

/** A budget was crossed (`{kind: 'budget'}` live event). */
export interface BudgetEvent {
  scope: BudgetScope;
  action: BudgetAction;
  limit_usd: number;
  spent_usd: number;
  session_id: string | null;
  day: string;
}

export function emptyTotals(): UsageTotals {
  return {
    calls: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: 0,
    unpriced_calls: 0,
  };
}

export function addTotals(into: UsageTotals, add: UsageTotals): UsageTotals {
  into.calls += add.calls;
  into.input_tokens += add.input_tokens;
  into.output_tokens += add.output_tokens;
  into.cache_read_tokens += add.cache_read_tokens;
  into.cache_write_tokens += add.cache_write_tokens;
  into.cost_usd += add.cost_usd;
  into.unpriced_calls += add.unpriced_calls;
  return into;
}
