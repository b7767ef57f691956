import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readStat } from '../../../src-main/core/sessions/process-tree.ts';
import {
  createSessionContainment,
  type SessionContainment,
} from '../../../src-main/core/sessions/session-containment.ts';
import { collect, isAlive, ownZombies, provider, ptyFds, testManager, waitFor } from './helpers.ts';

/**
 * Issue 10 item 8, field notes §3 and §7.23–26, with real processes in real PTY sessions: an
 * interactive bash (temporary HOME) in which a person starts every kind of escaper, then terminate.
 * Each escaper is a `sleep` with a unique duration (the token), so it is found by its argv whatever
 * session, group, parent or environment it ended up with.
 */

const GRACE_MS = 1000;

function token(): string {
  return String(100_000 + Math.floor(Math.random() * 900_000));
}

/** PIDs whose argv is exactly `argv` (never by a name pattern: only what this test started). */
function pidsByArgv(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1') === want) out.push(Number(name));
    } catch {}
  }
  return out;
}

function readlinkSafe(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return '';
  }
}

function killPids(pids: number[]) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

function tempHome(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-home-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Each escape kind of §7.23, typed into the shell; the sleep durations are `<n>.<token>`. */
const ESCAPERS = {
  // A grandchild in its own process group (setpgid in the child; its parent stays and waits).
  own_group_grandchild: (t: string) =>
    `perl -e 'if (!fork) { setpgrp(0, 0); exec "sleep", "1001.${t}" } wait' &`,
  // The repro: a new session and a wiped environment.
  setsid_env_i: (t: string) => `setsid -f env -i sleep 1000.${t}`,
  // A nohup child (ignores SIGHUP), in the shell's session.
  nohup_child: (t: string) => `nohup sleep 1003.${t} >/dev/null 2>&1 &`,
  // A SIGTERM (and SIGHUP) ignorer in a new session with a wiped environment: only SIGKILL ends it.
  sigterm_ignorer: (t: string) => `setsid -f env -i sh -c 'trap "" TERM HUP; exec sleep 1004.${t}'`,
  // A classic daemon: new session, wiped environment, fds 0–2 closed, double fork (its parent exits,
  // it is re-parented to init). No /proc lookup can tie it to the session.
  closed_fd_daemon: (t: string) => `setsid -f env -i sh -c 'exec <&- >&- 2>&-; sleep 1002.${t} & exit 0'`,
} as const;
const DURATION: Record<keyof typeof ESCAPERS, string> = {
  own_group_grandchild: '1001',
  setsid_env_i: '1000',
  nohup_child: '1003',
  sigterm_ignorer: '1004',
  closed_fd_daemon: '1002',
};
type Escaper = keyof typeof ESCAPERS;

async function shellWithEscapers(t: { after(fn: () => void): void }, containment: SessionContainment) {
  const { manager, logs } = testManager([provider('bash', '/bin/bash', ['--norc', '--noprofile', '-i'])], {
    limits: { terminate_grace_ms: GRACE_MS },
    env: { ...process.env, HOME: tempHome(t) },
    containment,
    sampleIntervalMs: 200,
  });
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  const created = await manager.create({ cli_tool: 'bash' });
  id = created.session_id;
  const tok = token();
  const pids: Record<string, number> = {};
  t.after(() => killPids(Object.values(pids)));
  for (const [name, line] of Object.entries(ESCAPERS) as [Escaper, (t: string) => string][]) {
    manager.command(id, line(tok));
    const argv = ['sleep', `${DURATION[name]}.${tok}`];
    const [pid] = await waitFor(`${name} to start`, () => {
      const found = pidsByArgv(argv);
      return found.length === 1 ? found : null;
    });
    pids[name] = pid as number;
  }
  // Every escaper really escaped the way it claims.
  const rootSid = readStat(created.pid as number)?.sid;
  for (const name of ['setsid_env_i', 'sigterm_ignorer', 'closed_fd_daemon'] as const) {
    const stat = readStat(pids[name] as number);
    assert.notEqual(stat?.sid, rootSid, `${name} left the session`);
    const environ = readFileSync(`/proc/${pids[name]}/environ`, 'latin1');
    assert.equal(environ.includes('AUTODEV_SESSION_ID'), false, `${name} wiped its environment`);
  }
  assert.notEqual(readStat(pids.closed_fd_daemon as number)?.ppid, created.pid);
  const daemonFds = readdirSync(`/proc/${pids.closed_fd_daemon}/fd`).map((fd) =>
    readlinkSafe(`/proc/${pids.closed_fd_daemon}/fd/${fd}`),
  );
  assert.equal(daemonFds.filter((l) => l.startsWith('/dev/pts/')).length, 0, `daemon fds: ${daemonFds}`);
  const grand = readStat(pids.own_group_grandchild as number);
  assert.equal(grand?.pgid, grand?.pid, 'the grandchild leads its own process group');
  return { manager, logs, id, root: created.pid as number, pids, out };
}

/** Terminate, and time when each pid is gone (a zombie counts as gone: it runs nothing). */
async function terminateAndTime(
  manager: ReturnType<typeof testManager>['manager'],
  id: string,
  pids: Record<string, number>,
  watchMs: number,
) {
  const goneAt: Record<string, number> = {};
  const started = Date.now();
  let watching = true;
  const watcher = (async () => {
    while (watching && Date.now() - started < watchMs) {
      for (const [name, pid] of Object.entries(pids))
        if (goneAt[name] === undefined && !isAlive(pid)) goneAt[name] = Date.now() - started;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await manager.terminate(id, 'test over');
  await waitFor(
    'watch window',
    () => Object.keys(goneAt).length === Object.keys(pids).length || Date.now() - started >= watchMs,
    watchMs + 1000,
  );
  watching = false;
  await watcher;
  return goneAt;
}

test('cgroup: a grandchild in its own group, `setsid -f env -i sleep`, a nohup child, a SIGTERM-ignorer and a double-forked daemon with closed fds are all gone within grace + 1 s', async (t) => {
  const containment = createSessionContainment();
  if (containment.mode !== 'cgroup') {
    t.skip(
      `no writable cgroup v2 here (${containment.fallbackReason}); the fallback test covers this machine`,
    );
    return;
  }
  const { manager, logs, id, root, pids } = await shellWithEscapers(t, containment);
  const cgroup = containment.cgroupOf(id) as string;
  assert.ok(cgroup && existsSync(cgroup));
  const members = readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number);
  for (const [name, pid] of Object.entries(pids))
    assert.ok(members.includes(pid), `${name} is in the session cgroup`);
  assert.ok(members.includes(root), 'the shell itself joined before it ran');
  // Resource sampling (limits, diagnostics) counts the hidden ones too.
  await waitFor('sampled', () => manager.diagnostics(id).resource_usage?.num_processes === members.length);

  const goneAt = await terminateAndTime(manager, id, pids, GRACE_MS + 3000);
  t.diagnostic(`gone after (ms): ${JSON.stringify(goneAt)}`);
  for (const name of Object.keys(pids)) {
    assert.ok(goneAt[name] !== undefined, `${name} gone`);
    assert.ok(
      (goneAt[name] as number) <= GRACE_MS + 1000,
      `${name} gone after ${goneAt[name]} ms (grace ${GRACE_MS})`,
    );
  }
  assert.equal(isAlive(root), false);
  // Only the ignorer needed SIGKILL, and the escalation is logged with how.
  const escalation = logs.find((l) => l.msg === 'process-tree.sigkill');
  assert.ok(escalation, 'escalation logged');
  assert.equal(escalation.method, 'cgroup.kill');
  assert.deepEqual(escalation.pids, [pids.sigterm_ignorer]);
  assert.equal(manager.get(id)?.state, 'terminated');
  // The cgroup is removed once empty, and so is the run directory (no other session of this process).
  assert.equal(existsSync(cgroup), false, 'session cgroup removed');
  assert.equal(existsSync(path.dirname(cgroup)), false, 'run directory removed');
  // No zombies of ours. The setsid'd ones were re-parented to init, whose job reaping them is.
  // (A child that just exited may wait a moment for its reaper on a loaded machine; a leak stays.)
  await waitFor('no zombies of ours', () => ownZombies().length === 0, 10_000).catch(() => {});
  assert.deepEqual(ownZombies(), []);
  for (const pid of Object.values(pids)) {
    const s = readStat(pid);
    if (s) assert.equal(s.ppid, 1, `pid ${pid} is a zombie (${s.state}) of ${s.ppid}, not of init`);
  }
});

test('fallback (cgroups off): the /proc lookups end every escaper they can see; a daemon with a wiped environment and closed fds survives (the documented limit)', async (t) => {
  const events: [string, Record<string, unknown>][] = [];
  const containment = createSessionContainment({ cgroups: 'off', log: (e, f) => events.push([e, f]) });
  assert.equal(containment.mode, 'fallback');
  assert.equal(containment.fallbackReason, 'cgroups turned off');
  assert.deepEqual(events, [['session-cgroup.unavailable', { reason: 'cgroups turned off' }]]);
  const { manager, logs, id, pids } = await shellWithEscapers(t, containment);
  assert.equal(containment.cgroupOf(id), null);

  const goneAt = await terminateAndTime(manager, id, pids, GRACE_MS + 3000);
  t.diagnostic(`gone after (ms): ${JSON.stringify(goneAt)}`);
  // Found by SID / group (grandchild, nohup child) and by the session's terminal on fds 0–2
  // (`setsid -f env -i`, the ignorer): gone within grace + 1 s, the ignorer by SIGKILL.
  for (const name of ['own_group_grandchild', 'setsid_env_i', 'nohup_child', 'sigterm_ignorer'] as const) {
    assert.ok(goneAt[name] !== undefined, `${name} gone`);
    assert.ok((goneAt[name] as number) <= GRACE_MS + 1000, `${name} gone after ${goneAt[name]} ms`);
  }
  const escalation = logs.find((l) => l.msg === 'process-tree.sigkill');
  assert.ok(escalation, 'escalation logged');
  assert.equal(escalation.method, 'sigkill');
  assert.ok((escalation.pids as number[]).includes(pids.sigterm_ignorer as number));
  // The limit: no SID, no parent, no marker, no terminal — nothing ties this one to the session.
  assert.equal(
    isAlive(pids.closed_fd_daemon as number),
    true,
    'the fallback cannot see a closed-fd env -i daemon',
  );
});

test('100 sessions with setsid daemons, half terminated and half exiting by themselves, leave no cgroup directories, processes or zombies', async (t) => {
  const containment = createSessionContainment();
  if (containment.mode !== 'cgroup') {
    t.skip(`no writable cgroup v2 here (${containment.fallbackReason})`);
    return;
  }
  const tok = token();
  // The daemon: new session, no environment, fds closed, double fork — the cgroup is all that holds it.
  const daemon = `setsid -f env -i sh -c 'exec <&- >&- 2>&-; sleep 1005.${tok} & exit 0'`;
  const { manager, logs } = testManager(
    [
      provider('stays', '/bin/sh', ['-c', `${daemon}; echo up; exec sleep 1006.${tok}`]),
      provider('exits', '/bin/sh', ['-c', `${daemon}; echo up; sleep 0.2`]),
    ],
    {
      limits: { terminate_grace_ms: GRACE_MS, max_sessions: 20 },
      env: { ...process.env, HOME: tempHome(t) },
      containment,
    },
  );
  t.after(() => manager.shutdown());
  t.after(() => killPids([...pidsByArgv(['sleep', `1005.${tok}`]), ...pidsByArgv(['sleep', `1006.${tok}`])]));
  const fdsBefore = ptyFds();
  const cgroups = new Set<string>();
  let runDir = '';
  for (let batch = 0; batch < 10; batch++) {
    const sessions = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        let id: string | undefined;
        const out = collect(manager, () => id);
        id = (await manager.create({ cli_tool: i % 2 ? 'stays' : 'exits' })).session_id;
        cgroups.add(containment.cgroupOf(id) as string);
        runDir = path.dirname(containment.cgroupOf(id) as string);
        await waitFor('daemon started', () => out.text().includes('up'));
        out.dispose();
        return id;
      }),
    );
    await Promise.all(
      sessions.map(async (id) => {
        if (manager.get(id)?.cli_tool === 'stays') await manager.terminate(id);
        else await waitFor('exit', () => manager.get(id)?.state === 'completed');
      }),
    );
    await waitFor('cgroups of the batch removed', () =>
      sessions.every((id) => containment.cgroupOf(id) === null),
    );
    for (const id of sessions) manager.remove(id);
  }
  assert.equal(cgroups.size, 100);
  for (const dir of cgroups) assert.equal(existsSync(dir), false, `${dir} removed`);
  assert.equal(existsSync(runDir), false, 'run directory removed');
  assert.deepEqual(pidsByArgv(['sleep', `1005.${tok}`]).filter(isAlive), [], 'no daemon left');
  assert.deepEqual(pidsByArgv(['sleep', `1006.${tok}`]).filter(isAlive), [], 'no agent left');
  // (A child that just exited may wait a moment for its reaper on a loaded machine; a leak stays.)
  await waitFor('no zombies of ours', () => ownZombies().length === 0, 10_000).catch(() => {});
  assert.deepEqual(ownZombies(), []);
  await waitFor('pty fds back at baseline', () => {
    const now = ptyFds();
    return now.ptmx === fdsBefore.ptmx && now.pts === fdsBefore.pts;
  });
  assert.equal(logs.filter((l) => l.msg === 'processes survived SIGKILL').length, 0);
  assert.equal(manager.list().length, 0);
});

