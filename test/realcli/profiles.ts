import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain ESM helper shared with scripts/test.mjs (no type declarations)
import { cliBinary, pinnedClis } from './install-clis.mjs';

/**
 * What the test harness knows about each real agent CLI: how to point it at the mock model service
 * (config files in a per-session HOME, env), how to answer its questions, and what its screen shows.
 *
 * The `screen` markers are GROUND TRUTH for the scenarios, written from watching the pinned versions
 * (test/realcli/pinned-clis.json) against the mock service. They are deliberately separate from
 * AutoDev's own screen rules (src-main/core/providers/defaults.ts): a scenario compares what AutoDev
 * decided with what the CLI was really doing, so it must not ask AutoDev's rules what that was.
 */
export type CliId = 'claude' | 'codex' | 'gemini';

export interface HomeOptions {
  home: string;
  project: string;
  mockUrl: string;
  /** The folder trust question is already answered (default true). */
  trusted?: boolean;
  /** claude: the custom API key is already approved (default true). */
  keyApproved?: boolean;
  /** Config that selects API-key auth / the mock provider is written (default true); without it the
   *  CLIs show their sign-in screens. */
  configured?: boolean;
  /** claude: onboarding done (default true). Without it the first-run check calls the real service
   *  (unreachable here) and exits 1. */
  onboarded?: boolean;
  /** Make the project a git repository (codex only asks about trust inside one). */
  gitRepo?: boolean;
  /** gemini: attempts per request (`general.maxAttempts`; default: the CLI's own, 10 with backoff, so
   *  a server error takes over a minute to show. 1 makes gemini 0.61 retry in a tight loop). */
  maxAttempts?: number;
}

export interface ScreenMarkers {
  /** The idle input prompt is drawn and nothing is in progress (start-up finished, turn finished). */
  ready: RegExp;
  /** The CLI shows it is working (spinner line, "esc to interrupt", busy window title). */
  working(screen: string, title: string): boolean;
  /** A permission question for the mock's shell tool call. */
  permission: RegExp;
  /** The folder trust question. */
  trust: RegExp;
  /** The sign-in / API-key screen shown when no usable auth is configured. */
  signIn: RegExp;
  /** The error banner after an HTTP error. */
  errorBanner(status: number): RegExp;
}

