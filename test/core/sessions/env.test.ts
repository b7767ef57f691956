import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildAgentEnv, createPassiveDetector } from '../../../src-main/core/sessions/index.ts';
import { provider, testManager, waitFor } from './helpers.ts';

function environOf(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

test("an agent's environment holds the basics, its own key and the session's env — no other secret", async (t) => {
  const appEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: '/home/tester',
    LANG: 'en_US.UTF-8',
    LC_ALL: 'en_US.UTF-8',
    USER: 'tester',
    SHELL: '/bin/bash',
    ANTHROPIC_API_KEY: 'sk-ant-own-key-0123456789abcdef',
    OPENAI_API_KEY: 'sk-canary-openai-0123456789abcdef',
    GITHUB_TOKEN: 'ghp_canary0123456789abcdefghijklmnop',
    AUTODEV_JWT_SECRET: 'canary-signing-key',
    AWS_SECRET_ACCESS_KEY: 'canary-aws',
    NODE_OPTIONS: '--inspect',
  };
  const { manager } = testManager(
    [provider('claude', '/bin/sleep', ['30'], { env_keys: ['ANTHROPIC_API_KEY'] })],
    {
      env: appEnv,
      detectorFactory: createPassiveDetector,
      loginPath: async () => '/opt/login/bin:/usr/bin:/bin',
    },
  );
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'claude', env: { PROJECT_FLAG: 'on' } });
  const pid = info.pid as number;
  const env = await waitFor('exec', () => {
    const e = environOf(pid);
    return e.has('AUTODEV_SESSION_ID') ? e : null;
  });
  assert.equal(env.get('ANTHROPIC_API_KEY'), 'sk-ant-own-key-0123456789abcdef');
  for (const canary of [
    'OPENAI_API_KEY',
    'GITHUB_TOKEN',
    'AUTODEV_JWT_SECRET',
    'AWS_SECRET_ACCESS_KEY',
    'NODE_OPTIONS',
  ])
    assert.equal(env.has(canary), false, `${canary} leaked`);
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  assert.equal(raw.includes('canary'), false);
  assert.equal(env.get('AUTODEV_SESSION_ID'), info.session_id);
  assert.equal(env.get('TERM'), 'xterm-256color');
  assert.equal(env.get('PATH'), '/opt/login/bin:/usr/bin:/bin');
  assert.equal(env.get('HOME'), '/home/tester');
  assert.equal(env.get('LC_ALL'), 'en_US.UTF-8');
  assert.equal(env.get('PROJECT_FLAG'), 'on');
  // Nothing beyond the allowlist reached it.
  const allowed = new Set([
    ...['PATH', 'HOME', 'LANG', 'LC_ALL', 'USER', 'SHELL', 'TERM', 'COLORTERM', 'AUTODEV_SESSION_ID', 'PWD'],
    ...['ANTHROPIC_API_KEY', 'PROJECT_FLAG'],
  ]);
  for (const key of env.keys()) assert.ok(allowed.has(key), `unexpected ${key}`);
});

test('buildAgentEnv: overrides win, but never over TERM or the session marker', () => {
  const env = buildAgentEnv({
    sessionId: 's1',
    providerEnvKeys: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    overrides: { TERM: 'dumb', AUTODEV_SESSION_ID: 'spoof', EXTRA: '1' },
    source: { GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o', PATH: '/bin' },
  });
  assert.equal(env.TERM, 'xterm-256color');
  assert.equal(env.AUTODEV_SESSION_ID, 's1');
  assert.equal(env.GEMINI_API_KEY, 'g');
  assert.equal(env.GOOGLE_API_KEY, undefined);
  assert.equal(env.OPENAI_API_KEY, undefined);
  assert.equal(env.EXTRA, '1');
  assert.equal(env.PATH, '/bin');
});
