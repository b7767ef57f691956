import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { TestClient } from '../server/harness.ts';
import { fixture, startServe, tempDir, until } from './helpers.ts';

/**
 * Signals across an app restart (sessions outlive the app): an agent keeps the hook wiring it got at
 * spawn (its relay's credential is an HMAC under the data dir's secret, its manifest path the data
 * dir's). After `autodev serve --keep-sessions` is SIGKILLed and started again, the agent's next hooks
 * reach the NEW endpoint (new port, new token) and still decide its state; its conversation id stays.
 */
test("after kill -9 and a new start, the same agent's hooks reach the new AutoDev and decide its state", async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, '.autodev'), { recursive: true });
  // The bundled claude provider (its rules and hook wiring) running the fixture agent.
  writeFileSync(
    path.join(dir, '.autodev', 'providers.yaml'),
    JSON.stringify({
      providers: { claude: { binary: process.execPath, interactive_args: [fixture('fake-claude.mjs')] } },
    }),
  );
  const first = await startServe(t, dir, ['--keep-sessions']);
  const created = await first.api('POST', '/cli/sessions', {
    cli_tool: 'claude',
    env: { FAKE_WORK_MS: '700' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.session.session_id as string;
  const ready = await until(
    async () => {
      const s = (await first.api('GET', `/cli/sessions/${id}`)).body;
      return s.conversation_id && s.state === 'waiting_input' ? s : null;
    },
    20_000,
    'SessionStart (conversation id)',
  );
  const manifestBefore = JSON.parse(readFileSync(path.join(dir, 'signals', 'endpoint.json'), 'utf8'));

  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startServe(t, dir, ['--keep-sessions']);
  const manifestAfter = JSON.parse(readFileSync(path.join(dir, 'signals', 'endpoint.json'), 'utf8'));
  assert.notEqual(manifestAfter.url, manifestBefore.url, 'a new endpoint');
  assert.notEqual(manifestAfter.token, manifestBefore.token, 'with a new token');

  const viewer = new TestClient(`${second.url.replace(/^http/, 'ws')}/cli/session/${id}/ws`, {
    origin: second.url,
  });
  await viewer.opened;
  viewer.auth(second.token());
  await viewer.waitForType('snapshot');
  const sent = Date.now();
  viewer.send({ type: 'command', data: { command: 'explain after the restart' } });
  const after = await until(
    async () => {
      const s = (await second.api('GET', `/cli/sessions/${id}`)).body;
      return s.state_reason.rule === 'claude.hook.stop' && Date.parse(s.state_reason.at) >= sent ? s : null;
    },
    20_000,
    'the Stop hook, through the new endpoint',
  );
  viewer.close();
  assert.equal(after.state, 'waiting_input');
  assert.equal(after.state_reason.source, 'hook');
  assert.equal(after.conversation_id, ready.conversation_id, 'the conversation id survived the restart');
});
