// The agents' own signals with the REAL CLIs (pinned in pinned-clis.json) through `autodev serve`,
// against the mock model service: Claude Code hooks (--settings), Codex notify + OSC 7501, Gemini
// hooks (where its root-owned-path rule holds). Each turn's end, permission question and the
// conversation id must come from the agent itself; the conversation id must be the one the CLI keeps
// on disk (what resuming needs). And with signals turned off, the same real turn is still read from
// the screen (the fallback).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isRootOwnedPath } from '../../src-main/core/signals/spawn-wiring.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { startMockModelServer } from '../mock-model/server.ts';
import { type AutodevServe, startAutodevServe } from './autodev-serve.ts';
import { CliSession } from './cli-session.ts';
// @ts-expect-error plain ESM helper shared with scripts/test.mjs (no type declarations)
import { cliBinary, ensureAgentClis, pinnedClis } from './install-clis.mjs';
import { type CliId, type CliProfile, PROFILES } from './profiles.ts';

type SignalCli = CliId | 'copilot';

/**
 * GitHub Copilot CLI (an agent added as data, providers/defaults-more.ts) with BYOK on the mock model
 * service: it speaks the Anthropic Messages API there and needs no GitHub sign-in in offline mode.
 */
const copilot: CliProfile = {
  id: 'copilot' as CliId,
  provider: 'copilot',
  version: (pinnedClis() as Record<string, { version: string }>).copilot?.version ?? '',
  binary: cliBinary('copilot'),
  apiKeyVar: 'COPILOT_PROVIDER_API_KEY',
  fakeKey: 'sk-ant-api03-mockmockmockmockmockmock',
  writeHome() {},
  env(o) {
    return {
      COPILOT_PROVIDER_BASE_URL: o.mockUrl,
      COPILOT_PROVIDER_TYPE: 'anthropic',
      COPILOT_PROVIDER_API_KEY: copilot.fakeKey,
      COPILOT_OFFLINE: 'true',
      COPILOT_MODEL: 'claude-sonnet-4.5',
      COPILOT_AUTO_UPDATE: 'false',
    };
  },
  screen: {
    ready: /· \/ commands/,
    working: (screen) => /Working · /.test(screen),
    permission: /Do you want to run this command\?/,
    trust: /Confirm folder trust/,
    signIn: /\/login/,
    errorBanner: (status) => new RegExp(String(status)),
  },
  keys: { approve: '\r', acceptTrust: ['\r'], acceptKey: [] },
  submitVia: 'keys',
  errors: { fast: [], slow: [] },
  wire: { path: /^\/v1\/messages/, shellTool: 'bash' },
};
const profileOf = (cli: SignalCli): CliProfile => (cli === 'copilot' ? copilot : PROFILES[cli]);

const skip =
  process.env['AUTODEV_SKIP_REAL_CLIS'] === '1'
    ? 'AUTODEV_SKIP_REAL_CLIS=1: the real agent CLIs are not run'
    : false;
// A data dir under the checkout: Gemini reads its per-session hooks file only from a root-owned path
// that group and others cannot write (true here when the suite runs as root, as CI does).
const dataParent = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '.cache',
  'signals-serve',
);

let serve: AutodevServe;
let screenOnly: AutodevServe;
let versions: Record<SignalCli, string>;

before(async () => {
  if (skip) return;
  ({ versions } = ensureAgentClis({ log: () => {} }) as { versions: Record<SignalCli, string> });
  mkdirSync(dataParent, { recursive: true, mode: 0o755 });
  const all = [...Object.values(PROFILES), copilot];
  const binaries = Object.fromEntries(all.map((p) => [p.provider, { binary: p.binary }]));
  serve = await startAutodevServe({ providers: binaries, dataDirParent: dataParent });
  // The same CLIs with their signal wiring turned off in the providers file: screen rules only.
  const off = Object.fromEntries(all.map((p) => [p.provider, { binary: p.binary, signals: null }]));
  screenOnly = await startAutodevServe({ providers: off, dataDirParent: dataParent });
});

after(async () => {
  await serve?.stop();
  await screenOnly?.stop();
});

/** Where each CLI keeps the conversation AutoDev recorded (the id `--resume`/`resume` takes). */
function conversationOnDisk(cli: SignalCli, home: string, id: string): boolean {
  const files = (dir: string): string[] => {
    try {
      return readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name));
    } catch {
      return [];
    }
  };
  switch (cli) {
    case 'claude':
      return files(path.join(home, '.claude', 'projects')).some((f) => path.basename(f) === `${id}.jsonl`);
    case 'codex':
      return readFileSync(path.join(home, '.codex', 'session_index.jsonl'), 'utf8').includes(`"id":"${id}"`);
    case 'gemini':
      return files(path.join(home, '.gemini', 'tmp')).some((f) => path.basename(f).includes(id.slice(0, 8)));
    case 'copilot':
      return files(path.join(home, '.copilot', 'session-state')).some((f) => f.includes(id));
  }
}

const SIGNAL_SOURCES = new Set(['hook', 'osc-status']);
const PERMISSION_RULE: Record<SignalCli, RegExp> = {
  claude: /^claude\.hook\.permission/,
  codex: /^codex\.approval-prompt$/, // its early OSC `blocked` hands over to the drawn dialog
  gemini: /^gemini\.hook\.tool-permission$/,
  // Copilot has no permission hook: its pre-tool "working" signal yields to the newer dialog on screen.
  copilot: /^copilot\.permission-prompt$/,
};

