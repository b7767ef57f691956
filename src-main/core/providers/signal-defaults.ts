import type { SignalEventRule, SignalSpec } from './signal-spec.ts';

/**
 * The bundled agents' own signals (signal-spec.ts explains the shape and the placeholders). Data only:
 * the signal service (src-main/core/signals/) wires these in per session and applies the event rules.
 *
 * Event → state follows the mapping of field notes §1.4: prompt submitted / tool use → processing;
 * permission or question → waiting_input; turn finished → waiting_input; a failed turn → error.
 * SessionStart means idle (waiting), never working. Sub-agent payloads are ignored. An event without a
 * rule changes nothing (never "done" by default).
 */

/** One command hook running AutoDev's relay (Claude Code's hook format; timeout in seconds). */
const claudeHook = [{ type: 'command', command: '{relay:hooks}', timeout: 5 }];

const CLAUDE_EVENTS: SignalEventRule[] = [
  // SessionStart gives the conversation id. As a state it would only say "idle", and its hook can run
  // late (after the user already sent a prompt): the screen tells the start-up's idle prompt well.
  { id: 'claude.hook.session-start', event: 'SessionStart', state: 'ignore' },
  {
    id: 'claude.hook.prompt-submit',
    event: 'UserPromptSubmit',
    state: 'processing',
    label: 'prompt submitted',
  },
  { id: 'claude.hook.pre-tool', event: 'PreToolUse', state: 'processing', label: 'running a tool' },
  { id: 'claude.hook.post-tool', event: 'PostToolUse', state: 'processing', label: 'tool finished' },
  {
    id: 'claude.hook.permission-request',
    event: 'PermissionRequest',
    state: 'waiting_input',
    label: 'permission request',
  },
  {
    id: 'claude.hook.permission-prompt',
    event: 'Notification',
    when: { notification_type: '^permission_prompt$' },
    state: 'waiting_input',
    label: 'permission prompt',
  },
  {
    id: 'claude.hook.question',
    event: 'Notification',
    when: { notification_type: '^(idle_prompt|elicitation_dialog)$' },
    state: 'waiting_input',
    label: 'waiting for you',
  },
  { id: 'claude.hook.stop', event: 'Stop', state: 'waiting_input', label: 'turn finished' },
  { id: 'claude.hook.stop-failure', event: 'StopFailure', state: 'error', label: 'turn failed' },
];

/**
 * Claude Code: hooks in a per-session settings file passed with `--settings <file>` (merged with the
 * user's settings layers, whose own hooks keep running; nothing of theirs is written). The hook input
 * arrives on stdin as JSON with `hook_event_name` and `session_id` (the conversation id `--resume`
 * takes). Sub-agent payloads carry `agent_id`.
 */
export const CLAUDE_SIGNALS: SignalSpec = {
  notes:
    'Hook events and --settings per the Claude Code hooks reference; run against claude 2.1.x in test/core/signals.',
  files: [
    {
      name: 'claude-settings.json',
      content: {
        hooks: {
          SessionStart: [{ hooks: claudeHook }],
          UserPromptSubmit: [{ hooks: claudeHook }],
          PreToolUse: [{ matcher: '*', hooks: claudeHook }],
          PostToolUse: [{ matcher: '*', hooks: claudeHook }],
          PermissionRequest: [{ matcher: '*', hooks: claudeHook }],
          Notification: [{ hooks: claudeHook }],
          Stop: [{ hooks: claudeHook }],
          StopFailure: [{ hooks: claudeHook }],
        },
      },
    },
  ],
  args: ['--settings', '{file:claude-settings.json}'],
  sources: [
    {
      id: 'hooks',
      channel: 'relay',
      parser: 'json',
      event_field: 'hook_event_name',
      conversation_id_field: 'session_id',
      ignore_fields: ['agent_id'],
      message_field: 'message',
      events: CLAUDE_EVENTS,
    },
  ],
};

/**
 * Codex: its TUI prints program-status reports (OSC 7501 `state=working|blocked|done|idle|error|clear`,
 * `kind=` permission|question|auth) that arrive in the output stream, in order with what it draws:
 * they decide the state. The `notify` program (config override `-c notify=[…]`, TOML) runs after every
 * completed turn with a JSON argument (`type: agent-turn-complete`, `thread-id`: the id `codex resume`
 * takes); it gives the conversation id but not the state: Codex starts it without waiting, so it can
 * arrive after the user already sent the next prompt (seen with codex 0.171: a false "waiting" while
 * the next turn ran). Codex's own hooks need a trust review in its
 * UI before they run, so they are not used. Limitation: the override replaces a `notify` program the
 * user configured, for AutoDev's sessions only.
 */
