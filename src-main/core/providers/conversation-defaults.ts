import type { ConversationSpec, ModelPrice } from './conversation-spec.ts';
import type { ProviderDefinition } from './types.ts';

/**
 * The bundled agents' conversation data (conversation-spec.ts explains the shape): where their own
 * records live, where their interface sits on the screen, and what their models cost. Checked against
 * the pinned CLIs (test/realcli/pinned-clis.json) running against the mock model service, and against
 * the fixture agents in test/fixtures/agents/.
 */

/** Turn summaries and spinners Claude Code draws above its input box: `✻ Worked for 3s`, `✶ Thinking…`. */
const CLAUDE_SCREEN = {
  input_line: '^[❯>](?:\\s|$)',
  interface_lines: [
    '^[✻✢✳✶✽·*]\\s+\\S+(?:…| for \\d)',
    'esc to interrupt',
    '^\\s*[◐◓◑◒○●]?\\s*(low|medium|high|max)\\s·\\s/effort',
    '\\? for shortcuts',
    '^\\s*⏸ ',
  ],
  echo_marker: '[>❯]\\s',
  reply_marker: '[⏺●]\\s',
};

const CODEX_SCREEN = {
  input_line: '^›(?:\\s|$)',
  interface_lines: [
    '^\\s*(?:─\\s*)?Worked for\\b',
    '^\\s*•?\\s*Working \\(',
    'esc to interrupt',
    '⏎ send',
    // Codex 0.171 hangs a tip under an answer while the next prompt is empty.
    '^\\s*└ Tip: ',
  ],
  echo_marker: '›\\s',
  reply_marker: '•\\s',
};

const GEMINI_SCREEN = {
  input_line: '(Type your message|^\\s*>(?:\\s|$))',
  interface_lines: [
    '\\? for shortcuts',
    'Shift\\+Tab to accept edits',
    'esc to cancel',
    '^(?:workspace|~|/).*(no sandbox|sandbox)',
    'context left\\)',
  ],
  echo_marker: '>\\s',
  reply_marker: '✦\\s',
};

/**
 * Waiting states that are a question to the person (never typed into by a message from the API).
 * Not `claude.hook.question`: Claude Code's idle notification ("Claude is waiting for your input")
 * shares that rule and means the idle prompt.
 */
const QUESTION_RULES =
  '(permission|trust|approval|login|sign-in|auth|api-key|paste-code|confirm|elicitation)';

/**
 * USD per million tokens (first match wins), from the vendors' pricing pages: Anthropic
 * (platform.claude.com/docs/en/about-claude/pricing; 5-minute cache writes), OpenAI
 * (developers.openai.com/api/docs/pricing; cached input as cache reads), Google (ai.google.dev pricing,
 * prompts up to 200k tokens). A model without a match has tokens but no cost; add it in providers.yaml
 * (`extra_prices`).
 */
const CLAUDE_PRICES: ModelPrice[] = [
  { model: '(fable|mythos)-5-[1-9]', input: 10, output: 50, cache_read: 0.25, cache_write: 12.5 },
  { model: '(fable|mythos)-5', input: 10, output: 50, cache_read: 1, cache_write: 12.5 },
  { model: 'opus-5-5', input: 4, output: 20, cache_read: 0.2, cache_write: 5 },
  {
    model: 'opus-4-[01]|opus-4-2|claude-3-opus|opus-4$',
    input: 15,
    output: 75,
    cache_read: 1.5,
    cache_write: 18.75,
  },
  { model: 'opus', input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  { model: 'sonnet-5-5', input: 2, output: 10, cache_read: 0.1, cache_write: 2.5 },
  { model: 'sonnet-5', input: 2, output: 10, cache_read: 0.2, cache_write: 2.5 },
  { model: 'sonnet', input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  { model: 'haiku-5-5', input: 0.1, output: 0.5, cache_read: 0.01, cache_write: 0.125 },
  { model: 'claude-3-5-haiku|haiku-3-5', input: 0.8, output: 4, cache_read: 0.08, cache_write: 1 },
  { model: 'claude-3-haiku', input: 0.25, output: 1.25, cache_read: 0.03, cache_write: 0.3 },
  { model: 'haiku', input: 1, output: 5, cache_read: 0.1, cache_write: 1.25 },
];

const OPENAI_PRICES: ModelPrice[] = [
  { model: '^gpt-5\\.4-mini', input: 0.75, output: 4.5, cache_read: 0.075, cache_write: 0 },
  { model: '^gpt-5\\.4', input: 2.5, output: 15, cache_read: 0.25, cache_write: 0 },
  { model: '^gpt-5(\\.1)?-mini', input: 0.25, output: 2, cache_read: 0.025, cache_write: 0 },
  { model: '^gpt-5(\\.1)?-nano', input: 0.05, output: 0.4, cache_read: 0.005, cache_write: 0 },
  { model: '^gpt-5(\\.1)?(-codex)?$', input: 1.25, output: 10, cache_read: 0.125, cache_write: 0 },
  { model: '^gpt-4\\.1', input: 2, output: 8, cache_read: 0.5, cache_write: 0 },
];

const GEMINI_PRICES: ModelPrice[] = [
  { model: 'gemini-2\\.5-pro', input: 1.25, output: 10, cache_read: 0.125, cache_write: 0 },
  { model: 'gemini-2\\.5-flash-lite', input: 0.1, output: 0.4, cache_read: 0.01, cache_write: 0 },
  { model: 'gemini-2\\.5-flash', input: 0.3, output: 2.5, cache_read: 0.03, cache_write: 0 },
];

interface ConversationData {
  conversation: ConversationSpec;
  prices?: ModelPrice[];
}

const BUNDLED: Record<string, ConversationData> = {
  claude: {
    conversation: {
      record: { format: 'claude-jsonl', roots: ['{env:CLAUDE_CONFIG_DIR}', '{home}/.claude'] },
      screen: CLAUDE_SCREEN,
      question_rules: QUESTION_RULES,
    },
    prices: CLAUDE_PRICES,
  },
  codex: {
    conversation: {
      record: { format: 'codex-rollout', roots: ['{env:CODEX_HOME}', '{home}/.codex'] },
      screen: CODEX_SCREEN,
      question_rules: QUESTION_RULES,
    },
    prices: OPENAI_PRICES,
  },
  gemini: {
    conversation: {
      record: { format: 'gemini-chat', roots: ['{env:GEMINI_CLI_HOME}/.gemini', '{home}/.gemini'] },
      screen: GEMINI_SCREEN,
      question_rules: QUESTION_RULES,
    },
    prices: GEMINI_PRICES,
  },
  cursor: {
    conversation: {
      screen: { input_line: '(How can I help|^→\\s)', interface_lines: ['ctrl\\+c to stop', '/ commands'] },
      question_rules: QUESTION_RULES,
    },
  },
  shell: {
    // A shell's answer is what the command printed, between the echoed command and the next prompt.
    conversation: { screen: { input_line: '@cursor', interface_lines: [] } },
  },
};

/** The bundled conversation data laid onto the bundled definitions (a provider without any keeps none). */
export function withConversationDefaults(defs: ProviderDefinition[]): ProviderDefinition[] {
  return defs.map((def) => {
    const data = BUNDLED[def.id];
    if (!data) return def;
    return {
      ...def,
      conversation: structuredClone(data.conversation),
      ...(data.prices ? { prices: structuredClone(data.prices) } : {}),
    };
  });
}
