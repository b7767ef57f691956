import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createPassiveDetector, killRecordedTree } from '../../../src-main/core/sessions/index.ts';
import { bootId, killTree, readStat } from '../../../src-main/core/sessions/process-tree.ts';
import type { SpawnRecord } from '../../../src-main/core/sessions/types.ts';
import {
  collect,
  isAlive,
  nodeProvider,
  ownZombies,
  provider,
  ptyFds,
  testManager,
  waitFor,
} from './helpers.ts';

type TreePids = Record<string, number>;

async function startTree(manager: ReturnType<typeof testManager>['manager'], tool: string) {
  let id: string | undefined;
  const out = collect(manager, () => id);
  const spawns: SpawnRecord[] = [];
  manager.onDidSpawn((s) => spawns.push(s));
  id = (await manager.create({ cli_tool: tool })).session_id;
  const line = await waitFor('tree pids', () => /TREE (\{.*\})/.exec(out.text()));
  const pids = JSON.parse(line[1] as string) as TreePids;
  return { id, pids, out, spawn: spawns[0] as SpawnRecord };
}

/** Kill test leftovers even when an assertion failed (never by name: by the pids we started). */
function killAll(pids: number[]) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

test('terminate kills the whole tree: grandchild, own-group grandchild, setsid SIGTERM-ignorer, nohup child, double-forked daemon', async (t) => {
  const { manager, logs } = testManager([nodeProvider('tree', 'proc-tree.mjs')], {
    limits: { terminate_grace_ms: 1000 },
    detectorFactory: createPassiveDetector,
  });
  t.after(() => manager.shutdown());
  const { id, pids, spawn: rec } = await startTree(manager, 'tree');
  const all = [rec.pid, ...Object.values(pids)];
  t.after(() => killAll(all));
  for (const [name, pid] of Object.entries(pids)) assert.ok(isAlive(pid), `${name} (${pid}) alive before`);
  assert.equal(rec.boot_id, bootId());
  assert.equal(rec.start_ticks, readStat(rec.pid)?.start_ticks);
  assert.equal(rec.pgid, rec.pid, 'node-pty makes the agent a session and group leader');

  const started = Date.now();
  const goneAt = new Map<string, number>();
  const watch = setInterval(() => {
    for (const [name, pid] of Object.entries(pids))
      if (!goneAt.has(name) && !isAlive(pid)) goneAt.set(name, Date.now() - started);
  }, 5);
  await manager.terminate(id, 'test over');
  clearInterval(watch);
  const took = Date.now() - started;
  for (const [name, pid] of Object.entries(pids)) assert.equal(isAlive(pid), false, `${name} (${pid}) gone`);
  // Field notes §7.23: every process gone within grace + 1 s of the terminate.
  for (const [name, ms] of goneAt) assert.ok(ms <= 1000 + 1000, `${name} gone after ${ms} ms`);
  assert.equal(isAlive(rec.pid), false);
  const s = manager.get(id);
  assert.equal(s?.state, 'terminated');
  assert.equal(s?.state_reason.source, 'user');
  assert.equal(s?.state_reason.detail, 'test over');
  // The setsid child ignores SIGTERM: only the escalation can have ended it, and it is logged.
  const escalation = logs.find((l) => l.msg === 'process-tree.sigkill');
  assert.ok(escalation, 'SIGKILL escalation logged');
  assert.ok((escalation.pids as number[]).includes(pids.setsid_sigterm_ignorer as number));
  assert.ok(took < 1000 + 5000, `terminate took ${took} ms`);
  assert.deepEqual(ownZombies(), []);
});

test('an agent that exits by itself leaves no orphans behind (crash sweep)', async (t) => {
  const { manager } = testManager([nodeProvider('tree-crash', 'proc-tree.mjs', ['4'])], {
    limits: { terminate_grace_ms: 500 },
    detectorFactory: createPassiveDetector,
  });
  t.after(() => manager.shutdown());
  const { id, pids, spawn: rec } = await startTree(manager, 'tree-crash');
  t.after(() => killAll([rec.pid, ...Object.values(pids)]));
  await waitFor('exit', () => manager.get(id)?.state === 'error');
  assert.equal(manager.get(id)?.exit_code, 4);
  await waitFor('leftovers swept', () => Object.values(pids).every((pid) => !isAlive(pid)), 15_000);
});