export interface CliProfile {
  id: CliId;
  /** AutoDev provider id. */
  provider: string;
  version: string;
  binary: string;
  apiKeyVar: string;
  /** A fake key in the key's usual format (the redactor and the CLIs' format checks see a real shape). */
  fakeKey: string;
  writeHome(o: HomeOptions): void;
  env(o: HomeOptions): Record<string, string>;
  screen: ScreenMarkers;
  keys: {
    /** Approve the permission question once. */
    approve: string;
    /** Accept the folder trust question (keys sent in order, 300 ms apart). */
    acceptTrust: string[];
    /** Accept "Do you want to use this API key?" (claude). */
    acceptKey: string[];
  };
  /** What a conversational turn looks like on the wire (the mock's assumptions, checked every run). */
  wire: { path: RegExp; shellTool: string };
  /** HTTP errors the fast suite scripts; `slow` ones (the CLI retries them for a long time) run in the bench. */
  errors: { fast: number[]; slow: number[] };
  /** How a scenario sends a prompt: AutoDev's `command` (the provider's submit strategy), or typed keys
   *  then Enter (a person typing). All three use `command`; the command-submits scenario checks it. */
  submitVia: 'command' | 'keys';
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function writeText(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const BRAILLE = /^[\u2800-\u28ff]/;
const pins = pinnedClis() as Record<CliId, { version: string }>;

const claude: CliProfile = {
  id: 'claude',
  provider: 'claude',
  version: pins.claude.version,
  binary: cliBinary('claude'),
  apiKeyVar: 'ANTHROPIC_API_KEY',
  fakeKey: 'sk-ant-api03-mockmockmockmockmockmock',
  writeHome(o) {
    const key = claude.fakeKey;
    // Not onboarded = a first start: no ~/.claude.json at all (with one, claude shows its theme
    // picker before the connectivity check).
    if (o.onboarded !== false)
      writeJson(path.join(o.home, '.claude.json'), {
        hasCompletedOnboarding: true,
        // Claude keeps the last 20 characters of an approved custom key.
        ...(o.keyApproved === false
          ? {}
          : { customApiKeyResponses: { approved: [key.slice(-20)], rejected: [] } }),
        projects: { [o.project]: { hasTrustDialogAccepted: o.trusted !== false } },
      });
    // Manual permission mode, and no auto-mode opt-in dialog: permission questions are what we test.
    writeJson(path.join(o.home, '.claude', 'settings.json'), {
      permissions: { defaultMode: 'default', disableAutoMode: 'disable' },
    });
  },
  env(o) {
    return {
      ...(o.configured === false ? {} : { ANTHROPIC_API_KEY: claude.fakeKey }),
      ANTHROPIC_BASE_URL: o.mockUrl,
      CLAUDE_CODE_MAX_RETRIES: '0',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
    };
  },
  screen: {
    ready: /^❯ /m,
    working: (screen, title) =>
      /esc to interrupt/.test(screen) || /^[◐◓◑◒]/.test(title) || BRAILLE.test(title),
    permission: /Do you want to proceed\?/,
    trust: /Is this a project you created or one you trust\?/,
    signIn: /Not logged in|Select login method/,
    errorBanner: (status) => (status === 401 ? /Invalid API key/ : new RegExp(`API Error: ${status}`)),
  },
  keys: { approve: '1', acceptTrust: ['\x1b[B', '\r'], acceptKey: ['\x1b[A', '\r'] },
  errors: { fast: [500, 529, 401], slow: [] },
  wire: { path: /^\/v1\/messages\?beta=true$/, shellTool: 'Bash' },
  submitVia: 'command',
};

const codex: CliProfile = {
  id: 'codex',
  provider: 'codex',
  version: pins.codex.version,
  binary: cliBinary('codex'),
  apiKeyVar: 'OPENAI_API_KEY',
  fakeKey: 'sk-proj-mockmockmockmockmockmockmock',
  writeHome(o) {
    if (o.configured === false) return;
    const trust = o.trusted === false ? '' : `\n[projects."${o.project}"]\ntrust_level = "trusted"\n`;
    writeText(
      path.join(o.home, '.codex', 'config.toml'),
      `model = "mock-model"
model_provider = "mock"
approval_policy = "on-request"
check_for_update_on_startup = false

[model_providers.mock]
name = "Mock"
base_url = "${o.mockUrl}/v1"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0
${trust}`,
    );
  },
  env() {
    return { OPENAI_API_KEY: codex.fakeKey };
  },
  screen: {
    ready: /^› /m,
    // Codex hides "Working (esc to interrupt)" while text streams; its title spins a Braille frame.
    working: (screen, title) => /esc to interrupt/.test(screen) || BRAILLE.test(title),
    permission: /Would you like to run the following command\?/,
    trust: /Do you trust the contents of this directory\?|allow Codex to work in this folder/i,
    signIn: /Sign in with ChatGPT/,
    errorBanner: (status) =>
      status === 500 ? /We.re currently experiencing high demand/ : new RegExp(`unexpected status ${status}`),
  },
  keys: { approve: 'y', acceptTrust: ['\r'], acceptKey: [] },
  errors: { fast: [500, 529, 401], slow: [] },
  wire: { path: /^\/v1\/responses$/, shellTool: 'exec_command' },
  submitVia: 'command',
};

const gemini: CliProfile = {
  id: 'gemini',
  provider: 'gemini',
  version: pins.gemini.version,
  binary: cliBinary('gemini'),
  apiKeyVar: 'GEMINI_API_KEY',
  fakeKey: 'AIzaSyMockMockMockMockMockMockMockMock00',
  writeHome(o) {
    writeJson(path.join(o.home, '.gemini', 'settings.json'), {
      ...(o.configured === false ? {} : { security: { auth: { selectedType: 'gemini-api-key' } } }),
      ...(o.maxAttempts !== undefined ? { general: { maxAttempts: o.maxAttempts } } : {}),
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    });
    if (o.trusted !== false)
      writeJson(path.join(o.home, '.gemini', 'trustedFolders.json'), { [o.project]: 'TRUST_FOLDER' });
  },
  env(o) {
    return { GEMINI_API_KEY: gemini.fakeKey, GOOGLE_GEMINI_BASE_URL: o.mockUrl };
  },
  screen: {
    ready: /Type your message/,
    working: (screen, title) => /\(esc to cancel/.test(screen) || /^\s*✦/.test(title),
    permission: /Allow execution of/,
    trust: /Do you trust the files in this folder\?/,
    signIn: /How would you like to authenticate/,
    errorBanner: (status) => (status === 401 ? /API Error: .*401/ : /API Error/),
  },
  keys: { approve: '\r', acceptTrust: ['\r'], acceptKey: [] },
  // gemini retries server errors with backoff (10 attempts by default): over a minute per banner.
  errors: { fast: [401], slow: [500, 529] },
  wire: { path: /^\/v1beta\/models\/[^/:]+:streamGenerateContent\?alt=sse$/, shellTool: 'run_shell_command' },
  submitVia: 'command',
};

export const PROFILES: Record<CliId, CliProfile> = { claude, codex, gemini };
