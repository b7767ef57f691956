/**
 * What AutoDev takes from an agent's own record of a conversation (transcript, rollout, chat file):
 * the prompts and answers in order, and the tokens each model call spent. Parsers read one JSON value
 * at a time so a growing file is read incrementally (record-reader.ts).
 */

export interface RecordMessage {
  /** The record's own id for the entry (stable across re-reads). */
  id: string;
  role: 'user' | 'agent';
  /** The prompt as typed; the answer as the model wrote it (markdown source, no interface). */
  text: string;
  /** ISO-8601 time the record gives the entry. */
  at: string;
}

export interface RecordUsage {
  /** Dedupe key: one per model call (the same call can appear on several lines). */
  id: string;
  at: string;
  model: string | null;
  /** Input tokens not read from the cache (OpenAI/Gemini "cached" inputs are moved to cache_read). */
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

/** A parser's running state for one record. */
export interface ParsedRecord {
  conversation_id: string | null;
  /** Working directory the record names (session discovery without a conversation id). */
  cwd: string | null;
  /** Time the record says the conversation started. */
  started_at: string | null;
  messages: RecordMessage[];
  usage: RecordUsage[];
  /** The last turn is over: an answer after the last prompt and nothing pending (a tool call waiting
   *  for permission, a turn still streaming). */
  lastTurnComplete: boolean;
}

export interface RecordParser {
  /** Fresh state. */
  create(): ParsedRecord;
  /** One JSON value of the file (a JSONL line; the whole document for JSON files). Unknown shapes are
   *  ignored: a newer agent version adds entry types all the time. */
  feed(state: ParsedRecord, value: unknown): void;
  /** Called after a batch of values (derivations that need the whole batch). */
  finish?(state: ParsedRecord): void;
}

export function emptyRecord(): ParsedRecord {
  return {
    conversation_id: null,
    cwd: null,
    started_at: null,
    messages: [],
    usage: [],
    lastTurnComplete: false,
  };
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** Appends answer text to the current turn (one agent message per turn, blocks separated by a blank line). */
export function appendAgentText(state: ParsedRecord, id: string, text: string, at: string): void {
  const trimmed = text.trim();
  if (trimmed.length === 0) return;
  const last = state.messages[state.messages.length - 1];
  if (last?.role === 'agent') {
    last.text = `${last.text}\n\n${trimmed}`;
    last.at = at;
    return;
  }
  state.messages.push({ id, role: 'agent', text: trimmed, at });
}

export function pushPrompt(state: ParsedRecord, id: string, text: string, at: string): void {
  state.messages.push({ id, role: 'user', text: text.trim(), at });
  state.lastTurnComplete = false;
}