test('the join wrapper hands the agent the same environment as a direct spawn (sh adds nothing)', async (t) => {
  const cg = createSessionContainment();
  if (cg.mode !== 'cgroup') {
    t.skip(`no writable cgroup v2 here (${cg.fallbackReason}): no wrapper`);
    return;
  }
  const environs: string[][] = [];
  const home = tempHome(t);
  for (const containment of [cg, createSessionContainment({ cgroups: 'off' })]) {
    const { manager } = testManager([provider('sleeper', '/bin/sleep', ['30'])], {
      env: { ...process.env, HOME: home },
      containment,
    });
    t.after(() => manager.shutdown());
    const info = await manager.create({ cli_tool: 'sleeper' });
    const pid = info.pid as number;
    // The new comm shows before exec has set up the environment block: wait for the block itself.
    const environ = await waitFor('exec', () => {
      const text = readStat(pid)?.comm === 'sleep' ? readFileSync(`/proc/${pid}/environ`, 'utf8') : '';
      return text.includes('AUTODEV_SESSION_ID=') ? text : null;
    });
    environs.push(
      environ
        .split('\0')
        .filter(Boolean)
        .map((kv) => (kv.startsWith('AUTODEV_SESSION_ID=') ? 'AUTODEV_SESSION_ID=…' : kv))
        .sort(),
    );
    await manager.terminate(info.session_id);
  }
  assert.deepEqual(environs[0], environs[1]);
});

