import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { TestClient } from '../server/harness.ts';
import {
  assertCountedOnThroughOutage,
  counts,
  fixture,
  hostPid,
  pidAlive,
  type Serve,
  startServe,
  tempDir,
  until,
} from './helpers.ts';

/**
 * Issue 12: sessions outlive the app. A real `autodev serve --keep-sessions` is SIGKILLed while five
 * sessions run (four counters printing every 100 ms, one agent waiting at its prompt); the next
 * `autodev serve` takes them over: the same ids, live, the counters went on while it was away, the
 * history has every count once with contiguous seqs, and a viewer sees the current screen.
 */

function writeProviders(dataDir: string): void {
  mkdirSync(path.join(dataDir, '.autodev'), { recursive: true });
  const providers = {
    counter: {
      name: 'Counter',
      binary: '/bin/sh',
      interactive_args: ['-c', 'i=0; while :; do i=$((i+1)); echo count-$i; sleep 0.1; done'],
      stability_ms: 3000,
      stability_state: 'running',
    },
    prompt: {
      name: 'Prompt agent',
      binary: process.execPath,
      interactive_args: [fixture('proc-prompt.mjs')],
      stability_ms: 300,
      screen_rules: [
        {
          id: 'test.prompt',
          pattern: '^>\\s*$',
          region: { kind: 'last-lines', count: 1 },
          state: 'waiting_input',
        },
      ],
    },
  };
  writeFileSync(path.join(dataDir, '.autodev', 'providers.yaml'), JSON.stringify({ providers }));
}

async function outputOf(serve: Serve, id: string): Promise<{ text: string; ranges: [number, number][] }> {
  const entries: { seq_start: number; seq_end: number; output: string }[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await serve.api(
      'GET',
      `/cli/sessions/${id}/history?message_type=output&limit=1000&offset=${offset}`,
    );
    assert.equal(page.status, 200);
    entries.push(...(page.body as typeof entries));
    if ((page.body as unknown[]).length < 1000) break;
  }
  entries.sort((a, b) => a.seq_start - b.seq_start);
  return {
    text: entries.map((e) => e.output).join(''),
    ranges: entries.map((e) => [e.seq_start, e.seq_end]),
  };
}

test('kill -9 of autodev serve --keep-sessions: the next start takes every session over, nothing lost or repeated', async (t) => {
  const dir = tempDir(t);
  writeProviders(dir);
  const first = await startServe(t, dir, ['--keep-sessions']);
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await first.api('POST', '/cli/sessions', { cli_tool: 'counter', name: `counter ${i}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids.push(res.body.session.session_id);
  }
  const agent = await first.api('POST', '/cli/sessions', { cli_tool: 'prompt' });
  const agentId = agent.body.session.session_id as string;
  await until(
    async () => (await first.api('GET', `/cli/sessions/${agentId}`)).body.state === 'waiting_input',
    20_000,
    'the agent at its prompt',
  );
  for (const id of ids)
    await until(async () => counts((await outputOf(first, id)).text).length >= 5, 20_000, 'counting');
  const before = new Map<string, number>();
  for (const id of ids) before.set(id, Math.max(...counts((await outputOf(first, id)).text)));
  const pids = new Map<string, number>();
  for (const id of [...ids, agentId]) pids.set(id, (await first.api('GET', `/cli/sessions/${id}`)).body.pid);
  const host = hostPid(dir);
  assert.ok(host && pidAlive(host));

  first.child.kill('SIGKILL');
  await first.exited;
  const killedAt = Date.now();
  await new Promise((r) => setTimeout(r, 1500)); // the app is away; the agents are not
  for (const [id, pid] of pids) assert.ok(pidAlive(pid), `agent of ${id} survived the app`);

  const second = await startServe(t, dir, ['--keep-sessions']);
  assert.equal(hostPid(dir), host, 'the same PTY host');
  const listed = (await second.api('GET', '/cli/sessions?limit=50')).body;
  const live = new Map<string, { state: string; pid: number }>(
    (listed.sessions ?? listed.items).map((s: { session_id: string; state: string; pid: number }) => [
      s.session_id,
      s,
    ]),
  );
  for (const id of [...ids, agentId]) {
    const s = live.get(id);
    assert.ok(s, `${id} is listed`);
    assert.ok(!['completed', 'terminated', 'error'].includes(s.state), `${id} is live (${s.state})`);
    assert.equal(s.pid, pids.get(id));
  }
  await new Promise((r) => setTimeout(r, 700));
  for (const id of ids) {
    assertCountedOnThroughOutage(id, await outputOf(second, id), before.get(id) ?? 0, killedAt);
  }
  // The history says the app was away (the state may move on at once; the note stays).
  const states = await second.api('GET', `/cli/sessions/${ids[0]}/history?message_type=state&limit=100`);
  const away = (states.body as { reason: string }[])
    .map((e) => String(e.reason))
    .find((r) => r.includes('reattached'));
  assert.ok(away, `a reattached entry in the state history: ${JSON.stringify(states.body)}`);
  assert.match(away, /reattached after AutoDev restarted \(away about \d+ s\)/);

  // A viewer gets the current screen, and the agent still takes prompts.
  const viewer = new TestClient(`${second.url.replace(/^http/, 'ws')}/cli/session/${agentId}/ws`, {
    origin: second.url,
  });
  await viewer.opened;
  viewer.auth(second.token());
  const snapshot = await viewer.waitForType('snapshot');
  assert.match(snapshot.data.screen, /proc-prompt ready/);
  viewer.send({ type: 'command', data: { command: 'after restart' } });
  await viewer.waitFor(() => viewer.output().text.includes('done: after restart'), 20_000, 'the turn');
  viewer.close();

  const counter = new TestClient(`${second.url.replace(/^http/, 'ws')}/cli/session/${ids[1]}/ws`, {
    origin: second.url,
  });
  await counter.opened;
  counter.auth(second.token());
  const screen = await counter.waitForType('snapshot');
  const onScreen = counts(screen.data.screen);
  assert.ok(
    Math.max(...onScreen) > (before.get(ids[1]!) ?? 0),
    'the screen shows counts from after the restart',
  );
  counter.close();
});