test('shutdown terminates every session and its tree', async (t) => {
  const { manager } = testManager([nodeProvider('tree', 'proc-tree.mjs')], {
    limits: { terminate_grace_ms: 500 },
    detectorFactory: createPassiveDetector,
  });
  const a = await startTree(manager, 'tree');
  const b = await startTree(manager, 'tree');
  const all = [a.spawn.pid, b.spawn.pid, ...Object.values(a.pids), ...Object.values(b.pids)];
  t.after(() => killAll(all));
  await manager.shutdown();
  for (const pid of all) assert.equal(isAlive(pid), false, `${pid} gone`);
  assert.equal(manager.get(a.id)?.state, 'terminated');
  await assert.rejects(manager.create({ cli_tool: 'tree' }), { error_code: 'PROCESS_POOL' });
});

test('killRecordedTree kills leftovers of a recorded spawn and spares a recycled pid', async (t) => {
  // A "previous run" left a detached tree (new session) marked with its session id.
  const child = spawn('/bin/sh', ['-c', 'sleep 1000 & sleep 1001 & wait'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, AUTODEV_SESSION_ID: 'crashed-session-1' },
  });
  const pid = child.pid as number;
  child.unref();
  t.after(() => killAll([pid]));
  const stat = await waitFor('stat', () => readStat(pid));
  await waitFor('children', () => childrenOf(pid).length === 2);
  const kids = childrenOf(pid);
  t.after(() => killAll(kids));

  const wrongStart = await killRecordedTree({
    session_id: 'someone-else',
    pid,
    pgid: pid,
    start_ticks: stat.start_ticks - 1,
    boot_id: bootId(),
  });
  assert.equal(wrongStart.signalled, 0, 'start time mismatch: recycled pid, spared');
  const otherBoot = await killRecordedTree({
    session_id: 'crashed-session-1',
    pid,
    pgid: pid,
    start_ticks: stat.start_ticks,
    boot_id: 'another-boot',
  });
  assert.equal(otherBoot.signalled, 0, 'another boot: nothing of ours can be alive');
  assert.ok(isAlive(pid));

  const result = await killRecordedTree(
    { session_id: 'crashed-session-1', pid, pgid: pid, start_ticks: stat.start_ticks, boot_id: bootId() },
    { graceMs: 1000 },
  );
  assert.equal(result.signalled, 3);
  await waitFor('all gone', () => [pid, ...kids].every((p) => !isAlive(p)), 10_000);
});

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.push(Number(name));
    } catch {}
  }
  return out;
}

