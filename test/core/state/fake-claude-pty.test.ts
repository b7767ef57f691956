// The claude-like fake agent in a real PTY, driven like a user, its output piped into the detector.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Detection } from '../../../src-main/core/state/types.ts';
import { runAgent } from './agent-harness.ts';
import { provider } from './screen-replay.ts';

const claude = provider('claude');

/** Detections recorded after index `from`, as "state/rule". */
const since = (detections: Detection[], from: number) =>
  detections.slice(from).map((d) => `${d.state}/${d.reason.rule}`);

test('claude: starting → waiting_input → processing → waiting_input as a user submits a prompt', async (t) => {
  const run = runAgent('fake-claude.mjs', claude);
  t.after(() => run.close());
  assert.equal(run.detections[0]!.state, 'starting');
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'claude.prompt');

  const mark = run.detections.length;
  run.command('what does main.ts do?');
  await run.waitFor('the answer', () =>
    run.detector.screenText().includes('Here is my answer to: what does main.ts do?'),
  );
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'claude.prompt');

  const after = since(run.detections, mark);
  const firstBusy = after.indexOf('processing/claude.busy');
  assert.ok(firstBusy >= 0, `busy seen: ${after.join(', ')}`);
  // Nothing claimed "waiting" between the submission and the spinner.
  assert.ok(
    after.slice(0, firstBusy).every((s) => !s.startsWith('waiting_input')),
    `no false waiting: ${after.join(', ')}`,
  );
  const seq = run.stateSequence();
  assert.deepEqual(seq.slice(0, 2), ['starting', 'waiting_input']);
  assert.equal(seq[seq.length - 1], 'waiting_input');
  assert.ok(seq.includes('processing'));
});

test('claude: trust prompt at start, answered with 1 → the input prompt', async (t) => {
  const run = runAgent('fake-claude.mjs', claude, { env: { FAKE_CLAUDE_TRUST: '1' } });
  t.after(() => run.close());
  const d = await run.waitForState('waiting_input', (x) => x.reason.rule === 'claude.trust-prompt');
  assert.equal(d.reason.source, 'screen-rule');
  assert.equal(d.authentication_required, false);
  run.type('1');
  await run.waitForState('waiting_input', (x) => x.reason.rule === 'claude.prompt');
  assert.ok(!run.detector.screenText().includes('Do you trust'));
});

test('claude: permission menu → waiting_input (claude.permission-prompt), approve → work → prompt', async (t) => {
  const run = runAgent('fake-claude.mjs', claude, { env: { FAKE_WORK_MS: '600' } });
  t.after(() => run.close());
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'claude.prompt');
  run.command('clean up with bash please');
  await run.waitForState('processing');
  const menu = await run.waitForState('waiting_input', (d) => d.reason.rule === 'claude.permission-prompt');
  assert.match(
    menu.reason.detail,
    /Do you want to proceed|Esc to cancel|Yes, allow once|No, and tell Claude/,
  );
  assert.match(run.detector.screenText(), /Do you want to proceed\?/);

  const mark = run.detections.length;
  run.type('1');
  await run.waitFor('the answer', () =>
    run.detector.screenText().includes('Here is my answer to: clean up with bash please'),
  );
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'claude.prompt');
  assert.ok(
    since(run.detections, mark).some((s) => s.startsWith('processing')),
    'worked after approval',
  );
});

test('claude: login menu → authentication_required with the menu line, OAuth URL screen → auth with the whole URL', async (t) => {
  const run = runAgent('fake-claude.mjs', claude, { env: { FAKE_CLAUDE_LOGIN: '1' } });
  t.after(() => run.close());
  const menu = await run.waitForState('waiting_input', (d) => d.authentication_required);
  assert.equal(menu.reason.rule, 'claude.login-menu');
  assert.match(menu.auth_prompt ?? '', /Select login method/);

  run.type('1');
  const url = await run.waitForState('waiting_input', (d) => d.reason.rule === 'any.oauth-url');
  assert.equal(url.authentication_required, true);
  assert.match(url.auth_prompt ?? '', /Browser didn't open/);
  // The URL is ~300 characters, soft-wrapped over several rows: it must come back in one piece.
  const found = /https:\/\/claude\.ai\/oauth\/authorize\S+/.exec(url.auth_prompt ?? '');
  assert.ok(found?.[0].endsWith('uV1wX3yZ'), `whole URL in auth_prompt:\n${url.auth_prompt}`);

  run.type('abc123');
  run.type('\r');
  const ready = await run.waitForState('waiting_input', (d) => d.reason.rule === 'claude.prompt');
  assert.equal(ready.authentication_required, false);
  assert.equal(ready.auth_prompt, null);
});

test('claude: an expired OAuth token banner while alive → error + authentication_required', async (t) => {
  const run = runAgent('fake-claude.mjs', claude, { env: { FAKE_WORK_MS: '300' } });
  t.after(() => run.close());
  await run.waitForState('waiting_input');
  run.command('token will expire');
  const d = await run.waitForState('error');
  assert.equal(d.reason.rule, 'claude.auth-error');
  assert.equal(d.authentication_required, true);
  assert.match(d.auth_prompt ?? '', /API Error: 401/);
});

test('an agent signalling only through its OSC title: busy title keeps processing while the screen is static', async (t) => {
  const run = runAgent('fake-title-agent.mjs', claude, { env: { FAKE_WORK_MS: '3000' } });
  t.after(() => run.close());
  const idle = await run.waitForState('waiting_input');
  assert.equal(idle.reason.rule, 'claude.title-idle');
  assert.equal(run.detector.title, '✳ Claude Code');

  const mark = run.detections.length;
  run.command('a long task');
  await run.waitFor('done', () => run.detector.screenText().includes('done'));
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'claude.title-idle');
  const after = since(run.detections, mark);
  const busyAt = after.indexOf('processing/claude.title-spinner');
  const waitAt = after.findIndex((s) => s.startsWith('waiting_input'));
  assert.ok(busyAt >= 0, after.join(', '));
  assert.ok(
    waitAt > busyAt,
    `no waiting before the title went idle (3 s of static screen): ${after.join(', ')}`,
  );
  assert.ok(after.slice(0, waitAt).every((s) => !s.startsWith('waiting_input')));
});
