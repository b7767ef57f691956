import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  assertCountedOnThroughOutage,
  counts,
  hostPid,
  pidAlive,
  tempDir,
  until,
} from '../pty-host/helpers.ts';
import { type DrivenDesktop, launchDesktop } from './desktop-driver.ts';

/**
 * Issue 12 in the desktop app: the process running the Electron main code (src-main/electron/main.ts
 * under the fake electron, real core, real PTY host) is SIGKILLed while three agents count in the PTY
 * host; the next launch takes them over: the same ids and pids, live, every count printed during the
 * outage in the history once with contiguous seqs, and "reattached after AutoDev restarted" in their
 * state history. (test/pty-host/app-restart.test.ts does the same for `autodev serve`.)
 */

function setUp(userData: string): void {
  mkdirSync(path.join(userData, '.autodev'), { recursive: true });
  const providers = {
    counter: {
      name: 'Counter',
      binary: '/bin/sh',
      interactive_args: ['-c', 'i=0; while :; do i=$((i+1)); echo count-$i; sleep 0.1; done'],
      stability_ms: 3000,
      stability_state: 'running',
    },
  };
  writeFileSync(path.join(userData, '.autodev', 'providers.yaml'), JSON.stringify({ providers }));
  writeFileSync(path.join(userData, 'config.yaml'), 'keep_sessions: true\n');
}

type Entry =
  | { message_type: 'output'; seq_start: number; seq_end: number; output: string }
  | { message_type: 'state'; reason: string };

async function history(app: DrivenDesktop, id: string, type: 'output' | 'state'): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await app.invoke('autodev:sessions:history', {
      session_id: id,
      query: { message_type: type, limit: 1000, offset },
    });
    assert.equal(page.ok, true, JSON.stringify(page));
    entries.push(...page.value);
    if (page.value.length < 1000) return entries;
  }
}

async function outputOf(app: DrivenDesktop, id: string) {
  const entries = (await history(app, id, 'output')).flatMap((e) => (e.message_type === 'output' ? [e] : []));
  entries.sort((a, b) => a.seq_start - b.seq_start);
  return {
    text: entries.map((e) => e.output).join(''),
    ranges: entries.map((e) => [e.seq_start, e.seq_end] as const),
  };
}

test('kill -9 of the desktop main process (fake electron) with agents in the PTY host: the next launch takes them over, nothing lost or repeated', {
  timeout: 90_000,
}, async (t) => {
  const userData = tempDir(t, 'autodev-desk-kill-');
  setUp(userData);

  const first = launchDesktop(t, userData);
  await first.ready;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const created = await first.invoke('autodev:sessions:create', {
      request: { cli_tool: 'counter', name: `counter ${i}` },
    });
    assert.equal(created.ok, true, JSON.stringify(created));
    ids.push(created.value.session_id);
  }
  for (const id of ids)
    await until(async () => counts((await outputOf(first, id)).text).length >= 5, 20_000, 'stored counts');
  const before = new Map<string, number>();
  for (const id of ids) before.set(id, Math.max(...counts((await outputOf(first, id)).text)));
  const pids = new Map<string, number>();
  for (const id of ids)
    pids.set(id, (await first.invoke('autodev:sessions:get', { session_id: id })).value.pid);
  const host = hostPid(userData);
  assert.ok(host && pidAlive(host), 'the agents run in a PTY host process');
  assert.ok(![...pids.values()].includes(first.child.pid!));

  first.child.kill('SIGKILL');
  const gone = await first.exited;
  assert.equal(gone.signal, 'SIGKILL');
  assert.equal(gone.appExit, null, 'no quit sequence ran');
  const killedAt = Date.now();
  await new Promise((r) => setTimeout(r, 1500)); // the app is away; the agents are not
  for (const [id, pid] of pids) assert.ok(pidAlive(pid), `the agent of ${id} survived the app`);

  const second = launchDesktop(t, userData);
  await second.ready;
  assert.equal(hostPid(userData), host, 'the same PTY host');
  const listed = await second.invoke('autodev:sessions:list', { query: { limit: 50 } });
  assert.equal(listed.ok, true, JSON.stringify(listed));
  const live = new Map<string, { state: string; pid: number }>(
    listed.value.items.map((s: { session_id: string; state: string; pid: number }) => [s.session_id, s]),
  );
  for (const id of ids) {
    const s = live.get(id);
    assert.ok(s, `${id} is listed`);
    assert.ok(!['completed', 'terminated', 'error'].includes(s.state), `${id} is live (${s.state})`);
    assert.equal(s.pid, pids.get(id), `${id}: the same agent process`);
  }
  await new Promise((r) => setTimeout(r, 700));
  for (const id of ids) {
    assertCountedOnThroughOutage(id, await outputOf(second, id), before.get(id) ?? 0, killedAt);
    // The history says the app was away (the state may move on at once; the note stays).
    const reasons = (await history(second, id, 'state')).map((e) =>
      e.message_type === 'state' ? e.reason : '',
    );
    const away = reasons.find((r) => r.includes('reattached'));
    assert.ok(away, `${id}: a reattached entry in the state history: ${JSON.stringify(reasons)}`);
    assert.match(away, /reattached after AutoDev restarted \(away about \d+ s\)/);
  }
  // The tray counts the agents it took over.
  assert.match((await second.tray()).tooltip, /^AutoDev — 3 /);
});
