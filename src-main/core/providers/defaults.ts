import { withConversationDefaults } from './conversation-defaults.ts';
import { moreAgents } from './defaults-more.ts';
import { CLAUDE_SIGNALS, CODEX_SIGNALS, GEMINI_SIGNALS } from './signal-defaults.ts';
import type { ProviderDefinition, ScreenRule } from './types.ts';

/**
 * Bundled provider definitions. Everything here is data: the registry merges the user's config file
 * over it, and the state detector only ever reads these fields (no code branches on provider ids).
 *
 * Screen strings come from field notes §1.2/§1.5 and the CLIs' current UIs. They break when a CLI
 * changes its UI (kbwo/ccmanager#227), which is why each has a stable id, is tested against a recorded
 * screen in test/fixtures/screens/, and can be overridden from ~/.autodev/providers.yaml.
 *
 * Priorities (higher wins): auth 90, error banners 80, explicit dialogs (permission/trust/approval) 70,
 * busy indicators 60, OSC title 65 (see state/fusion.ts), weak prompt markers 50. Weak markers are
 * weaker than busy indicators because most agents keep drawing their input box while they work.
 */

const WEAK_PROMPT = 50;

/**
 * Rules every agent CLI gets: an OAuth URL offered for manual opening, or a "please sign in", means
 * the user must log in.
 */
export const COMMON_AUTH_RULES: ScreenRule[] = [
  {
    id: 'any.oauth-url',
    // The URL is usually soft-wrapped; screen text joins wrapped lines before matching.
    pattern:
      '(browser didn.t open|(didn.t|doesn.t|does not|did not) open automatically|open this (url|link)|open the following (url|link)|visit this url|paste (this|the) url)[\\s\\S]{0,400}?https?://\\S+',
    // Not the whole screen: once the user has signed in, the URL may linger in the transcript.
    region: { kind: 'last-lines', count: 8 },
    state: 'waiting_input',
    auth: true,
  },
  {
    id: 'any.sign-in-required',
    pattern: '(please sign in|login required|please authenticate|not logged in)',
    region: { kind: 'last-lines', count: 12 },
    state: 'waiting_input',
    auth: true,
  },
];

/**
 * Generic error banners for CLIs we have no anchored rules for. They read the last lines, transcript
 * included, so an answer that merely mentions "connection refused" can trip them: the bundled agents
 * that were checked against their real screens (claude, codex, gemini) use anchored rules instead.
 */
export const COMMON_ERROR_RULES: ScreenRule[] = [
  {
    id: 'any.unauthorized',
    pattern: '\\b401 unauthorized\\b',
    region: { kind: 'last-lines', count: 10 },
    state: 'error',
    auth: true,
  },
  {
    id: 'any.network-error',
    pattern:
      '(network error|econnrefused|econnreset|etimedout|enotfound|unable to connect|connection refused)',
    region: { kind: 'last-lines', count: 8 },
    state: 'error',
  },
  {
    id: 'any.rate-limit',
    pattern: '(rate limit (exceeded|reached)|rate[- ]limited|429 too many requests)',
    region: { kind: 'last-lines', count: 8 },
    state: 'error',
  },
];

/** Rules every agent CLI gets unless it has better ones: auth screens and generic error banners. */
export const COMMON_AGENT_RULES: ScreenRule[] = [...COMMON_AUTH_RULES, ...COMMON_ERROR_RULES];

