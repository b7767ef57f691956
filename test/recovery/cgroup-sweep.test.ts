import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runRecovery } from '../../src-main/core/recovery/recovery.ts';
import { bootId, killRecordedTree, readStat } from '../../src-main/core/sessions/process-tree.ts';
import { createSessionContainment } from '../../src-main/core/sessions/session-containment.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { schemaDir, tempDir } from '../store/helpers.ts';

/**
 * Field notes §7.24 with cgroups: AutoDev is kill -9'd while a session's agent has left a setsid,
 * `env -i`, closed-fd daemon and a SIGTERM/SIGHUP-ignorer behind (nothing in /proc ties them to the
 * session, and the ledger's lookups cannot find them). The next start's recovery finds the dead
 * process's run cgroup, ends its members (SIGTERM, grace, cgroup.kill) and removes the empty cgroups,
 * while a live AutoDev's run cgroup is left alone.
 */

const here = path.dirname(fileURLToPath(import.meta.url));

function pidsByArgv(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'latin1') === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  const s = readStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

test('recovery ends what a crashed run left in its session cgroups, removes those cgroups, and spares a live run', async (t) => {
  const live = createSessionContainment();
  if (live.mode !== 'cgroup') {
    t.skip(`no writable cgroup v2 here (${live.fallbackReason})`);
    return;
  }
  const tok = String(100_000 + Math.floor(Math.random() * 900_000));
  const leftovers = () => [...pidsByArgv(['sleep', `1010.${tok}`]), ...pidsByArgv(['sleep', `1011.${tok}`])];
  t.after(() => {
    for (const pid of leftovers())
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
  });

  // A live instance (this process) with a session of its own, which recovery must not touch.
  const argv = live.prepare('live-session', '/bin/sh', ['-c', `exec sleep 1013.${tok}`]);
  const liveAgent = spawn(argv.file, argv.args, { stdio: 'ignore', detached: true });
  t.after(() => liveAgent.kill('SIGKILL'));
  const liveCgroup = live.cgroupOf('live-session') as string;

  const { crashedCgroup, crashedRun, daemons } = await crashRun(t, tok, leftovers);
  const dir = tempDir(t, 'autodev-cgsweep-');
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'r.db') });
  t.after(() => opened.close());
  const started = Date.now();
  const report = await runRecovery({ db: opened.db });
  t.diagnostic(`recovery took ${Date.now() - started} ms: ${JSON.stringify(report.processes)}`);
  assert.deepEqual(report.errors, []);
  assert.ok(report.processes.orphaned_cgroups >= 1);
  assert.ok(report.processes.killed >= 2, `killed ${report.processes.killed}`);
  assert.ok(report.processes.escalated >= 1, 'the ignorer needed cgroup.kill');
  assert.equal(report.processes.survivors, 0);
  for (const pid of daemons) assert.equal(alive(pid), false, `leftover ${pid} ended`);
  assert.equal(existsSync(crashedCgroup), false, 'the crashed session cgroup was removed');
  assert.equal(existsSync(crashedRun), false, 'the crashed run directory was removed');

  // The live instance's session is untouched.
  assert.ok(existsSync(liveCgroup));
  assert.ok(alive(liveAgent.pid as number), 'a live instance keeps its session');
  await live.terminate('live-session', { graceMs: 500 });
  await live.release('live-session', { graceMs: 500 });
  assert.equal(existsSync(liveCgroup), false);
});

/** Runs the crash child (a real session manager whose agent leaves hidden daemons) and kill -9s it. */
async function crashRun(t: { after(fn: () => void): void }, tok: string, leftovers: () => number[]) {
  const child = spawn(process.execPath, [path.join(here, 'fixtures', 'cgroup-crash-child.ts'), tok], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const ready = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('READY ')) resolve(line.slice(6));
      if (line.startsWith('FALLBACK ')) reject(new Error(line));
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  const crashedCgroup = ready;
  const crashedRun = path.dirname(crashedCgroup);
  assert.match(path.basename(crashedRun), new RegExp(`^autodev-run-${child.pid}-\\d+$`));
  await waitUntil(() => leftovers().length === 2, 'both leftovers running');
  const daemons = leftovers();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  // After the crash: the PTY is gone, the leftovers are not; only their cgroup still knows them.
  await new Promise((r) => setTimeout(r, 300));
  for (const pid of daemons) assert.ok(alive(pid), `leftover ${pid} survived the crash`);
  const members = readFileSync(path.join(crashedCgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(members.map(Number).sort(), [...daemons].sort());
  return { crashedCgroup, crashedRun, daemons };
}

test('a lost PTY host or app: killRecordedTree of a session ends its hidden leftovers through its orphaned cgroup', async (t) => {
  if (createSessionContainment().mode !== 'cgroup') {
    t.skip('no writable cgroup v2 here');
    return;
  }
  const tok = String(100_000 + Math.floor(Math.random() * 900_000));
  const leftovers = () => [...pidsByArgv(['sleep', `1010.${tok}`]), ...pidsByArgv(['sleep', `1011.${tok}`])];
  t.after(() => {
    for (const pid of leftovers())
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
  });
  const { crashedCgroup, crashedRun, daemons } = await crashRun(t, tok, leftovers);
  const sessionId = path.basename(crashedCgroup).slice('session-'.length);
  // What the ledger (or the manager's lost-host cleanup) knows: the agent, long gone. The /proc
  // lookups find nothing of it; the session's cgroup has everything.
  const logged: string[] = [];
  const result = await killRecordedTree(
    { session_id: sessionId, pid: 999_999, pgid: 999_999, start_ticks: 1, boot_id: bootId() },
    { graceMs: 500, log: (event) => logged.push(event) },
  );
  assert.equal(result.signalled, 2);
  assert.deepEqual(result.escalated.length, 1, 'the ignorer needed cgroup.kill');
  for (const pid of daemons) assert.equal(alive(pid), false, `leftover ${pid} ended`);
  assert.deepEqual(logged, ['process-tree.recovered-kill', 'process-tree.sigkill']);
  assert.equal(existsSync(crashedCgroup), false);
  assert.equal(existsSync(crashedRun), false);
});

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
