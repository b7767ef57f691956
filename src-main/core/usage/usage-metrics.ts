import { Gauge, type Registry } from 'prom-client';
import type { BudgetStatus, ProviderUsage } from '../../../src-shared/usage.ts';

export interface UsageFigures {
  allTime: ProviderUsage[];
  today: (ProviderUsage & { day: string })[];
  budgets: BudgetStatus;
}

/**
 * Interactive sessions' tokens and cost on /metrics, beside the tasks' (tasks/task-metrics.ts, same
 * pattern: read at scrape time, one computation per scrape). Per provider, never per session (the label
 * set stays bounded); per session and per day are in GET /usage.
 */
export function registerUsageCollectors(registry: Registry, read: () => UsageFigures): () => void {
  const names = [
    'autodev_session_tokens_total',
    'autodev_session_cost_usd_total',
    'autodev_session_cost_usd_today',
    'autodev_session_model_calls_total',
    'autodev_usage_budget_ratio',
  ];
  let snapshot: UsageFigures | null = null;
  let at = 0;
  const figures = () => {
    if (!snapshot || Date.now() - at > 500) {
      snapshot = read();
      at = Date.now();
    }
    return snapshot;
  };
  new Gauge({
    name: 'autodev_session_tokens_total',
    help: 'Tokens of interactive sessions (from the agents’ own records), per provider and kind',
    labelNames: ['cli_tool', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of figures().allTime) {
        this.set({ cli_tool: p.cli_tool, kind: 'input' }, p.input_tokens);
        this.set({ cli_tool: p.cli_tool, kind: 'output' }, p.output_tokens);
        this.set({ cli_tool: p.cli_tool, kind: 'cache_read' }, p.cache_read_tokens);
        this.set({ cli_tool: p.cli_tool, kind: 'cache_write' }, p.cache_write_tokens);
      }
    },
  });
  new Gauge({
    name: 'autodev_session_cost_usd_total',
    help: 'Cost of interactive sessions (USD at the providers’ model prices), per provider',
    labelNames: ['cli_tool'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of figures().allTime) this.set({ cli_tool: p.cli_tool }, p.cost_usd);
    },
  });
  new Gauge({
    name: 'autodev_session_cost_usd_today',
    help: 'Cost of interactive sessions today (local day, USD), per provider',
    labelNames: ['cli_tool'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of figures().today) this.set({ cli_tool: p.cli_tool }, p.cost_usd);
    },
  });
  new Gauge({
    name: 'autodev_session_model_calls_total',
    help: 'Model calls of interactive sessions, per provider; priced="false" had no price for their model',
    labelNames: ['cli_tool', 'priced'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of figures().allTime) {
        this.set({ cli_tool: p.cli_tool, priced: 'true' }, p.calls - p.unpriced_calls);
        this.set({ cli_tool: p.cli_tool, priced: 'false' }, p.unpriced_calls);
      }
    },
  });
  new Gauge({
    name: 'autodev_usage_budget_ratio',
    help: 'Spent / budget for the daily budget (only when one is configured)',
    labelNames: ['scope'],
    registers: [registry],
    collect() {
      this.reset();
      const daily = figures().budgets.daily;
      if (daily && daily.limit_usd > 0) this.set({ scope: 'daily' }, daily.spent_usd / daily.limit_usd);
    },
  });
  return () => {
    for (const n of names) registry.removeSingleMetric(n);
  };
}