const claude: ProviderDefinition = {
  id: 'claude',
  name: 'Claude Code',
  binary: 'claude',
  interactive_args: [],
  // Continues the conversation recorded as the session's conversation_id (checked on the pinned CLI's --help).
  resume_args: ['--resume', '{conversation_id}'],
  full_access_args: ['--dangerously-skip-permissions'],
  one_shot: {
    args: ['-p', '--output-format', 'stream-json', '--verbose'],
    prompt: { via: 'arg' },
    output: 'stream-json',
    full_access_args: ['--dangerously-skip-permissions'],
  },
  // Without the CLI, a task answers through the Messages API: text only (no tools, no files).
  // Prices: Anthropic's pricing page for Claude Sonnet 4.6 (5-minute cache writes).
  api_fallback: {
    api: 'anthropic-messages',
    key_env: 'ANTHROPIC_API_KEY',
    base_url_env: 'ANTHROPIC_BASE_URL',
    base_url: 'https://api.anthropic.com',
    model: 'claude-sonnet-4-6',
    max_tokens: 8192,
    price_per_mtok: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  },
  env_keys: ['ANTHROPIC_API_KEY'],
  version_args: ['--version'],
  bracketed_paste: true,
  stability_ms: 1500,
  icon: 'claude',
  signals: CLAUDE_SIGNALS,
  title_rules: [
    // Claude animates its title while it works: a Braille spinner (up to 2.1.1xx) or a turning
    // half-circle ◐◓◑◒ (2.1.3xx); `✳ ` means idle.
    { id: 'claude.title-spinner', pattern: '^[\\u2800-\\u28FF◐◓◑◒]', state: 'processing' },
    { id: 'claude.title-idle', pattern: '^✳\\s', state: 'waiting_input' },
  ],
  // Checked against claude 2.1.332 on its real screens (test/realcli/, test/fixtures/screens/real/).
  screen_rules: [
    {
      // An auth failure as the last message above the input box (`⎿ Invalid API key · Fix external
      // API key`, `API Error: 401 …`; continuation lines are indented by 2–5 spaces; a right-aligned
      // hint such as `◐ medium · /effort` may sit between it and the box). Anchored to the input line:
      // once the user fixed it and the next turn ran, the old message in the transcript no longer matches.
      id: 'claude.auth-error',
      pattern:
        '(?:⎿|●)?\\s*(?<reason>(?:API Error:? \\(?401|Please run /login|Invalid API key|OAuth token has expired|Invalid authentication credentials)[^\\n]*(?:\\n {2,5}\\S[^\\n]*)*)(?:\\n {6,}\\S[^\\n]*)?\\n❯',
      region: { kind: 'above-input-box', lines: 4 },
      state: 'error',
      auth: true,
    },
    {
      // "Detected a custom API key in your environment … Do you want to use this API key?"
      id: 'claude.api-key-prompt',
      pattern: 'Do you want to use this API key\\?',
      region: { kind: 'last-lines', count: 12 },
      state: 'waiting_input',
      auth: true,
    },
    {
      id: 'claude.login-menu',
      pattern: '(Select login method|How would you like to authenticate|Anthropic Console account)',
      region: { kind: 'last-lines', count: 20 },
      state: 'waiting_input',
      auth: true,
    },
    {
      // `● API Error: 500 Internal server error. This is a server-side issue…` (also 529 Overloaded,
      // connection errors) as the agent's last word, right above the input box: the turn failed.
      id: 'claude.api-error',
      pattern: '●\\s*(?<reason>API Error[^\\n]*(?:\\n {2,5}\\S[^\\n]*)*)(?:\\n {6,}\\S[^\\n]*)?\\n❯',
      region: { kind: 'above-input-box', lines: 4 },
      state: 'error',
    },
    {
      // The wording changed in 2.1.3xx ("Quick safety check: …"); both are recognised.
      id: 'claude.trust-prompt',
      pattern: '(Do you trust the files in this folder\\?|Is this a project you created or one you trust\\?)',
      region: { kind: 'last-lines', count: 20 },
      state: 'waiting_input',
    },
    {
      id: 'claude.permission-prompt',
      pattern:
        '(Do you want to (proceed|make this edit|create)|Yes, allow once|No, and tell Claude what to do differently|Esc to cancel)',
      region: { kind: 'last-lines', count: 20 },
      state: 'waiting_input',
    },
    {
      // Only the block just above/in the input box: the transcript may quote these words.
      id: 'claude.busy',
      pattern: '(esc to interrupt|ctrl\\+c to interrupt|[✢✳✶✻✽*]\\s*\\w+ing…|\\([^)]*\\btokens\\b[^)]*\\))',
      region: { kind: 'above-input-box', lines: 4 },
      state: 'processing',
    },
    {
      id: 'claude.prompt',
      pattern: '^[ \\t]*[❯>](?:[ \\t]|$)',
      region: { kind: 'last-lines', count: 5 },
      state: 'waiting_input',
      priority: WEAK_PROMPT,
    },
    ...COMMON_AUTH_RULES,
  ],
};

