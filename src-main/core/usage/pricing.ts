import { emptyTotals, type UsageTotals } from '../../../src-shared/usage.ts';
import type { RecordUsage } from '../conversation/records/index.ts';
import type { ModelPrice } from '../providers/conversation-spec.ts';
import { apiCostUsd } from '../tasks/api-runner.ts';

/**
 * Prices model calls with the provider's price list (first matching model wins) and the tasks' cost
 * formula (tasks/api-runner.ts `apiCostUsd`: tokens × USD per million, by kind), so one-shot tasks and
 * interactive sessions are costed the same way. A call whose model has no price keeps its tokens and
 * counts in `unpriced_calls`, never as $0 spent silently.
 */
export class PriceList {
  private readonly _prices: { re: RegExp; price: ModelPrice }[];
  private readonly _cache = new Map<string, ModelPrice | null>();

  constructor(prices: readonly ModelPrice[] | undefined) {
    this._prices = (prices ?? []).map((price) => ({ re: new RegExp(price.model, 'i'), price }));
  }

  priceOf(model: string | null): ModelPrice | null {
    const key = model ?? '';
    if (this._cache.has(key)) return this._cache.get(key) ?? null;
    const hit = model === null ? null : (this._prices.find((p) => p.re.test(model))?.price ?? null);
    this._cache.set(key, hit);
    return hit;
  }

  /** USD for one call, or null when its model has no price. */
  costOf(call: RecordUsage): number | null {
    const price = this.priceOf(call.model);
    if (!price) return null;
    return apiCostUsd(call, price);
  }

  /** Totals of the calls (cost of the priced ones). */
  total(calls: readonly RecordUsage[]): UsageTotals {
    const t = emptyTotals();
    for (const call of calls) addCall(t, call, this.costOf(call));
    return t;
  }
}

export function addCall(t: UsageTotals, call: RecordUsage, cost: number | null): void {
  t.calls++;
  t.input_tokens += call.input_tokens;
  t.output_tokens += call.output_tokens;
  t.cache_read_tokens += call.cache_read_tokens;
  t.cache_write_tokens += call.cache_write_tokens;
  if (cost === null) t.unpriced_calls++;
  else t.cost_usd += cost;
}
