import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { emptyTotals, type SessionUsage, type UsageReport } from '../../src-shared/usage.ts';
import { loadRenderer } from './helpers/renderer.ts';

// biome-ignore lint/suspicious/noExplicitAny: components are loaded through a computed import (see helpers/tsx.ts)
type Component = (props: any) => unknown;
const { SessionUsageTable, UsageTables } = await loadRenderer<{
  SessionUsageTable: Component;
  UsageTables: Component;
}>('components/UsagePanels.tsx');
const fmt = await loadRenderer<{
  formatUsd(n: number): string;
  formatTokens(n: number): string;
  costLabel(t: ReturnType<typeof emptyTotals>): string;
  budgetWarnings(b: UsageReport['budgets']): string[];
}>('model/usage-format.ts');

const render = (c: Component, props: object) =>
  renderToString(h(c as never, props as never))
    .replace(/<!-- -->/g, '')
    .replace(/&#x27;/g, "'");
const totals = (over: Partial<ReturnType<typeof emptyTotals>>) => ({ ...emptyTotals(), ...over });

const session: SessionUsage = {
  session_id: 's1',
  name: 'Claude Code',
  cli_tool: 'claude',
  conversation_id: 'c1',
  totals: totals({
    calls: 3,
    input_tokens: 1500,
    cache_read_tokens: 10_000,
    output_tokens: 420,
    cost_usd: 0.0123,
    unpriced_calls: 1,
  }),
  models: [
    {
      model: 'claude-sonnet-4-5',
      ...totals({ calls: 2, input_tokens: 1000, output_tokens: 400, cost_usd: 0.0123 }),
    },
    {
      model: 'mystery-model',
      ...totals({ calls: 1, input_tokens: 500, output_tokens: 20, unpriced_calls: 1 }),
    },
  ],
  days: [{ day: '2026-12-04', ...totals({ calls: 3, cost_usd: 0.0123 }) }],
  source: { format: 'claude-jsonl', files: 1, scanned_at: '2026-12-04T00:00:00Z', error: null },
};

test('format: dollars keep small sums readable; tokens abbreviate; unpriced calls are named, never $0', () => {
  assert.equal(fmt.formatUsd(0.0086), '$0.0086');
  assert.equal(fmt.formatUsd(1.234), '$1.23');
  assert.equal(fmt.formatUsd(1234.5), '$1,235');
  assert.equal(fmt.formatTokens(950), '950');
  assert.equal(fmt.formatTokens(12_345), '12k');
  assert.equal(fmt.formatTokens(4_500_000), '4.5M');
  assert.equal(fmt.costLabel(totals({ calls: 2, unpriced_calls: 2 })), 'no price');
  assert.equal(fmt.costLabel(totals({ calls: 2, unpriced_calls: 1, cost_usd: 0.5 })), '$0.50 + 1 unpriced');
  assert.equal(fmt.costLabel(totals({})), '—');
});

test('SessionUsageTable: per model and the total (cost, tokens incl. cache reads)', () => {
  const html = render(SessionUsageTable, { usage: session });
  assert.match(html, /claude-sonnet-4-5/);
  assert.match(html, /mystery-model<\/td><td>1<\/td><td>500 in · 20 out<\/td><td>no price/);
  assert.match(html, /data-field="session-cost">\$0\.012 \+ 1 unpriced</);
  assert.match(html, /data-field="session-tokens">12k in · 420 out</);
});

test('UsageTables: per provider, per day (newest first), per session; budget warnings say what happens', () => {
  const report: UsageReport = {
    generated_at: '2026-12-04T12:00:00Z',
    currency: 'USD',
    since_day: '2026-11-05',
    until_day: '2026-12-04',
    totals: totals({ calls: 5, cost_usd: 2.5 }),
    providers: [
      { cli_tool: 'claude', ...totals({ calls: 3, cost_usd: 2 }) },
      { cli_tool: 'codex', ...totals({ calls: 2, cost_usd: 0.5 }) },
    ],
    days: [
      { day: '2026-12-03', ...totals({ calls: 2, cost_usd: 0.5 }), providers: [] },
      { day: '2026-12-04', ...totals({ calls: 3, cost_usd: 2 }), providers: [] },
    ],
    sessions: [session],
    budgets: {
      action: 'stop',
      daily: { scope: 'daily', limit_usd: 2, spent_usd: 2, exceeded: true },
      sessions: [],
      session_limit_usd: null,
    },
  };
  const html = render(UsageTables, { report });
  assert.match(html, /data-field="usage-total">\$2\.50</);
  assert.ok(html.indexOf('2026-12-04') < html.indexOf('2026-12-03'), 'newest day first');
  assert.match(html, /<td>claude<\/td><td>[^<]*<\/td><td>\$2\.00<\/td>/);
  assert.match(html, /<td>Claude Code<\/td><td>claude<\/td>/);
  assert.match(html, /role="alert">Daily budget reached: \$2\.00 of \$2\.00 today — new turns are refused</);
  assert.deepEqual(fmt.budgetWarnings({ ...report.budgets, action: 'warn', daily: null }), []);
});
