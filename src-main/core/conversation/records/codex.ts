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
 * Codex's rollout file: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`, one
 * `{timestamp, type, payload}` per line (checked against codex 0.171.0; 0.3x–0.4x write the same
 * event names without `item_completed`):
 * - `session_meta`: the thread id, its working directory and start time;
 * - `turn_context`: the model of the turn that follows;
 * - `event_msg`: what the person saw — `user_message` / `agent_message` (older), `item_completed` with
 *   a `UserMessage` / `AgentMessage` item (newer), `task_started` / `task_complete` around a turn, and
 *   `token_count` with the thread's running totals (`total_token_usage`);
 * - `response_item`: the model-level conversation, which also carries injected context (environment,
 *   instructions) as user messages: read only when the file has no event messages at all.
 * Usage is the difference between successive running totals (the same totals can be reported twice).
 * OpenAI counts cached input inside `input_tokens`; it is moved to cache reads here.
 */

interface Totals {
  input: number;
  cached: number;
  output: number;
}

interface CodexState extends ParsedRecord {
  model: string | null;
  totals: Totals;
  sawEvents: boolean;
  seenItems: Set<string>;
  /** response_item messages, used only when no event messages exist. */
  fallback: { id: string; role: 'user' | 'agent'; text: string; at: string }[];
  turnOpen: boolean;
  lines: number;
}

const CONTEXT_TAGS =
  /^\s*<(environment_context|user_instructions|skills_instructions|permissions instructions|user_shell_command)/;

function itemText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObject)
    .map((c) => str(c.text) ?? '')
    .filter((t) => t.length > 0)
    .join('\n');
}

export const codexRollout: RecordParser = {
  create(): CodexState {
    return {
      ...emptyRecord(),
      model: null,
      totals: { input: 0, cached: 0, output: 0 },
      sawEvents: false,
      seenItems: new Set(),
      fallback: [],
      turnOpen: false,
      lines: 0,
    };
  },

  feed(record, entry) {
    const state = record as CodexState;
    state.lines++;
    if (!isObject(entry) || !isObject(entry.payload)) return;
    const p = entry.payload;
    const at = str(entry.timestamp) ?? new Date(0).toISOString();
    switch (entry.type) {
      case 'session_meta':
        state.conversation_id ??= str(p.id) ?? str(p.session_id);
        state.cwd ??= str(p.cwd);
        state.started_at ??= str(p.timestamp) ?? at;
        return;
      case 'turn_context':
        state.model = str(p.model) ?? state.model;
        return;
      case 'response_item': {
        if (p.type !== 'message') return;
        const text = itemText(p.content);
        if (text.length === 0) return;
        const id = str(p.id) ?? `line-${state.lines}`;
        if (p.role === 'user' && !CONTEXT_TAGS.test(text))
          state.fallback.push({ id, role: 'user', text, at });
        if (p.role === 'assistant') state.fallback.push({ id, role: 'agent', text, at });
        return;
      }
      case 'event_msg':
        break;
      default:
        return;
    }
    switch (p.type) {
      case 'user_message':
      case 'agent_message': {
        const text = str(p.message) ?? '';
        const id = `line-${state.lines}`;
        state.sawEvents = true;
        if (p.type === 'user_message') pushPrompt(state, id, text, at);
        else appendAgentText(state, id, text, at);
        return;
      }
      case 'item_completed': {
        const item = p.item;
        if (!isObject(item)) return;
        const id = str(item.id) ?? `line-${state.lines}`;
        if (item.type !== 'UserMessage' && item.type !== 'AgentMessage') return;
        state.sawEvents = true;
        if (state.seenItems.has(id)) return;
        state.seenItems.add(id);
        const text = itemText(item.content);
        if (item.type === 'UserMessage') pushPrompt(state, id, text, at);
        else appendAgentText(state, id, text, at);
        return;
      }
      case 'task_started':
        state.turnOpen = true;
        state.lastTurnComplete = false;
        return;
      case 'task_complete':
      case 'turn_aborted':
        state.turnOpen = false;
        state.lastTurnComplete = true;
        return;
      case 'token_count': {
        const info = p.info;
        if (!isObject(info) || !isObject(info.total_token_usage)) return;
        const t = info.total_token_usage;
        const next: Totals = {
          input: num(t.input_tokens),
          cached: num(t.cached_input_tokens),
          output: num(t.output_tokens),
        };
        const d = {
          input: next.input - state.totals.input,
          cached: next.cached - state.totals.cached,
          output: next.output - state.totals.output,
        };
        // A thread that was resumed or compacted restarts its totals: take the new totals as the step.
        const restarted = d.input < 0 || d.output < 0 || d.cached < 0;
        const step = restarted ? next : d;
        state.totals = next;
        if (step.input === 0 && step.output === 0 && step.cached === 0) return;
        state.usage.push({
          id: `line-${state.lines}`,
          at,
          model: state.model,
          input_tokens: Math.max(0, step.input - step.cached),
          output_tokens: step.output,
          cache_read_tokens: step.cached,
          cache_write_tokens: 0,
        });
        return;
      }
      default:
        return;
    }
  },

  finish(record) {
    const state = record as CodexState;
    if (state.sawEvents || state.fallback.length === 0) return;
    // An old file without event messages: rebuild from the model-level messages.
    state.messages = [];
    for (const m of state.fallback) {
      if (m.role === 'user') pushPrompt(state, m.id, m.text, m.at);
      else appendAgentText(state, m.id, m.text, m.at);
    }
    state.lastTurnComplete = !state.turnOpen && state.messages[state.messages.length - 1]?.role === 'agent';
  },
};
