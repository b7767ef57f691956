// The agents added as data (providers/defaults-more.ts), judged on screens the real CLIs drew here
// (test/fixtures/screens/<id>-*.ans: copilot 1.0.102 with BYOK on the mock model service; Amp's and
// Qwen Code's sign-in screens with no credentials), replayed into the state detector.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { Detection } from '../../../src-main/core/state/types.ts';
import { clockedDetector, provider, screen } from '../state/screen-replay.ts';

const cases: { screen: string; provider: string; state: Detection['state']; rule: string; auth?: string }[] =
  [
    { screen: 'copilot-trust', provider: 'copilot', state: 'waiting_input', rule: 'copilot.trust-prompt' },
    { screen: 'copilot-idle', provider: 'copilot', state: 'waiting_input', rule: 'copilot.prompt' },
    { screen: 'copilot-busy', provider: 'copilot', state: 'processing', rule: 'copilot.busy' },
    { screen: 'copilot-answered', provider: 'copilot', state: 'waiting_input', rule: 'copilot.prompt' },
    {
      screen: 'copilot-permission',
      provider: 'copilot',
      state: 'waiting_input',
      rule: 'copilot.permission-prompt',
    },
    {
      screen: 'amp-login-question',
      provider: 'amp',
      state: 'waiting_input',
      rule: 'amp.login-question',
      auth: 'log in to Amp',
    },
    {
      screen: 'amp-login',
      provider: 'amp',
      state: 'waiting_input',
      rule: 'any.oauth-url',
      auth: 'https://ampcode\\.com/auth/cli-login\\?authToken=0{64}',
    },
    {
      screen: 'qwen-connect-provider',
      provider: 'qwen',
      state: 'waiting_input',
      rule: 'qwen.auth-menu',
      auth: 'Connect a Provider',
    },
  ];

for (const c of cases) {
  test(`${c.provider}: real screen ${c.screen} → ${c.state} (${c.rule})`, async (t) => {
    const { detector, clock, write } = clockedDetector(provider(c.provider), 110, 32);
    t.after(() => detector.dispose());
    await write(screen(c.screen));
    clock.t += 10_000; // long after every settle time and stability window
    const d = detector.evaluate();
    assert.equal(d.state, c.state, JSON.stringify(d.reason));
    assert.equal(d.reason.rule, c.rule);
    assert.equal(d.authentication_required, c.auth !== undefined);
    if (c.auth) assert.match(d.auth_prompt ?? '', new RegExp(c.auth, 'i'));
  });
}

test('copilot while working does not read as waiting: the idle status line is gone, the busy one decides', async (t) => {
  const { detector, clock, write } = clockedDetector(provider('copilot'), 110, 32);
  t.after(() => detector.dispose());
  await write(screen('copilot-busy'));
  for (const step of [100, 600, 2500, 10_000]) {
    clock.t += step;
    assert.equal(detector.evaluate().state, 'processing', `after ${step} ms more`);
  }
});

test('every added agent is data only: binary, flags, env keys, rules with ids, and where the rules come from', () => {
  const added = ['copilot', 'qwen', 'opencode', 'amp', 'aider'];
  const defs = defaultProviders({});
  for (const id of added) {
    const def = defs.find((p) => p.id === id);
    assert.ok(def, id);
    assert.ok(def.binary.length > 0 && def.screen_rules.length > 0, id);
    const own = def.screen_rules.filter((r) => r.id.startsWith(`${id}.`));
    assert.ok(own.length >= 2, `${id} has its own rules`);
    for (const r of def.screen_rules) new RegExp(r.pattern, 'imu');
  }
});