export const CODEX_SIGNALS: SignalSpec = {
  notes: 'notify and OSC 7501 as codex 0.171 implements them; run against it in test/core/signals.',
  args: ['-c', 'notify={relay_toml:notify}'],
  sources: [
    {
      id: 'notify',
      channel: 'relay',
      parser: 'json',
      event_field: 'type',
      conversation_id_field: 'thread-id',
      // Codex titles a new conversation in a side thread whose turn ends (and notifies) first; its
      // answer is the title JSON. Its thread is not the conversation, and its end is not the turn's.
      ignore_when: { 'last-assistant-message': '^\\s*\\{\\s*"title"\\s*:' },
      events: [{ id: 'codex.notify.turn-complete', event: 'agent-turn-complete', state: 'ignore' }],
    },
    {
      id: 'osc7501',
      channel: 'osc',
      osc: 7501,
      parser: 'osc-kv',
      event_field: 'state',
      // Reports with an `id` describe a sub-record (a sub-agent, a task); the root record is the agent.
      ignore_fields: ['id'],
      message_field: 'msg',
      events: [
        { id: 'codex.osc.working', event: 'working', state: 'processing' },
        {
          id: 'codex.osc.blocked-auth',
          event: 'blocked',
          when: { kind: '^auth$' },
          state: 'waiting_input',
          auth: true,
          label: 'sign-in needed',
        },
        // codex 0.171 reports `blocked kind=permission` when the request arrives, up to a second before
        // it draws the approval dialog (seen against the real CLI): "needs you" would show while the
        // screen still works. The dialog itself is read from the screen (codex.approval-prompt).
        { id: 'codex.osc.blocked', event: 'blocked', state: 'clear' },
        { id: 'codex.osc.done', event: 'done', state: 'waiting_input', label: 'turn done' },
        // Codex also reports `idle` the moment a prompt is submitted (before `working`): not a turn's
        // end, so it only hands the decision back to the screen.
        { id: 'codex.osc.idle', event: 'idle', state: 'clear' },
        { id: 'codex.osc.error', event: 'error', state: 'error' },
        { id: 'codex.osc.clear', event: 'clear', state: 'clear' },
      ],
    },
  ],
};

/** One Gemini CLI command hook (timeout in ms). The relay's variables ride in the hook's own `env`:
 *  Gemini can scrub its environment before running hooks (environment variable redaction). */
const geminiHook = [
  {
    type: 'command',
    name: 'autodev-signal',
    command: '{relay:hooks}',
    timeout: 5000,
    env: {
      AUTODEV_SESSION_ID: '{session_id}',
      AUTODEV_SIGNAL_MAC: '{session_mac}',
      AUTODEV_SIGNAL_MANIFEST: '{manifest}',
    },
  },
];

/**
 * Gemini CLI (hooks since 0.26; `hooksConfig.enabled` defaults to true in 0.61): hooks in the system
 * DEFAULTS settings layer, pointed at a per-session file through GEMINI_CLI_SYSTEM_DEFAULTS_PATH and
 * merged over the user's own system-defaults file when there is one (hook arrays concatenate across
 * layers). 0.61 has no other per-session settings layer (no `--settings`; GEMINI_CLI_HOME would replace
 * the user's whole configuration), and it reads a system file only from a root-owned path that group
 * and others cannot write: so this works where AutoDev's data dir is such a path (AutoDev run as
 * root, or a system data dir); elsewhere it is skipped and Gemini's window titles (◇ Ready, ✋ Action
 * Required, ✦ Working) and screen rules decide. Gemini runs configured hooks only in trusted folders.
 */
export const GEMINI_SIGNALS: SignalSpec = {
  file_location: 'root-owned',
  notes:
    'Hook events per the gemini-cli 0.61 bundle (hookEventHandler); run against it in test/core/signals.',
  files: [
    {
      name: 'gemini-system-defaults.json',
      merge_from: ['{env:GEMINI_CLI_SYSTEM_DEFAULTS_PATH}', '/etc/gemini-cli/system-defaults.json'],
      content: {
        hooks: {
          SessionStart: [{ hooks: geminiHook }],
          BeforeAgent: [{ hooks: geminiHook }],
          BeforeTool: [{ matcher: '.*', hooks: geminiHook }],
          AfterTool: [{ matcher: '.*', hooks: geminiHook }],
          Notification: [{ hooks: geminiHook }],
          AfterAgent: [{ hooks: geminiHook }],
        },
      },
    },
  ],
  env: { GEMINI_CLI_SYSTEM_DEFAULTS_PATH: '{file:gemini-system-defaults.json}' },
  sources: [
    {
      id: 'hooks',
      channel: 'relay',
      parser: 'json',
      event_field: 'hook_event_name',
      conversation_id_field: 'session_id',
      message_field: 'message',
      events: [
        { id: 'gemini.hook.session-start', event: 'SessionStart', state: 'ignore' },
        {
          id: 'gemini.hook.before-agent',
          event: 'BeforeAgent',
          state: 'processing',
          label: 'prompt submitted',
        },
        { id: 'gemini.hook.before-tool', event: 'BeforeTool', state: 'processing', label: 'running a tool' },
        { id: 'gemini.hook.after-tool', event: 'AfterTool', state: 'processing', label: 'tool finished' },
        {
          id: 'gemini.hook.tool-permission',
          event: 'Notification',
          when: { notification_type: '^ToolPermission$' },
          state: 'waiting_input',
          label: 'permission request',
        },
        {
          id: 'gemini.hook.after-agent',
          event: 'AfterAgent',
          state: 'waiting_input',
          label: 'turn finished',
        },
      ],
    },
  ],
};
