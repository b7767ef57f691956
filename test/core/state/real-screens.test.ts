import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Detection } from '../../../src-main/core/state/types.ts';
import { clockedDetector, provider, SCREENS_DIR } from './screen-replay.ts';

// Screens RECORDED from the real CLIs (claude 2.1.332, codex 0.171.0, gemini 0.61.0 against the mock
// model service, through autodev serve: test/realcli/, AUTODEV_RECORD_SCREENS=dir), replayed into the
// detector at the size they were drawn (100×30). Each file is the session's output up to the moment the
// screen showed what the name says. The reconstructed screens in recorded-screens.test.ts stay for
// older versions.

const REAL = path.join(SCREENS_DIR, 'real');
const real = (name: string) => readFileSync(path.join(REAL, `${name}.ans`), 'utf8');

interface Case {
  screen: string;
  state: Detection['state'];
  rule: string;
  auth?: boolean;
  /** The reason (detail, and auth_prompt for auth) must say this: the agent's own words. */
  says?: RegExp;
}

const cases: Case[] = [
  // claude 2.1.332
  {
    screen: 'claude-trust',
    state: 'waiting_input',
    rule: 'claude.trust-prompt',
    says: /Is this a project you created or one you trust\?/,
  },
  {
    screen: 'claude-api-key-question',
    state: 'waiting_input',
    rule: 'claude.api-key-prompt',
    auth: true,
    says: /^Do you want to use this API key\?$/,
  },
  {
    screen: 'claude-error-500',
    state: 'error',
    rule: 'claude.api-error',
    says: /^API Error: 500 Internal server error\. This is a server-side issue/,
  },
  {
    screen: 'claude-error-529',
    state: 'error',
    rule: 'claude.api-error',
    says: /^API Error: 529 Overloaded/,
  },
  {
    screen: 'claude-error-401',
    state: 'error',
    rule: 'claude.auth-error',
    auth: true,
    says: /^Invalid API key · Fix external API key$/,
  },
  // The banners are still in the transcript above a later, successful turn: that is not an error.
  { screen: 'claude-idle-after-errors', state: 'waiting_input', rule: 'claude.title-idle' },
  { screen: 'claude-permission', state: 'waiting_input', rule: 'claude.permission-prompt' },
  {
    screen: 'claude-not-logged-in',
    state: 'waiting_input',
    rule: 'any.sign-in-required',
    auth: true,
    says: /Not logged in/,
  },
  // codex 0.171.0
  {
    screen: 'codex-error-500',
    state: 'error',
    rule: 'codex.error-banner',
    says: /^We.re currently experiencing high demand/,
  },
  { screen: 'codex-error-529', state: 'error', rule: 'codex.error-banner', says: /^unexpected status 529/ },
  {
    screen: 'codex-error-401',
    state: 'error',
    rule: 'codex.auth-error',
    auth: true,
    says: /^unexpected status 401 Unauthorized: Incorrect API key/,
  },
  { screen: 'codex-idle-after-errors', state: 'waiting_input', rule: 'codex.prompt' },
  { screen: 'codex-approval', state: 'waiting_input', rule: 'codex.approval-prompt' },
  {
    screen: 'codex-sign-in',
    state: 'waiting_input',
    rule: 'codex.login-menu',
    auth: true,
    says: /Sign in with ChatGPT/,
  },
  // gemini 0.61.0
  {
    screen: 'gemini-error-401',
    state: 'error',
    rule: 'gemini.auth-error',
    auth: true,
    says: /API key not valid/,
  },
  { screen: 'gemini-idle-after-errors', state: 'waiting_input', rule: 'gemini.title-idle' },
  {
    screen: 'gemini-trust',
    state: 'waiting_input',
    rule: 'gemini.trust-prompt',
    says: /^Do you trust the files in this folder\?$/,
  },
  // gemini restarts under the old trust dialog: the dialog in the history is not a question any more.
  { screen: 'gemini-idle-after-trust', state: 'waiting_input', rule: 'gemini.title-idle' },
  { screen: 'gemini-permission', state: 'waiting_input', rule: 'gemini.permission-prompt' },
  { screen: 'gemini-sign-in', state: 'waiting_input', rule: 'gemini.auth-menu', auth: true },
];

for (const c of cases) {
  const id = c.screen.split('-')[0]!;
  test(`real screen ${c.screen} → ${c.state} by ${c.rule}`, async () => {
    const { detector, clock, write } = clockedDetector(provider(id), 100, 30);
    try {
      await write(real(c.screen));
      clock.t += 10_000;
      const d = detector.evaluate();
      const why = `screen:\n${detector.screenText()}\nreason: ${JSON.stringify(d.reason)}`;
      assert.equal(d.state, c.state, why);
      assert.equal(d.reason.rule, c.rule, why);
      assert.equal(d.authentication_required, c.auth ?? false, why);
      if (c.says) assert.match(c.auth ? (d.auth_prompt ?? '') : d.reason.detail, c.says, why);
      if (c.auth) assert.ok(d.reason.detail.length > 0);
    } finally {
      detector.dispose();
    }
  });
}

test('an error banner holds until the user types; a new banner is an error again', async () => {
  const { detector, clock, write } = clockedDetector(provider('claude'), 100, 30);
  try {
    const first = real('claude-error-500');
    await write(first);
    clock.t += 1000;
    assert.equal(detector.evaluate().state, 'error');
    // Still the agent's last word a minute later: nothing changed.
    clock.t += 60_000;
    assert.equal(detector.evaluate().reason.rule, 'claude.api-error');
    // The user types at the prompt (no Enter): the banner has been seen, the agent waits for them.
    clock.t += 10;
    detector.noteInput('input', 'x');
    const typed = detector.evaluate();
    assert.equal(typed.state, 'waiting_input', JSON.stringify(typed.reason));
    assert.notEqual(typed.reason.rule, 'claude.api-error');
    // The same session later failed again with 529 (the recording continues the same stream).
    const second = real('claude-error-529');
    assert.ok(second.startsWith(first));
    clock.t += 10;
    await write(second.slice(first.length));
    clock.t += 1000;
    const again = detector.evaluate();
    assert.equal(again.state, 'error');
    assert.match(again.reason.detail, /^API Error: 529/);
  } finally {
    detector.dispose();
  }
});

test('gemini: a server error banner (the recorded 401 screen with a 500 body, same layout) is an error, not a sign-in', async () => {
  // gemini retries 5xx for minutes before it shows one (see the bench's errors-with-retries), so the
  // layout comes from the recorded 401 banner with the body of a 500 of the same length.
  const screen500 = real('gemini-error-401')
    .replace('"code":401', '"code":500')
    .replace('UNAUTHENTICATED', 'INTERNAL_ERROR_')
    .replace('API key not valid', 'Internal problem.');
  const { detector, clock, write } = clockedDetector(provider('gemini'), 100, 30);
  try {
    await write(screen500);
    clock.t += 10_000;
    const d = detector.evaluate();
    assert.equal(d.state, 'error', detector.screenText());
    assert.equal(d.reason.rule, 'gemini.error-banner');
    assert.equal(d.authentication_required, false);
    assert.match(d.reason.detail, /^\[API Error: \{"error":\{"code":500/);
  } finally {
    detector.dispose();
  }
});
