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
 * Claude Code's transcript: `<config dir>/projects/<cwd with every non-alphanumeric as ->/<session id>.jsonl`,
 * one JSON object per line (checked against claude 2.1.332; older versions write the same entry
 * types with fewer fields):
 * - `type: "user"`: `message.content` is the prompt (a string, or text blocks), or tool results
 *   (`tool_result` blocks) — not a prompt. `isMeta` entries and slash-command echoes are not prompts.
 * - `type: "assistant"`: `message.content` blocks (`text`, `tool_use`, `thinking`), `message.usage`
 *   (input, output, cache creation and cache read tokens) and `message.model`. One model call can be
 *   split over several lines that repeat `message.id` and its usage: usage counts once per id.
 * - `isSidechain: true`: a sub-agent's conversation, not the session's.
 * Everything else (attachments, snapshots, titles, cost state, API request shapes) is ignored.
 */

const COMMAND_TAGS =
  /^<(command-name|command-message|command-args|local-command-stdout|local-command-stderr|bash-input|bash-stdout|bash-stderr)>/;

interface ClaudeState extends ParsedRecord {
  pendingTools: Set<string>;
  seenUsage: Set<string>;
  seenText: Set<string>;
}

function textOf(content: unknown): { text: string; toolResults: string[] } {
  if (typeof content === 'string') return { text: content, toolResults: [] };
  const parts: string[] = [];
  const toolResults: string[] = [];
  if (Array.isArray(content)) {
    for (const block of content) {
      if (!isObject(block)) continue;
      if (block.type === 'text' && typeof block.text === 'string') parts.push(block.text);
      if (block.type === 'tool_result') toolResults.push(str(block.tool_use_id) ?? '');
    }
  }
  return { text: parts.join('\n'), toolResults };
}

export const claudeTranscript: RecordParser = {
  create(): ClaudeState {
    return { ...emptyRecord(), pendingTools: new Set(), seenUsage: new Set(), seenText: new Set() };
  },

  feed(record, entry) {
    const state = record as ClaudeState;
    if (!isObject(entry) || entry.isSidechain === true) return;
    const at = str(entry.timestamp) ?? new Date(0).toISOString();
    if (state.conversation_id === null && typeof entry.sessionId === 'string')
      state.conversation_id = entry.sessionId;
    if (state.cwd === null && typeof entry.cwd === 'string') state.cwd = entry.cwd;
    if (state.started_at === null && typeof entry.timestamp === 'string') state.started_at = entry.timestamp;
    const message = entry.message;
    if (!isObject(message)) return;
    const uuid = str(entry.uuid) ?? `${at}:${state.messages.length}`;

    if (entry.type === 'user' && message.role === 'user') {
      if (entry.isMeta === true) return;
      const { text, toolResults } = textOf(message.content);
      for (const id of toolResults) state.pendingTools.delete(id);
      if (toolResults.length > 0 || text.trim().length === 0 || COMMAND_TAGS.test(text.trim())) return;
      state.pendingTools.clear();
      pushPrompt(state, uuid, text, at);
      return;
    }

    if (entry.type === 'assistant' && message.role === 'assistant') {
      const messageId = str(message.id) ?? uuid;
      if (Array.isArray(message.content)) {
        for (const block of message.content) {
          if (!isObject(block)) continue;
          if (block.type === 'text' && typeof block.text === 'string') {
            const key = `${messageId}:${block.text}`;
            if (state.seenText.has(key)) continue;
            state.seenText.add(key);
            appendAgentText(state, messageId, block.text, at);
          } else if (block.type === 'tool_use' && typeof block.id === 'string') {
            state.pendingTools.add(block.id);
          }
        }
      }
      const usage = message.usage;
      const model = str(message.model);
      const usageKey = `${messageId}:${str(entry.requestId) ?? ''}`;
      if (isObject(usage) && model !== '<synthetic>' && !state.seenUsage.has(usageKey)) {
        state.seenUsage.add(usageKey);
        state.usage.push({
          id: usageKey,
          at,
          model,
          input_tokens: num(usage.input_tokens),
          output_tokens: num(usage.output_tokens),
          cache_read_tokens: num(usage.cache_read_input_tokens),
          cache_write_tokens: num(usage.cache_creation_input_tokens),
        });
      }
      const last = state.messages[state.messages.length - 1];
      state.lastTurnComplete = last?.role === 'agent' && state.pendingTools.size === 0;
    }
  },
};