test('an agent that could not join its cgroup still ends by the /proc lookups, and the miss is logged', async (t) => {
  const events: [string, Record<string, unknown>][] = [];
  const containment = createSessionContainment({ log: (e, f) => events.push([e, f]) });
  if (containment.mode !== 'cgroup') {
    t.skip(`no writable cgroup v2 here (${containment.fallbackReason})`);
    return;
  }
  const tok = token();
  const argv = containment.prepare('lost-session', '/bin/sh', [
    '-c',
    `sleep 1009.${tok} & exec sleep 1010.${tok}`,
  ]);
  // The cgroup vanishes before the agent starts (removed by someone else): the join fails quietly.
  rmdirSync(containment.cgroupOf('lost-session') as string);
  const agent = spawn(argv.file, argv.args, { stdio: 'ignore', detached: true });
  const pid = agent.pid as number;
  t.after(() => killPids([pid, ...pidsByArgv(['sleep', `1009.${tok}`])]));
  const stat = await waitFor('agent exec', () => {
    const s = readStat(pid);
    return s?.comm === 'sleep' ? s : null;
  });
  const [child] = await waitFor('child', () => {
    const found = pidsByArgv(['sleep', `1009.${tok}`]);
    return found.length === 1 ? found : null;
  });
  containment.started('lost-session', { session_id: 'lost-session', pid, start_ticks: stat.start_ticks });
  const result = await containment.terminate('lost-session', { graceMs: 500 });
  assert.equal(result.signalled, 2, 'the agent (its session) and its child (its group) were found');
  assert.equal(isAlive(pid), false);
  assert.equal(isAlive(child as number), false);
  assert.deepEqual(
    events.find(([e]) => e === 'session-cgroup.not-joined'),
    [
      'session-cgroup.not-joined',
      { session_id: 'lost-session', cgroup: containment.cgroupOf('lost-session'), pid },
    ],
  );
  await containment.release('lost-session', { graceMs: 500 });
  assert.equal(containment.cgroupOf('lost-session'), null);
});

