import type { ProviderDefinition, SubmitStrategy } from '../providers/types.ts';

/**
 * A provider's submit strategy: its `submit` fields over the defaults its `bracketed_paste` implies.
 * Agents with an input box (bracketed paste) are read in the block above their box's lower rule;
 * programs without one (shells, REPLs) on the cursor line.
 */
export function submitStrategy(provider: ProviderDefinition): SubmitStrategy {
  const paste = provider.bracketed_paste;
  return {
    mode: paste ? 'paste' : 'type',
    enter_delay_ms: paste ? 30 : 0,
    input_region: paste ? { kind: 'above-input-box', lines: 0 } : { kind: 'cursor-line' },
    confirm: true,
    timeout_ms: 3000,
    ...provider.submit,
  };
}
