import {
  appendAgentText,
  emptyRecord,
  isObject,
  num,
  type ParsedRecord,
  pushPrompt,
  type RecordParser,
  str,
} from './types.ts';

/**
 * Gemini CLI's chat recording: `<gemini dir>/tmp/<project>/chats/session-<time>-<first 8 of the session
 * id>.jsonl` (0.6x; `<project>` is a short name from projects.json or the sha256 of the project root),
 * or one `session-….json` document in older versions:
 * - a header `{sessionId, projectHash, startTime, kind}`;
 * - messages `{id, timestamp, type: user | gemini | info | error | warning, content, tokens, model}`:
 *   `content` is a string or `[{text}]` parts; `tokens` is `{input, output, cached, thoughts, tool, total}`
 *   per model answer (input includes the cached part; thoughts are billed as output);
 * - patches `{"$set": {messages?, lastUpdated?}}` (the session's initial context).
 * The JSON document form is `{sessionId, startTime, messages: […]}`.
 */

interface GeminiState extends ParsedRecord {
  raw: Map<string, Record<string, unknown>>;
  order: string[];
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObject)
    .map((p) => str(p.text) ?? '')
    .join('');
}

function addRaw(state: GeminiState, m: unknown): void {
  if (!isObject(m)) return;
  const id = str(m.id);
  if (!id) return;
  if (!state.raw.has(id)) state.order.push(id);
  state.raw.set(id, m);
}

export const geminiChat: RecordParser = {
  create(): GeminiState {
    return { ...emptyRecord(), raw: new Map(), order: [] };
  },

  feed(record, value) {
    const state = record as GeminiState;
    if (!isObject(value)) return;
    if (typeof value.sessionId === 'string') {
      state.conversation_id ??= value.sessionId;
      state.started_at ??= str(value.startTime);
    }
    if (Array.isArray(value.messages)) for (const m of value.messages) addRaw(state, m);
    const set = value.$set;
    if (isObject(set) && Array.isArray(set.messages)) {
      // The patch replaces the message list it names (the initial context), keeping later messages.
      for (const m of set.messages) addRaw(state, m);
    }
    if (typeof value.type === 'string' && typeof value.id === 'string') addRaw(state, value);
  },

  finish(record) {
    const state = record as GeminiState;
    state.messages = [];
    state.usage = [];
    for (const id of state.order) {
      const m = state.raw.get(id) as Record<string, unknown>;
      const at = str(m.timestamp) ?? new Date(0).toISOString();
      const text = contentText(m.content);
      if (m.type === 'user') {
        // The CLI's own context preamble is recorded as a user message.
        if (/^\s*<session_context>/.test(text) || text.trim().length === 0) continue;
        pushPrompt(state, id, text, at);
      } else if (m.type === 'gemini') {
        appendAgentText(state, id, text, at);
        const t = m.tokens;
        if (isObject(t)) {
          const cached = num(t.cached);
          state.usage.push({
            id,
            at,
            model: str(m.model),
            input_tokens: Math.max(0, num(t.input) - cached),
            output_tokens: num(t.output) + num(t.thoughts),
            cache_read_tokens: cached,
            cache_write_tokens: 0,
          });
        }
      } else if (m.type === 'error') {
        appendAgentText(state, id, text, at);
      }
    }
    const last = state.messages[state.messages.length - 1];
    const lastRaw = state.raw.get(state.order[state.order.length - 1] ?? '');
    const pendingTool =
      Array.isArray(lastRaw?.toolCalls) &&
      (lastRaw.toolCalls as unknown[]).some(
        (c) => isObject(c) && typeof c.status === 'string' && !/^(success|error|cancelled)$/i.test(c.status),
      );
    state.lastTurnComplete = last?.role === 'agent' && !pendingTool;
  },
};