const codex: ProviderDefinition = {
  id: 'codex',
  name: 'Codex',
  binary: 'codex',
  interactive_args: [],
  // Continues the conversation recorded as the session's conversation_id (checked on the pinned CLI's --help).
  resume_args: ['resume', '{conversation_id}'],
  full_access_args: ['--dangerously-bypass-approvals-and-sandbox'],
  one_shot: {
    args: ['exec', '--json'],
    prompt: { via: 'arg' },
    output: 'stream-json',
    full_access_args: ['--dangerously-bypass-approvals-and-sandbox'],
  },
  env_keys: ['OPENAI_API_KEY'],
  version_args: ['--version'],
  bracketed_paste: true,
  // The prompt is the `› …` line holding the cursor; codex draws no `─` box around it (0.171.0,
  // recorded), so the default region (inside the box) would never show the text and every prompt
  // would wait out the confirmation timeout before its Enter.
  submit: { input_region: { kind: 'cursor-line' } },
  stability_ms: 2000,
  icon: 'codex',
  signals: CODEX_SIGNALS,
  title_rules: [
    // Codex spins a Braille frame in the title while a turn runs — also while it streams text, when it
    // hides "Working (esc to interrupt)" — and says "Action Required" on an approval.
    { id: 'codex.title-spinner', pattern: '^[\\u2800-\\u28FF]', state: 'processing' },
    { id: 'codex.title-action-required', pattern: 'Action Required', state: 'waiting_input' },
  ],
  // Checked against codex 0.171.0 on its real screens (test/realcli/, test/fixtures/screens/real/).
  screen_rules: [
    {
      id: 'codex.login-menu',
      pattern: '(Sign in with ChatGPT|Provide your own API key|Paste your API key)',
      region: { kind: 'last-lines', count: 20 },
      state: 'waiting_input',
      auth: true,
    },
    {
      // `■ unexpected status 401 Unauthorized: Incorrect API key provided …` right above the input
      // line (`› …` plus the footer lines under it): the key was refused.
      id: 'codex.auth-error',
      pattern:
        '^■ (?<reason>[^\\n]*\\b401\\b[^\\n]*(?:\\n(?![›•■])[^\\n]*)*)\\n› [^\\n]*(?:\\n(?![›•■])[^\\n]*){0,3}(?![\\s\\S])',
      region: { kind: 'last-lines', count: 8 },
      state: 'error',
      auth: true,
    },
    {
      // Codex's error cell, `■ We're currently experiencing high demand…` (HTTP 500), `■ unexpected
      // status 529 …`, `■ Network error: …`, as the last thing above the input line. Not an interrupt
      // ("■ Conversation interrupted"), which is the user's own doing.
      id: 'codex.error-banner',
      pattern:
        '^■ (?!Conversation interrupted)(?<reason>[^\\n]*(?:\\n(?![›•■])[^\\n]*)*)\\n› [^\\n]*(?:\\n(?![›•■])[^\\n]*){0,3}(?![\\s\\S])',
      region: { kind: 'last-lines', count: 8 },
      state: 'error',
    },
    {
      id: 'codex.approval-prompt',
      pattern:
        '(Allow command\\?|Would you like to run the following command\\?|Would you like to make the following edits\\?)',
      region: { kind: 'last-lines', count: 20 },
      state: 'waiting_input',
    },
    {
      // "Waiting for startup · esc cancel": a prompt sent while codex still starts is queued, not lost.
      id: 'codex.busy',
      pattern: '(esc to interrupt|ctrl\\+c to interrupt|Waiting for startup)',
      region: { kind: 'last-lines', count: 8 },
      state: 'processing',
    },
    {
      id: 'codex.prompt',
      pattern: '^[ \\t]*›',
      region: { kind: 'last-lines', count: 6 },
      state: 'waiting_input',
      priority: WEAK_PROMPT,
      // Codex animates a splash for ~400 ms around its first prompt (more with a notify override):
      // the default 500 ms settle after that made "needs you" ~0.9–1 s late. During a turn its OSC
      // 7501 reports and busy title decide, so a shorter settle cannot cause a false "waiting".
      settle_ms: 300,
    },
    ...COMMON_AUTH_RULES,
  ],
};

