import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Detection } from '../../../src-main/core/state/types.ts';
import { clockedDetector, provider, screen } from './screen-replay.ts';

interface Case {
  screen: string;
  provider: string;
  state: Detection['state'];
  rule: string;
  source?: string;
  auth?: boolean;
  /** Substrings auth_prompt must contain. */
  prompt?: string[];
}

const cases: Case[] = [
  {
    screen: 'claude-idle',
    provider: 'claude',
    state: 'waiting_input',
    rule: 'claude.title-idle',
    source: 'osc-title',
  },
  { screen: 'claude-idle-quoting', provider: 'claude', state: 'waiting_input', rule: 'claude.prompt' },
  {
    screen: 'claude-busy',
    provider: 'claude',
    state: 'processing',
    rule: 'claude.title-spinner',
    source: 'osc-title',
  },
  { screen: 'claude-busy-no-title', provider: 'claude', state: 'processing', rule: 'claude.busy' },
  {
    screen: 'claude-permission',
    provider: 'claude',
    state: 'waiting_input',
    rule: 'claude.permission-prompt',
  },
  { screen: 'claude-trust', provider: 'claude', state: 'waiting_input', rule: 'claude.trust-prompt' },
  {
    screen: 'claude-auth-401',
    provider: 'claude',
    state: 'error',
    rule: 'claude.auth-error',
    auth: true,
    prompt: ['API Error: 401', 'OAuth token has expired', 'Please run /login'],
  },
  {
    screen: 'claude-login-method',
    provider: 'claude',
    state: 'waiting_input',
    rule: 'claude.login-menu',
    auth: true,
    prompt: ['Select login method:'],
  },
  {
    screen: 'claude-oauth-url',
    provider: 'claude',
    state: 'waiting_input',
    rule: 'any.oauth-url',
    auth: true,
    // The URL soft-wraps over several rows; it must come back whole.
    prompt: [
      "Browser didn't open?",
      'redirect_uri=https%3A%2F%2Fconsole.anthropic.com',
      'state=Zq9fK2LmP0aB7cD3eF1gH5iJ8kL4',
    ],
  },
  {
    screen: 'oauth-url-hard-wrapped',
    provider: 'codex',
    state: 'waiting_input',
    rule: 'any.oauth-url',
    auth: true,
    prompt: [
      'open this URL',
      'https://claude.ai/oauth/authorize?code=true&client_id=9d1c250a-e61b-44d9-88ed-5944d1962f5e&response_type=code',
    ],
  },
  { screen: 'codex-idle', provider: 'codex', state: 'waiting_input', rule: 'codex.prompt' },
  { screen: 'codex-busy', provider: 'codex', state: 'processing', rule: 'codex.busy' },
  { screen: 'codex-approval', provider: 'codex', state: 'waiting_input', rule: 'codex.approval-prompt' },
  {
    screen: 'codex-login',
    provider: 'codex',
    state: 'waiting_input',
    rule: 'codex.login-menu',
    auth: true,
    prompt: ['Sign in with ChatGPT'],
  },
  {
    screen: 'gemini-idle',
    provider: 'gemini',
    state: 'waiting_input',
    rule: 'gemini.title-idle',
    source: 'osc-title',
  },
  { screen: 'gemini-busy', provider: 'gemini', state: 'processing', rule: 'gemini.busy' },
  // The title says ✋ too, but the explicit dialog on screen is the more specific evidence.
  {
    screen: 'gemini-permission',
    provider: 'gemini',
    state: 'waiting_input',
    rule: 'gemini.permission-prompt',
  },
  {
    screen: 'gemini-auth',
    provider: 'gemini',
    state: 'waiting_input',
    rule: 'gemini.auth-menu',
    auth: true,
    prompt: ['How would you like to authenticate for this project?'],
  },
  { screen: 'cursor-idle', provider: 'cursor', state: 'waiting_input', rule: 'cursor.prompt' },
  // Codex's error cell right above its input line (anchored: the same text higher up in the transcript is old).
  { screen: 'network-error', provider: 'codex', state: 'error', rule: 'codex.error-banner', auth: false },
  { screen: 'shell-prompt', provider: 'shell', state: 'waiting_input', rule: 'shell.prompt' },
];

for (const c of cases) {
  test(`recorded screen ${c.screen} (${c.provider}) → ${c.state} by ${c.rule}`, async () => {
    const { detector, clock, write } = clockedDetector(provider(c.provider));
    try {
      await write(screen(c.screen));
      clock.t += 10_000; // long after every settle time and stability window
      const d = detector.evaluate();
      assert.equal(
        d.state,
        c.state,
        `screen:\n${detector.screenText()}\nreason: ${JSON.stringify(d.reason)}`,
      );
      assert.equal(d.reason.rule, c.rule, JSON.stringify(d.reason));
      assert.equal(d.reason.source, c.source ?? 'screen-rule');
      assert.ok(d.reason.detail.length > 0);
      assert.ok(!Number.isNaN(Date.parse(d.reason.at)));
      assert.equal(d.authentication_required, c.auth ?? false);
      if (c.auth) {
        assert.ok(d.auth_prompt, 'auth_prompt set');
        for (const part of c.prompt ?? [])
          assert.ok(d.auth_prompt.includes(part), `auth_prompt lacks ${part}:\n${d.auth_prompt}`);
        assert.equal(d.auth_prompt, d.auth_prompt.trim());
      } else {
        assert.equal(d.auth_prompt, null);
      }
    } finally {
      detector.dispose();
    }
  });
}

test('the ANSI-free screen text has no escape sequences and NBSP is normalised', async () => {
  const { detector, write } = clockedDetector(provider('claude'));
  try {
    await write(screen('claude-idle'));
    const text = detector.screenText();
    assert.ok(!text.includes('\x1b'));
    assert.ok(!text.includes('\u00a0'));
    assert.match(text, /^❯$/m);
    assert.equal(detector.title, '✳ Claude Code');
  } finally {
    detector.dispose();
  }
});

test('serialize() restores the same screen in a fresh detector', async () => {
  const a = clockedDetector(provider('claude'));
  const b = clockedDetector(provider('claude'));
  try {
    await a.write(screen('claude-permission'));
    const serialized = a.detector.serialize();
    assert.ok(serialized.length > 0);
    await b.write(serialized);
    assert.equal(b.detector.screenText(), a.detector.screenText());
    b.clock.t += 10_000;
    assert.equal(b.detector.evaluate().reason.rule, 'claude.permission-prompt');
  } finally {
    a.detector.dispose();
    b.detector.dispose();
  }
});