/** AutoDev's state at the end of a settle period after the screen (ground truth) showed `frame`. */
async function stateAfter(s: CliSession, at: number, settleMs = 1200): Promise<SessionInfo> {
  const wait = at + settleMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return s.current as SessionInfo;
}

async function signalTurns(cli: SignalCli, server: AutodevServe, t: { diagnostic(s: string): void }) {
  const profile = profileOf(cli);
  const mock = await startMockModelServer({ lifetimeMs: 3 * 60_000 });
  const s = await CliSession.start({ serve: server, profile, mock, scenario: 'signals' });
  // The CLI's idle prompt with no sign of work, and (optionally) some text on screen: ground truth.
  const idle = (since: number, text?: string) =>
    s.screen.waitFor(
      (f) =>
        profile.screen.ready.test(f.text) &&
        !profile.screen.working(f.text, f.title) &&
        (text === undefined || f.text.includes(text)),
      { since, timeoutMs: 60_000 },
    );
  try {
    mock.script(
      { kind: 'text', text: 'Hello from the mock, slowly.', durationMs: 1500 },
      { kind: 'tool', command: 'touch created-by-agent.txt' },
      { kind: 'text', text: 'Created it.' },
    );
    // Copilot asks whether to trust the folder first.
    const first = await s.screen.waitFor(
      (f) => profile.screen.trust.test(f.text) || profile.screen.ready.test(f.text),
      { timeoutMs: 60_000 },
    );
    if (profile.screen.trust.test(first.text)) await s.keySequence(profile.keys.acceptTrust);
    await idle(0);
    await s.screen.quiet(1500, 60_000);

    const turn1 = await s.submit('say hello');
    const answered = await idle(turn1, 'Hello from the mock');
    const ended = await stateAfter(s, answered.at);
    const endSample = s.states.find(
      (x) => x.at >= turn1 && x.session.state_reason.rule === ended.state_reason.rule,
    );
    const streamEnd = mock.events.find((e) => e.type === 'stream-end' && e.at >= turn1);
    t.diagnostic(
      `${cli} ${versions[cli]}: turn end decided by ${ended.state_reason.source}:${ended.state_reason.rule}` +
        (streamEnd && endSample
          ? ` (published ${endSample.at - streamEnd.at} ms after the answer finished streaming)`
          : ''),
    );

    const turn2 = await s.submit('create the file');
    const question = await s.screen.waitFor((f) => profile.screen.permission.test(f.text), {
      since: turn2,
      timeoutMs: 60_000,
    });
    const asked = await stateAfter(s, question.at);
    await s.keySequence([profile.keys.approve], 100);
    const done = await idle(Date.now(), 'Created it');
    const finished = await stateAfter(s, done.at);
    const id = finished.conversation_id ?? null;
    const onDisk = id !== null && conversationOnDisk(cli, s.home, id);
    return { ended, asked, finished, onDisk, all: s.states.map((x) => x.session) };
  } finally {
    await s.close();
    await mock.close();
  }
}

for (const cli of ['claude', 'codex', 'gemini', 'copilot'] as const) {
  test(`${cli}: turn ends and permission questions come from the agent's own signals; conversation id recorded (real CLI)`, {
    skip,
  }, async (t) => {
    if (cli === 'gemini' && !isRootOwnedPath(dataParent)) {
      t.skip(
        `gemini reads hooks only from a root-owned path; ${dataParent} is not one (not running as root)`,
      );
      return;
    }
    const r = await signalTurns(cli, serve, t);
    const sources = (x: SessionInfo) => `${x.state_reason.source}:${x.state_reason.rule}`;
    assert.ok(SIGNAL_SOURCES.has(r.ended.state_reason.source), `turn end: ${sources(r.ended)}`);
    assert.match(r.asked.state_reason.rule ?? '', PERMISSION_RULE[cli], `permission: ${sources(r.asked)}`);
    assert.ok(SIGNAL_SOURCES.has(r.finished.state_reason.source), `after approval: ${sources(r.finished)}`);
    const id = r.finished.conversation_id;
    assert.ok(id, 'the conversation id was reported');
    assert.ok(r.onDisk, `${cli} keeps conversation ${id} on disk`);
    const ids = new Set(r.all.map((x) => x.conversation_id).filter((x) => x));
    assert.equal(ids.size, 1, `one conversation id throughout: ${[...ids].join(', ')}`);
  });
}

test('claude with signals turned off: the same real turns are read from the screen alone (fallback)', {
  skip,
}, async (t) => {
  const r = await signalTurns('claude', screenOnly, t);
  assert.equal(r.ended.state, 'waiting_input');
  assert.equal(r.asked.state_reason.rule, 'claude.permission-prompt');
  assert.equal(r.finished.state, 'waiting_input');
  const bySignal = r.all.filter((x) => SIGNAL_SOURCES.has(x.state_reason.source));
  assert.deepEqual(
    bySignal.map((x) => x.state_reason.rule),
    [],
    'no signal was wired, none decided',
  );
  assert.equal(r.finished.conversation_id ?? null, null);
});
