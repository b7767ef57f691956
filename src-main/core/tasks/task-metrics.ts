import type { Database } from 'better-sqlite3';
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import {
  type ProviderTaskMetrics,
  TASK_STATES,
  type TaskDurationPercentiles,
  type TaskMetrics,
  type TaskState,
  type TaskTokenTotals,
} from '../../../src-shared/tasks.ts';

// The metric shapes are the contract's (GET /tasks/metrics, IPC tasks:metrics): one definition.
export type { ProviderTaskMetrics, TaskMetrics } from '../../../src-shared/tasks.ts';

type DurationPercentiles = TaskDurationPercentiles;
type TokenTotals = TaskTokenTotals;

/**
 * Nearest-rank percentile of an ascending list: the smallest value with at least p% of the values at
 * or below it. Exact values that occurred (no interpolation), so "p95 = 1200 ms" is a real run.
 */
export function nearestRank(sortedAscending: readonly number[], p: number): number | null {
  if (sortedAscending.length === 0) return null;
  return sortedAscending[rankIndex(sortedAscending.length, p)]!;
}

function rankIndex(n: number, p: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
}

function emptyCounts(): Record<TaskState, number> {
  return Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
}

function successRate(c: Record<TaskState, number>): number | null {
  const decided = c.passed + c.failed + c.error + c.timeout;
  return decided === 0 ? null : c.passed / decided;
}

/** Percentiles straight off the (cli_tool, duration_ms) index: one OFFSET probe per percentile. */
function durationPercentiles(db: Database, cliTool: string | null): DurationPercentiles {
  const filter = cliTool === null ? '' : 'cli_tool = ? AND';
  const args = cliTool === null ? [] : [cliTool];
  const count = (
    db
      .prepare(`SELECT COUNT(*) AS n FROM task_metrics WHERE ${filter} duration_ms IS NOT NULL`)
      .get(...args) as {
      n: number;
    }
  ).n;
  const at = (p: number): number | null => {
    if (count === 0) return null;
    const row = db
      .prepare(
        `SELECT duration_ms AS d FROM task_metrics WHERE ${filter} duration_ms IS NOT NULL
         ORDER BY duration_ms LIMIT 1 OFFSET ?`,
      )
      .get(...args, rankIndex(count, p)) as { d: number } | undefined;
    return row?.d ?? null;
  };
  return { count, p50: at(50), p95: at(95), p99: at(99) };
}

export function computeTaskMetrics(db: Database): TaskMetrics {
  const counts = emptyCounts();
  const byTool = new Map<string, ProviderTaskMetrics>();
  const rows = db
    .prepare('SELECT cli_tool, state, COUNT(*) AS n FROM tasks GROUP BY cli_tool, state')
    .all() as {
    cli_tool: string;
    state: TaskState;
    n: number;
  }[];
  const toolEntry = (cliTool: string): ProviderTaskMetrics => {
    let entry = byTool.get(cliTool);
    if (!entry) {
      entry = {
        cli_tool: cliTool,
        counts: emptyCounts(),
        success_rate: null,
        duration_ms: { count: 0, p50: null, p95: null, p99: null },
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cost_usd: 0,
      };
      byTool.set(cliTool, entry);
    }
    return entry;
  };
  for (const r of rows) {
    counts[r.state] += r.n;
    toolEntry(r.cli_tool).counts[r.state] += r.n;
  }
  // Tokens and cost are summed over every attempt (a retried attempt was paid for too).
  const usage = db
    .prepare(
      `SELECT cli_tool, COALESCE(SUM(input_tokens), 0) AS i, COALESCE(SUM(output_tokens), 0) AS o,
       COALESCE(SUM(cache_read_tokens), 0) AS c, COALESCE(SUM(cost_usd), 0) AS usd FROM task_metrics GROUP BY cli_tool`,
    )
    .all() as { cli_tool: string; i: number; o: number; c: number; usd: number }[];
  for (const u of usage) {
    const e = toolEntry(u.cli_tool);
    e.input_tokens = u.i;
    e.output_tokens = u.o;
    e.cache_read_tokens = u.c;
    e.cost_usd = u.usd;
  }
  for (const e of byTool.values()) {
    e.success_rate = successRate(e.counts);
    e.duration_ms = durationPercentiles(db, e.cli_tool);
  }
  const providers = [...byTool.values()].sort((a, b) => a.cli_tool.localeCompare(b.cli_tool));
  const sum = (k: keyof TokenTotals) => providers.reduce((acc, p) => acc + p[k], 0);
  return {
    counts,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    success_rate: successRate(counts),
    duration_ms: durationPercentiles(db, null),
    providers,
    input_tokens: sum('input_tokens'),
    output_tokens: sum('output_tokens'),
    cache_read_tokens: sum('cache_read_tokens'),
    cost_usd: sum('cost_usd'),
  };
}

/**
 * Registers the task collectors on a prom-client registry (the server's /metrics). Values are read at
 * scrape time from `getMetrics`, so there is no second bookkeeping to drift. Returns an unregister.
 */
export function registerTaskCollectors(registry: Registry, getMetrics: () => TaskMetrics): () => void {
  const names = [
    'autodev_tasks',
    'autodev_task_success_ratio',
    'autodev_task_duration_ms',
    'autodev_task_tokens_total',
    'autodev_task_cost_usd_total',
  ];
  let snapshot: TaskMetrics | null = null;
  let snapshotAt = 0;
  // One computation per scrape, shared by the collectors below.
  const read = () => {
    if (!snapshot || Date.now() - snapshotAt > 500) {
      snapshot = getMetrics();
      snapshotAt = Date.now();
    }
    return snapshot;
  };
  new Gauge({
    name: 'autodev_tasks',
    help: 'Tasks by provider and state',
    labelNames: ['cli_tool', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().providers) {
        for (const s of TASK_STATES) this.set({ cli_tool: p.cli_tool, state: s }, p.counts[s]);
      }
    },
  });
  new Gauge({
    name: 'autodev_task_success_ratio',
    help: 'passed / (passed + failed + error + timeout) per provider',
    labelNames: ['cli_tool'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().providers)
        if (p.success_rate !== null) this.set({ cli_tool: p.cli_tool }, p.success_rate);
    },
  });
  new Gauge({
    name: 'autodev_task_duration_ms',
    help: 'Task attempt run time percentiles (nearest rank) per provider',
    labelNames: ['cli_tool', 'quantile'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().providers) {
        const d = p.duration_ms;
        for (const [q, v] of [
          ['0.5', d.p50],
          ['0.95', d.p95],
          ['0.99', d.p99],
        ] as const) {
          if (v !== null) this.set({ cli_tool: p.cli_tool, quantile: q }, v);
        }
      }
    },
  });
  new Gauge({
    name: 'autodev_task_tokens_total',
    help: 'Tokens reported by one-shot agents, per provider and kind',
    labelNames: ['cli_tool', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().providers) {
        this.set({ cli_tool: p.cli_tool, kind: 'input' }, p.input_tokens);
        this.set({ cli_tool: p.cli_tool, kind: 'output' }, p.output_tokens);
        this.set({ cli_tool: p.cli_tool, kind: 'cache_read' }, p.cache_read_tokens);
      }
    },
  });
  new Gauge({
    name: 'autodev_task_cost_usd_total',
    help: 'Cost reported by one-shot agents (USD), per provider',
    labelNames: ['cli_tool'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().providers) this.set({ cli_tool: p.cli_tool }, p.cost_usd);
    },
  });
  return () => {
    for (const n of names) registry.removeSingleMetric(n);
  };
}
