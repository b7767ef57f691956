import type { BudgetStatus, UsageTotals } from '../../../src-shared/usage.ts';

/** `$0.0086`, `$0.012`, `$1.23`, `$1,235` — sums under a dollar keep two significant digits. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 1) return `$${usd.toPrecision(2)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd).toLocaleString('en-US')}`;
}

/** `950`, `12.3k`, `4.5M`. */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** The cost, saying when some calls had no price (their tokens count, their cost is unknown). */
export function costLabel(t: UsageTotals): string {
  if (t.calls === 0) return '—';
  if (t.unpriced_calls === t.calls) return 'no price';
  return t.unpriced_calls > 0
    ? `${formatUsd(t.cost_usd)} + ${t.unpriced_calls} unpriced`
    : formatUsd(t.cost_usd);
}

/** Input (fresh + cached reads + cache writes) and output, one line. */
export function tokensLabel(t: UsageTotals): string {
  const input = t.input_tokens + t.cache_read_tokens + t.cache_write_tokens;
  return `${formatTokens(input)} in · ${formatTokens(t.output_tokens)} out`;
}

/** The budget warnings to show (empty when nothing is over). */
export function budgetWarnings(b: BudgetStatus): string[] {
  const out: string[] = [];
  const stop = b.action === 'stop' ? ' — new turns are refused' : '';
  if (b.daily?.exceeded)
    out.push(
      `Daily budget reached: ${formatUsd(b.daily.spent_usd)} of ${formatUsd(b.daily.limit_usd)} today${stop}`,
    );
  for (const s of b.sessions)
    out.push(
      `Session budget reached: ${formatUsd(s.spent_usd)} of ${formatUsd(s.limit_usd)} in one session${stop}`,
    );
  return out;
}