test('50 sessions leave no PTY fds, zombies or processes behind; children hold only fds 0–2', async (t) => {
  const { manager } = testManager(
    [provider('sleep', '/bin/sleep', ['30']), provider('echo', '/bin/echo', ['hi'])],
    {
      limits: { terminate_grace_ms: 500, max_sessions: 60 },
      detectorFactory: createPassiveDetector,
    },
  );
  t.after(() => manager.shutdown());
  const before = ptyFds();

  const probe = await manager.create({ cli_tool: 'sleep' });
  // Read once the spawn helper has exec'ed the agent (before that /proc shows the helper's view).
  await waitFor('exec', () => readStat(probe.pid as number)?.comm === 'sleep');
  const fds = readdirSync(`/proc/${probe.pid}/fd`)
    .map(Number)
    .sort((a, b) => a - b);
  assert.deepEqual(fds.slice(0, 3), [0, 1, 2]);
  for (const fd of fds.slice(3)) {
    // Anything beyond 0–2 may only be an fd this test process itself inherited without close-on-exec
    // (e.g. a pipe of the harness that started it), never one node, node-pty or the manager opened.
    const flags = Number.parseInt(
      /flags:\s*([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '2000000',
      8,
    );
    assert.equal(flags & 0o2000000, 0, `agent fd ${fd} is a close-on-exec fd of ours that leaked`);
  }
  await manager.terminate(probe.session_id);
  manager.remove(probe.session_id);

  const pids: number[] = [];
  for (let batch = 0; batch < 5; batch++) {
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) => manager.create({ cli_tool: i % 2 ? 'sleep' : 'echo' })),
    );
    for (const s of created) if (s.pid) pids.push(s.pid);
    await Promise.all(
      created.map(async (s) => {
        if (manager.get(s.session_id)?.cli_tool === 'sleep') await manager.terminate(s.session_id);
        else await waitFor('echo exit', () => manager.get(s.session_id)?.state === 'completed');
      }),
    );
    for (const s of created) manager.remove(s.session_id);
  }
  assert.equal(pids.length, 50);
  t.after(() => killAll(pids));
  await waitFor(
    'fds back at baseline',
    () => {
      const now = ptyFds();
      return now.ptmx === before.ptmx && now.pts === before.pts;
    },
    20_000,
  );
  for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} gone`);
  // A child that just exited may wait a moment for node-pty's reaper on a loaded machine; a leaked
  // zombie stays forever.
  await waitFor('no zombies of ours', () => ownZombies().length === 0, 10_000).catch(() => {});
  assert.deepEqual(ownZombies(), []);
  assert.equal(manager.list().length, 0);
});

test('an interactive shell (which ignores SIGTERM) is hung up like a closed terminal, without SIGKILL', async (t) => {
  const { manager, logs } = testManager([provider('bash', '/bin/bash', ['--norc', '--noprofile', '-i'])], {
    limits: { terminate_grace_ms: 10_000 },
  });
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'bash' })).session_id;
  manager.command(id, 'sleep 300 & echo job-started');
  await waitFor('background job', () => out.text().includes('job-started'));
  await manager.terminate(id);
  assert.equal(manager.get(id)?.state, 'terminated');
  assert.equal(
    logs.find((l) => l.msg === 'process-tree.sigkill'),
    undefined,
    'bash and its job ended on the hangup, before the 10 s grace ran out',
  );
});

test('killTree never signals a recycled PID (start time differs) nor its own process group', async (t) => {
  // A bystander holding a PID the tree "knew" with another start time.
  const bystander = spawn('/bin/sleep', ['1000'], { detached: true, stdio: 'ignore' });
  t.after(() => killAll([bystander.pid as number]));
  const real = await waitFor('bystander stat', () => readStat(bystander.pid as number));
  const recycled = { ...real, start_ticks: real.start_ticks - 1 };
  const spared = await killTree([recycled], { graceMs: 100, relist: () => [recycled] });
  assert.deepEqual(spared.escalated, []);
  assert.ok(isAlive(real.pid), 'a recycled pid is never signalled');

  // A member in this process's own group (spawned without a new session): signalled by pid only.
  const sibling = spawn('/bin/sh', ['-c', 'trap "" TERM HUP; exec sleep 1000'], { stdio: 'ignore' });
  t.after(() => killAll([sibling.pid as number]));
  const stat = await waitFor('sibling exec', () => {
    const s = readStat(sibling.pid as number);
    return s?.comm === 'sleep' ? s : null;
  });
  assert.equal(stat.pgid, readStat(process.pid)?.pgid, 'shares our group');
  const logged: Record<string, unknown>[] = [];
  const result = await killTree([stat], {
    graceMs: 200,
    relist: () => [],
    log: (event, fields) => logged.push({ event, ...fields }),
  });
  assert.deepEqual(result.escalated, [stat.pid]);
  assert.deepEqual(result.survivors, []);
  assert.equal(logged[0]?.event, 'process-tree.sigkill');
  assert.equal(logged[0]?.method, 'sigkill');
  // Still here: had the group been signalled, SIGTERM would have ended this test process.
});