test('a set-up step runs in the session cgroup too: its hidden daemon ends with the session, and the cgroup is removed', async (t) => {
  const containment = createSessionContainment();
  if (containment.mode !== 'cgroup') {
    t.skip(`no writable cgroup v2 here (${containment.fallbackReason})`);
    return;
  }
  const tok = token();
  const daemonArgv = ['sleep', `1030.${tok}`];
  t.after(() => killPids(pidsByArgv(daemonArgv)));
  const { manager } = testManager(
    [provider('agent', '/bin/sh', ['-c', `echo agent-up; exec sleep 1031.${tok}`])],
    {
      limits: { terminate_grace_ms: GRACE_MS },
      env: { ...process.env, HOME: tempHome(t) },
      containment,
    },
  );
  t.after(() => manager.shutdown());
  t.after(() => killPids(pidsByArgv(['sleep', `1031.${tok}`])));
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (
    await manager.create(
      { cli_tool: 'agent' },
      {
        setup: {
          // (The pause lets the daemon leave the terminal's session before the set-up's shell exits
          // and the terminal hangs up.)
          argv: [
            '/bin/sh',
            '-c',
            `setsid -f env -i sh -c 'exec <&- >&- 2>&-; sleep 1030.${tok} & exit 0'; sleep 0.5`,
          ],
          label: 'daemon-setup',
        },
      },
    )
  ).session_id;
  await waitFor('agent started after the set-up', () => out.text().includes('agent-up'));
  const [daemon] = await waitFor('set-up daemon', () => {
    const found = pidsByArgv(daemonArgv);
    return found.length === 1 ? found : null;
  });
  const cgroup = containment.cgroupOf(id) as string;
  const members = readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number);
  assert.ok(members.includes(daemon as number), "the set-up's daemon is in the session's cgroup");
  assert.ok(members.includes(manager.get(id)?.pid as number), 'and so is the agent');
  await manager.terminate(id);
  assert.equal(isAlive(daemon as number), false, "the set-up's daemon ended with the session");
  assert.equal(existsSync(cgroup), false);
});