const gemini: ProviderDefinition = {
  id: 'gemini',
  name: 'Gemini CLI',
  binary: 'gemini',
  interactive_args: [],
  // Continues the conversation recorded as the session's conversation_id (checked on the pinned CLI's --help).
  resume_args: ['--resume', '{conversation_id}'],
  full_access_args: ['--yolo'],
  one_shot: {
    args: ['-o', 'stream-json'],
    prompt: { via: 'flag', flag: '-p' },
    output: 'stream-json',
    full_access_args: ['--yolo'],
  },
  env_keys: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  version_args: ['--version'],
  bracketed_paste: true,
  // Gemini drops an Enter that follows a paste within a few tens of ms (its paste protection): with
  // the old 30 ms the text stayed in its input box in 4 of 4 turns. The submitter confirms either way.
  // Its input line holds the cursor; the `▄▄▄`/`▀▀▀` band around it is no `─` box (0.61.0, recorded).
  submit: { enter_delay_ms: 150, input_region: { kind: 'cursor-line' } },
  stability_ms: 2000,
  icon: 'gemini',
  signals: GEMINI_SIGNALS,
  title_rules: [
    { id: 'gemini.title-busy', pattern: '^\\s*[✦⏲]', state: 'processing' },
    { id: 'gemini.title-permission', pattern: '^\\s*✋', state: 'waiting_input' },
    { id: 'gemini.title-idle', pattern: '^\\s*◇', state: 'waiting_input' },
  ],
  // Checked against gemini 0.61.0 on its real screens (test/realcli/, test/fixtures/screens/real/).
  screen_rules: [
    {
      id: 'gemini.auth-menu',
      pattern:
        '(How would you like to authenticate for this project\\?|Login with Google|Enter (your )?Gemini API Key|Waiting for auth)',
      region: { kind: 'last-lines', count: 20 },
      state: 'waiting_input',
      auth: true,
    },
    {
      // `✕ [API Error: {"error":{"code":401,"message":"API key not valid…","status":"UNAUTHENTICATED"}}]`
      // as the last message above the input area (an `ℹ` hint and the right-aligned shortcut hint may
      // follow it): the key was refused.
      id: 'gemini.auth-error',
      pattern:
        '^✕ (?=(?:[^\\n]|\\n {2}\\S)*?(?:\\b401\\b|UNAUTHENTICATED|API key not valid))(?<reason>[^\\n]*(?:\\n {2}\\S[^\\n]*)*)(?:\\nℹ [^\\n]*(?:\\n {2}\\S[^\\n]*)*)?(?:\\n {4,}[^\\n]*)?(?![\\s\\S])',
      region: { kind: 'above-input-box', lines: 8 },
      state: 'error',
      auth: true,
    },
    {
      // Any other `✕` error as the last message above the input area: the turn failed.
      id: 'gemini.error-banner',
      pattern:
        '^✕ (?<reason>[^\\n]*(?:\\n {2}\\S[^\\n]*)*)(?:\\nℹ [^\\n]*(?:\\n {2}\\S[^\\n]*)*)?(?:\\n {4,}[^\\n]*)?(?![\\s\\S])',
      region: { kind: 'above-input-box', lines: 8 },
      state: 'error',
    },
    {
      // The live dialog is the last thing on screen (its options end the region); after "Trust folder"
      // gemini restarts under the old dialog, which must not keep reading as a question.
      id: 'gemini.trust-prompt',
      pattern:
        '(?<reason>Do you trust the files in this folder\\?)[\\s\\S]*Don.t trust[^\\n]*(?:\\n[╰─╯ ]*)?(?![\\s\\S])',
      region: { kind: 'last-lines', count: 14 },
      state: 'waiting_input',
    },
    {
      id: 'gemini.permission-prompt',
      pattern: '(Yes, allow once|Allow execution of|Apply this change\\?)',
      region: { kind: 'last-lines', count: 20 },
      state: 'waiting_input',
    },
    {
      // Gemini's spinner line: "⠋ Thinking... (esc to cancel, 3s)". Here `esc to cancel` means busy.
      id: 'gemini.busy',
      pattern: '\\(esc to cancel',
      region: { kind: 'last-lines', count: 10 },
      state: 'processing',
    },
    {
      id: 'gemini.prompt',
      pattern: '(Type your message|^[ \\t]*gemini>)',
      region: { kind: 'last-lines', count: 8 },
      state: 'waiting_input',
      priority: WEAK_PROMPT,
    },
    ...COMMON_AUTH_RULES,
  ],
};

