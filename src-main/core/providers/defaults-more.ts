import type { SignalSpec } from './signal-spec.ts';
import type { ProviderDefinition, ScreenRule } from './types.ts';

/**
 * More agent CLIs, as data only (issue 11 §4): GitHub Copilot CLI, Qwen Code, opencode, Amp, aider.
 * Each entry says where its rules come from. "Real screens" means the pinned version was run in a PTY
 * here (test/fixtures/screens/<id>-*.ans are those recordings, replayed by
 * test/core/providers/more-agents.test.ts); "documentation" means it could not run against a local
 * model service here, and the strings are the vendor's documented UI (they may drift: override them in
 * ~/.autodev/providers.yaml).
 */

const WEAK_PROMPT = 50;

/** A block of rules every agent gets (OAuth URL, sign-in, 401, network, rate limit); set by defaults.ts. */
export interface MoreAgentsInput {
  common: ScreenRule[];
}

/** Copilot hooks (version 1 format: `bash` command, `timeoutSec`) loaded from a per-session plugin
 *  folder (`--plugin-dir`); its payloads do not name their event, so each hook names it (`@event`). */
const copilotHook = (event: string) => [{ type: 'command', bash: `{relay:hooks@${event}}`, timeoutSec: 5 }];

export const COPILOT_SIGNALS: SignalSpec = {
  notes:
    'Hooks through a per-session plugin (--plugin-dir) per the Copilot CLI hooks and plugin references; run against copilot 1.0.102 with BYOK on the mock model service in test/realcli.',
  files: [
    { name: 'plugin.json', content: { name: 'autodev-signals', version: '1.0.0', hooks: 'hooks.json' } },
    {
      name: 'hooks.json',
      content: {
        version: 1,
        hooks: {
          sessionStart: copilotHook('sessionStart'),
          userPromptSubmitted: copilotHook('userPromptSubmitted'),
          preToolUse: copilotHook('preToolUse'),
          postToolUse: copilotHook('postToolUse'),
          agentStop: copilotHook('agentStop'),
        },
      },
    },
  ],
  args: ['--plugin-dir', '{dir}'],
  sources: [
    {
      id: 'hooks',
      channel: 'relay',
      parser: 'json',
      event_field: '_event',
      conversation_id_field: 'sessionId',
      events: [
        { id: 'copilot.hook.session-start', event: 'sessionStart', state: 'ignore' },
        {
          id: 'copilot.hook.prompt',
          event: 'userPromptSubmitted',
          state: 'processing',
          label: 'prompt submitted',
        },
        { id: 'copilot.hook.pre-tool', event: 'preToolUse', state: 'processing', label: 'running a tool' },
        { id: 'copilot.hook.post-tool', event: 'postToolUse', state: 'processing', label: 'tool finished' },
        { id: 'copilot.hook.agent-stop', event: 'agentStop', state: 'waiting_input', label: 'turn finished' },
      ],
    },
  ],
};

