// codex-, gemini- and cursor-like fake agents and generic auth/error screens in real PTYs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newProviderTemplate } from '../../../src-main/core/providers/defaults.ts';
import { runAgent } from './agent-harness.ts';
import { provider } from './screen-replay.ts';

test('codex: login menu → auth; API key → prompt; approval prompt → waiting_input; approve → prompt', async (t) => {
  const run = runAgent('fake-codex.mjs', provider('codex'), {
    env: { FAKE_CODEX_LOGIN: '1', FAKE_WORK_MS: '600' },
  });
  t.after(() => run.close());
  const login = await run.waitForState('waiting_input', (d) => d.authentication_required);
  assert.equal(login.reason.rule, 'codex.login-menu');
  assert.match(login.auth_prompt ?? '', /Sign in with ChatGPT|Provide your own API key/);

  run.type('2');
  await run.waitFor('API key prompt', () => run.detector.screenText().includes('Paste your API key'));
  assert.equal(run.detector.evaluate().authentication_required, true);
  run.type('sk-test-not-a-real-key');
  run.type('\r');
  const ready = await run.waitForState('waiting_input', (d) => d.reason.rule === 'codex.prompt');
  assert.equal(ready.authentication_required, false);

  run.command('run the listing');
  await run.waitForState('processing', (d) => d.reason.rule === 'codex.busy');
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'codex.approval-prompt');
  run.type('1');
  await run.waitFor('the answer', () => run.detector.screenText().includes('Answer for: run the listing'));
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'codex.prompt');
});

test('codex: "Sign in with ChatGPT" → browser screen with the link → auth with the URL', async (t) => {
  const run = runAgent('fake-codex.mjs', provider('codex'), { env: { FAKE_CODEX_LOGIN: '1' } });
  t.after(() => run.close());
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'codex.login-menu');
  run.type('\r');
  const d = await run.waitForState('waiting_input', (x) => x.reason.rule === 'any.oauth-url');
  assert.equal(d.authentication_required, true);
  assert.match(d.auth_prompt ?? '', /https:\/\/auth\.openai\.com\/oauth\/authorize\S+uV1wX3yZ/);
});

test('gemini: auth dialog → auth; API key → prompt; shell permission → waiting_input; allow once → prompt', async (t) => {
  const run = runAgent('fake-gemini.mjs', provider('gemini'), {
    env: { FAKE_GEMINI_AUTH: '1', FAKE_WORK_MS: '600' },
  });
  t.after(() => run.close());
  const auth = await run.waitForState('waiting_input', (d) => d.authentication_required);
  assert.equal(auth.reason.rule, 'gemini.auth-menu');
  assert.match(auth.auth_prompt ?? '', /How would you like to authenticate for this project\?/);

  run.type('2');
  await run.waitFor('API key box', () => run.detector.screenText().includes('Enter Gemini API Key'));
  assert.equal(run.detector.evaluate().authentication_required, true);
  run.type('AIza-not-a-real-key');
  run.type('\r');
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'gemini.prompt');

  run.command('list files with the shell');
  await run.waitForState('processing', (d) => d.reason.rule === 'gemini.busy');
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'gemini.permission-prompt');
  run.type('1');
  await run.waitFor('the answer', () =>
    run.detector.screenText().includes('Answer for: list files with the shell'),
  );
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'gemini.prompt');
});

test('gemini with OSC titles: ◇ idle / ✦ busy / ✋ permission', async (t) => {
  const run = runAgent('fake-gemini.mjs', provider('gemini'), {
    env: { FAKE_GEMINI_TITLE: '1', FAKE_WORK_MS: '600' },
  });
  t.after(() => run.close());
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'gemini.title-idle');
  run.command('use the shell');
  await run.waitForState(
    'processing',
    (d) => d.reason.source === 'osc-title' || d.reason.rule === 'gemini.busy',
  );
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'gemini.permission-prompt');
  run.type('1');
  await run.waitFor('the answer', () => run.detector.screenText().includes('Answer for: use the shell'));
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'gemini.title-idle');
});

test('cursor: prompt → generating (screen changing) → prompt', async (t) => {
  const run = runAgent('fake-cursor.mjs', provider('cursor'), { env: { FAKE_WORK_MS: '1500' } });
  t.after(() => run.close());
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'cursor.prompt');
  const mark = run.detections.length;
  run.command('write tests');
  await run.waitFor('the answer', () => run.detector.screenText().includes('Answer for: write tests'));
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'cursor.prompt');
  const after = run.detections.slice(mark).map((d) => d.state);
  assert.ok(after.includes('processing'), after.join(', '));
  assert.ok(after.indexOf('processing') < after.lastIndexOf('waiting_input'));
});

test('any CLI: an OAuth URL next to "browser didn\'t open" → authentication_required with the URL', async (t) => {
  const run = runAgent('fake-auth-screen.mjs', newProviderTemplate('mycli'), { args: ['oauth-url'] });
  t.after(() => run.close());
  const d = await run.waitForState('waiting_input', (x) => x.authentication_required);
  assert.equal(d.reason.rule, 'any.oauth-url');
  assert.match(d.auth_prompt ?? '', /^Browser didn't open\? Use the url below to sign in:/);
  assert.match(d.auth_prompt ?? '', /https:\/\/claude\.ai\/oauth\/authorize\S+uV1wX3yZ$/);
});

test('any CLI: a network error banner while alive → error; claude 401 screen → error + auth', async (t) => {
  const net = runAgent('fake-auth-screen.mjs', newProviderTemplate('mycli'), { args: ['network-error'] });
  const auth = runAgent('fake-auth-screen.mjs', provider('claude'), { args: ['claude-401'] });
  t.after(() => Promise.all([net.close(), auth.close()]));
  const e = await net.waitForState('error');
  assert.equal(e.reason.rule, 'any.network-error');
  assert.equal(e.authentication_required, false);
  const a = await auth.waitForState('error');
  assert.equal(a.reason.rule, 'claude.auth-error');
  assert.equal(a.authentication_required, true);
  assert.match(a.auth_prompt ?? '', /Invalid authentication credentials/);
});

test('any CLI: "Please sign in" → auth; after signing in the auth flag clears', async (t) => {
  const run = runAgent('fake-auth-screen.mjs', newProviderTemplate('mycli'), { args: ['sign-in'] });
  t.after(() => run.close());
  const d = await run.waitForState('waiting_input', (x) => x.authentication_required);
  assert.equal(d.reason.rule, 'any.sign-in-required');
  run.type('y');
  await run.waitFor('signed in', () => run.detector.screenText().includes('Signed in.'));
  const after = await run.waitForState('waiting_input', (x) => !x.authentication_required);
  assert.equal(after.auth_prompt, null);
  run.type('q');
  assert.equal(await run.exitCode, 0);
});