const cursor: ProviderDefinition = {
  id: 'cursor',
  name: 'Cursor Agent',
  binary: 'cursor-agent',
  interactive_args: [],
  full_access_args: ['--force'],
  one_shot: {
    args: ['-p', '--output-format', 'stream-json'],
    prompt: { via: 'arg' },
    output: 'stream-json',
    full_access_args: ['--force'],
  },
  env_keys: ['CURSOR_API_KEY'],
  version_args: ['--version'],
  bracketed_paste: true,
  stability_ms: 2000,
  icon: 'cursor',
  title_rules: [],
  screen_rules: [
    {
      id: 'cursor.login',
      pattern: '(Press any key to (log|sign) in|cursor-agent login)',
      region: { kind: 'last-lines', count: 12 },
      state: 'waiting_input',
      auth: true,
    },
    {
      id: 'cursor.prompt',
      pattern: '(How can I help|Plan mode)',
      region: { kind: 'last-lines', count: 8 },
      state: 'waiting_input',
      priority: WEAK_PROMPT,
    },
    ...COMMON_AGENT_RULES,
  ],
};

/** Rules for a plain shell: a prompt-looking last line only; everything else is the stability window. */
export const SHELL_PROMPT_RULE: ScreenRule = {
  id: 'shell.prompt',
  // `user@host:~$ `, `% `, `> `, `❯ `, also with a half-typed command after it.
  pattern: '[$#%>❯](?:[ \\t]|$)',
  region: { kind: 'cursor-line' },
  state: 'waiting_input',
  priority: WEAK_PROMPT,
};

function shellProvider(env: NodeJS.ProcessEnv): ProviderDefinition {
  return {
    id: 'shell',
    name: 'Shell',
    binary: env.SHELL && env.SHELL.length > 0 ? env.SHELL : 'bash',
    interactive_args: [],
    full_access_args: [],
    one_shot: null,
    env_keys: [],
    version_args: ['--version'],
    bracketed_paste: false,
    // Generous: shells print in bursts (builds, tests) with pauses that are not "waiting".
    stability_ms: 3000,
    // A silent command (sleep, a quiet build) leaves the screen still: that is not "waiting".
    stability_state: 'running',
    icon: 'terminal',
    kind: 'shell',
    title_rules: [],
    screen_rules: [SHELL_PROMPT_RULE],
  };
}

/** The template a provider added by the user's config file starts from. */
export function newProviderTemplate(id: string): ProviderDefinition {
  return {
    id,
    name: id,
    binary: id,
    interactive_args: [],
    full_access_args: [],
    one_shot: null,
    env_keys: [],
    version_args: ['--version'],
    bracketed_paste: false,
    stability_ms: 2000,
    title_rules: [],
    screen_rules: [...COMMON_AGENT_RULES],
  };
}

/** Fresh copies each call so callers (and config merging) can never mutate the bundled data. */
export function defaultProviders(env: NodeJS.ProcessEnv = process.env): ProviderDefinition[] {
  return withConversationDefaults(
    structuredClone([claude, codex, gemini, cursor, ...moreAgents({ common: COMMON_AGENT_RULES })]).concat(
      shellProvider(env),
    ),
  );
}