export function moreAgents({ common }: MoreAgentsInput): ProviderDefinition[] {
  const copilot: ProviderDefinition = {
    id: 'copilot',
    name: 'GitHub Copilot CLI',
    binary: 'copilot',
    interactive_args: [],
    resume_args: ['--resume', '{conversation_id}'],
    full_access_args: ['--allow-all-tools'],
    one_shot: {
      args: ['--silent'],
      prompt: { via: 'flag', flag: '-p' },
      output: 'text',
      full_access_args: ['--allow-all-tools'],
    },
    // GitHub tokens in its order of precedence, and its BYOK provider settings (a local model service).
    env_keys: [
      'COPILOT_GITHUB_TOKEN',
      'GH_TOKEN',
      'GITHUB_TOKEN',
      'COPILOT_PROVIDER_BASE_URL',
      'COPILOT_PROVIDER_TYPE',
      'COPILOT_PROVIDER_API_KEY',
      'COPILOT_MODEL',
    ],
    version_args: ['--version'],
    bracketed_paste: true,
    stability_ms: 2000,
    icon: 'copilot',
    signals: COPILOT_SIGNALS,
    // Its titles name the session ("say hello - GitHub Copilot"), never its state.
    title_rules: [],
    // Real screens of copilot 1.0.102 (BYOK against the mock model service).
    screen_rules: [
      {
        id: 'copilot.login',
        pattern:
          '(Please use /login|not (currently )?(logged|signed) in|/login to (sign|log) in|Waiting for authorization)',
        region: { kind: 'last-lines', count: 15 },
        state: 'waiting_input',
        auth: true,
      },
      {
        id: 'copilot.trust-prompt',
        pattern: '(Confirm folder trust|Do you trust the files in this folder\\?)',
        region: { kind: 'last-lines', count: 25 },
        state: 'waiting_input',
      },
      {
        id: 'copilot.permission-prompt',
        pattern:
          '(Do you want to (run|allow|make|edit|create)[^?\\n]*\\?|No, and tell Copilot what to do differently)',
        region: { kind: 'last-lines', count: 20 },
        state: 'waiting_input',
      },
      {
        // The status line under the input box: "◉ Working · 9 B esc esc interrupt".
        id: 'copilot.busy',
        pattern: '(Working · |esc esc (to )?interrupt)',
        region: { kind: 'last-lines', count: 3 },
        state: 'processing',
      },
      {
        // The idle status line: "← open sidebar · Interactive · Manual Approval · / commands · ? help"
        // (narrower terminals drop its last items; while working it reads "◉ Working · …" instead).
        id: 'copilot.prompt',
        pattern: '(← open sidebar · |· / commands)',
        region: { kind: 'last-lines', count: 4 },
        state: 'waiting_input',
        priority: WEAK_PROMPT,
      },
      ...common,
    ],
  };

  const qwen: ProviderDefinition = {
    id: 'qwen',
    name: 'Qwen Code',
    binary: 'qwen',
    interactive_args: [],
    full_access_args: ['--yolo'],
    one_shot: {
      args: ['-o', 'stream-json'],
      prompt: { via: 'flag', flag: '-p' },
      output: 'stream-json',
      full_access_args: ['--yolo'],
    },
    // An OpenAI-compatible Chat Completions endpoint (its documented env), or Alibaba's keys.
    env_keys: ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'DASHSCOPE_API_KEY'],
    version_args: ['--version'],
    bracketed_paste: true,
    stability_ms: 2000,
    icon: 'qwen',
    title_rules: [],
    // The provider menu is a real screen of qwen 0.24.4 (no provider configured). The rest is Qwen
    // Code's documented UI, which it inherits from the Gemini CLI (it is a fork): it speaks only the
    // Chat Completions API, which the test suite's mock model service does not, so no turn ran here.
    screen_rules: [
      {
        id: 'qwen.auth-menu',
        pattern:
          '(Connect a Provider|How would you like to authenticate|Qwen OAuth|Enter (your )?API Key|Waiting for auth)',
        region: { kind: 'last-lines', count: 25 },
        state: 'waiting_input',
        auth: true,
      },
      {
        id: 'qwen.permission-prompt',
        pattern: '(Yes, allow once|Allow execution of|Apply this change\\?|Do you want to proceed\\?)',
        region: { kind: 'last-lines', count: 20 },
        state: 'waiting_input',
      },
      {
        id: 'qwen.busy',
        pattern: '\\(esc to cancel',
        region: { kind: 'last-lines', count: 10 },
        state: 'processing',
      },
      {
        id: 'qwen.prompt',
        pattern: '(Type your message|^[ \\t]*>[ \\t])',
        region: { kind: 'last-lines', count: 8 },
        state: 'waiting_input',
        priority: WEAK_PROMPT,
      },
      ...common,
    ],
  };

  const opencode: ProviderDefinition = {
    id: 'opencode',
    name: 'opencode',
    binary: 'opencode',
    interactive_args: [],
    full_access_args: [],
    one_shot: {
      args: ['run', '--format', 'json'],
      prompt: { via: 'arg' },
      output: 'stream-json',
      full_access_args: [],
    },
    env_keys: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENCODE_CONFIG', 'OPENCODE_CONFIG_CONTENT'],
    version_args: ['--version'],
    bracketed_paste: true,
    stability_ms: 2000,
    icon: 'opencode',
    title_rules: [],
    // From opencode's documentation (1.18): the installed 1.18.33 drew nothing within 12 s offline in a
    // PTY here (it loads its model catalogue first), so no screen could be recorded.
    screen_rules: [
      {
        id: 'opencode.permission-prompt',
        pattern: '(Permission required|Allow once|Allow always|Reject)',
        region: { kind: 'last-lines', count: 15 },
        state: 'waiting_input',
      },
      {
        id: 'opencode.busy',
        pattern: '(esc (to )?interrupt|working\\.\\.\\.)',
        region: { kind: 'last-lines', count: 6 },
        state: 'processing',
      },
      {
        id: 'opencode.no-provider',
        pattern: '(No providers? (configured|found)|opencode auth login)',
        region: { kind: 'last-lines', count: 15 },
        state: 'waiting_input',
        auth: true,
      },
      ...common,
    ],
  };

  const amp: ProviderDefinition = {
    id: 'amp',
    name: 'Amp',
    binary: 'amp',
    interactive_args: [],
    full_access_args: ['--dangerously-allow-all'],
    one_shot: {
      args: ['--stream-json'],
      prompt: { via: 'flag', flag: '-x' },
      output: 'stream-json',
      full_access_args: ['--dangerously-allow-all'],
    },
    env_keys: ['AMP_API_KEY'],
    version_args: ['--version'],
    bracketed_paste: true,
    stability_ms: 2000,
    icon: 'amp',
    title_rules: [],
    // The sign-in screens are real (@ampcode/cli 0.0.1790142911 with no key). Amp talks only to its own
    // service (not a model API), so no turn can run here: the working/permission strings are from its
    // documentation.
    screen_rules: [
      {
        id: 'amp.login-question',
        pattern: 'Would you like to log in to Amp\\?',
        region: { kind: 'last-lines', count: 1 },
        state: 'waiting_input',
        auth: true,
      },
      {
        // Under the sign-in URL; the URL itself (any.oauth-url, priority 90) is the better prompt.
        id: 'amp.paste-code',
        pattern: 'paste your code here',
        region: { kind: 'last-lines', count: 2 },
        state: 'waiting_input',
        auth: true,
        priority: 89,
      },
      {
        id: 'amp.permission-prompt',
        pattern: '(Allow (this command|once)|Approve\\?|requires approval)',
        region: { kind: 'last-lines', count: 15 },
        state: 'waiting_input',
      },
      {
        id: 'amp.busy',
        pattern: '(Esc to cancel|esc to interrupt|Running tools|Thinking)',
        region: { kind: 'last-lines', count: 6 },
        state: 'processing',
      },
      ...common,
    ],
  };

  const aider: ProviderDefinition = {
    id: 'aider',
    name: 'aider',
    binary: 'aider',
    interactive_args: [],
    full_access_args: ['--yes-always'],
    one_shot: {
      args: ['--no-stream', '--yes-always'],
      prompt: { via: 'flag', flag: '--message' },
      output: 'text',
      full_access_args: [],
    },
    env_keys: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENAI_API_BASE', 'GEMINI_API_KEY'],
    version_args: ['--version'],
    // aider reads extra carriage returns as input (field notes §1.1): type, then Enter.
    bracketed_paste: false,
    stability_ms: 2000,
    icon: 'aider',
    title_rules: [],
    // From aider's documentation only: it is a Python package (aider-chat) and this machine reaches the
    // npm registry and Debian only, so it was never run here.
    screen_rules: [
      {
        id: 'aider.confirm',
        // "Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]:", "Add file to the chat? (Y)es/(N)o …".
        pattern: '\\(Y\\)es/\\(N\\)o',
        region: { kind: 'last-lines', count: 4 },
        state: 'waiting_input',
      },
      {
        id: 'aider.busy',
        pattern: '(Waiting for [\\w./-]+|Tokens: .* sent)',
        region: { kind: 'last-lines', count: 3 },
        state: 'processing',
      },
      {
        // Its prompt: `> `, or `architect> ` / `ask> ` / `diff> ` in other modes.
        id: 'aider.prompt',
        pattern: '^[ \\t]*(\\w+ )?\\w*>[ \\t]*$',
        region: { kind: 'cursor-line' },
        state: 'waiting_input',
        priority: WEAK_PROMPT,
      },
      ...common,
    ],
  };

  return [copilot, qwen, opencode, amp, aider];
}
