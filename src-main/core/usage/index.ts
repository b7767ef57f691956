/** Tokens and cost of interactive sessions, from the agents' own records; optional budgets. */
export type { BudgetConfig } from './budgets.ts';
export { PriceList } from './pricing.ts';
export { createUsageService, type UsageService, type UsageServiceOptions } from './usage-service.ts';
export { localDay, UsageStore } from './usage-store.ts';
