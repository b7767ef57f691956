/**
 * What a test tells the mock model service to do on the agent's next conversational turns.
 *
 * One queue per server: each *main* request (a request that carries the conversation and the agent's
 * tools) takes the next turn. Side calls (titles, routing classifiers, token counts, model lists) never
 * consume the script: they get canned answers (see side-calls.ts).
 */
export type Turn =
  /** A streamed answer. `durationMs` spreads the chunks over that long (a slow answer). */
  | { kind: 'text'; text: string; durationMs?: number; chunks?: number }
  /** A shell tool call the agent must ask permission for (e.g. a command that creates a file). The
   *  follow-up request (carrying the tool result) takes the next turn from the queue. */
  | { kind: 'tool'; command: string; justification?: string }
  /** An HTTP error. `times` > 1 repeats it for the agent's retries (default 1; Infinity until
   *  `advance()`); each repetition is one request. */
  | { kind: 'error'; status: number; message?: string; times?: number }
  /** Accept the request and send nothing until `release()` (a model that is thinking for long). */
  | { kind: 'hold' };

export type MockApi = 'anthropic' | 'openai' | 'gemini';

/** Everything the service saw and did, in order, with the test process's clock (Date.now()). */
export type MockEvent =
  | { type: 'request'; at: number; api: MockApi; role: 'main' | 'side'; method: string; path: string }
  | { type: 'stream-start'; at: number; api: MockApi; turn: Turn['kind'] }
  | { type: 'stream-end'; at: number; api: MockApi; turn: Turn['kind'] }
  | { type: 'error-sent'; at: number; api: MockApi; status: number }
  | { type: 'tool-call-sent'; at: number; api: MockApi; tool: string; command: string }
  /** A main request carried the result of our tool call: the agent ran it (or the user denied it). */
  | { type: 'tool-result'; at: number; api: MockApi; text: string }
  | { type: 'unknown-route'; at: number; method: string; path: string };

export const DEFAULT_ANSWER = 'OK.';

/** Split text into `n` chunks of roughly equal size, never inside a surrogate pair. */
export function chunkText(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(n, chars.length));
  const size = Math.ceil(chars.length / count);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out.length > 0 ? out : [''];
}

/** A long answer that scrolls: numbered lines, easy to find on screen. */
export function longAnswer(lines: number, tag = 'line'): string {
  return Array.from({ length: lines }, (_, i) => `${tag} ${String(i + 1).padStart(3, '0')} of ${lines}`).join(
    '\n',
  );
}
