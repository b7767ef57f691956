import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readStat } from '../../../src-main/core/sessions/process-tree.ts';
import {
  detectCgroupHost,
  ownCgroupDir,
  probeCgroupHost,
} from '../../../src-main/core/sessions/session-cgroup.ts';
import { isAlive, waitFor } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const NOBODY = 65534;

function fakeCgroupFs(t: { after(fn: () => void): void }, rel: string): string {
  const root = mkdtempSync(path.join(tmpdir(), 'autodev-cgfs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, rel), { recursive: true });
  writeFileSync(path.join(root, rel, 'cgroup.procs'), '');
  return root;
}

test('ownCgroupDir: a systemd desktop (pure v2 at /sys/fs/cgroup), a hybrid host, a container sub-mount; v1-only and unmounted v2 say why not', (t) => {
  const scope = '/user.slice/user-1000.slice/user@1000.service/app.slice/app-autodev-1234.scope';
  const mnt = fakeCgroupFs(t, scope);
  const desktop = ownCgroupDir(
    `0::${scope}\n`,
    `25 21 0:22 / ${mnt} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`,
  );
  assert.equal(desktop, path.join(mnt, scope));

  // Hybrid (this machine's layout): v1 controllers plus v2 at …/unified; only the 0:: line counts.
  const hybrid = fakeCgroupFs(t, '/');
  assert.equal(
    ownCgroupDir(
      '9:name=systemd:/\n8:pids:/\n4:memory:/x/y\n0::/\n',
      `30 25 0:27 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n41 31 0:38 / ${hybrid} rw,relatime - cgroup2 cgroup2 rw\n`,
    ),
    path.join(hybrid, '/'),
  );

  // A container that sees a sub-tree of the host's hierarchy mounted at its root, path with a space.
  const spaced = fakeCgroupFs(t, '/inner');
  const withSpace = path.join(spaced, 'my mount');
  mkdirSync(path.join(withSpace, 'inner'), { recursive: true });
  writeFileSync(path.join(withSpace, 'inner', 'cgroup.procs'), '');
  assert.equal(
    ownCgroupDir(
      '0::/docker/abc/inner\n',
      `50 40 0:40 /docker/abc ${withSpace.replace(/ /g, '\\040')} rw - cgroup2 cgroup2 rw\n`,
    ),
    path.join(withSpace, 'inner'),
  );

  assert.deepEqual(ownCgroupDir('4:memory:/a\n1:cpu:/a\n', ''), {
    reason: 'no cgroup v2 membership (cgroup v1 only)',
  });
  assert.match(
    (
      ownCgroupDir('0::/a\n', '30 25 0:27 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n') as {
        reason: string;
      }
    ).reason,
    /not mounted/,
  );
  assert.deepEqual(ownCgroupDir(null, null), { reason: 'no /proc/self/cgroup (not Linux)' });
  // Not a cgroup filesystem at all (a plain directory): the probe refuses it.
  const plain = mkdtempSync(path.join(tmpdir(), 'autodev-notcg-'));
  t.after(() => rmSync(plain, { recursive: true, force: true }));
  assert.match((probeCgroupHost(plain) as { reason: string }).reason, /is not a cgroup v2 directory/);
  assert.deepEqual(readdirSync(plain), [], 'the failed probe cleaned up after itself');
});

test('AUTODEV_CGROUPS=off turns cgroups off', () => {
  assert.deepEqual(detectCgroupHost({ AUTODEV_CGROUPS: 'off' }), { reason: 'AUTODEV_CGROUPS=off' });
});

interface ChildReport {
  uid: number;
  mode: 'cgroup' | 'fallback';
  reason: string | null;
  cgroup?: string;
  terminate?: { signalled: number; escalated: number[]; survivors: number[] };
  terminate_ms?: number;
  release?: unknown;
}

/** Runs the stand-in AutoDev as `nobody`, first moved into `cgroupDir` (or left where we are). */
async function runAsNobody(t: { after(fn: () => void): void }, tok: string, cgroupDir: string | null) {
  const child = spawn(process.execPath, [path.join(here, 'fixtures', 'containment-child.ts'), tok], {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => {
    try {
      child.kill('SIGKILL');
    } catch {}
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const line = new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
  });
  await waitFor('child started', () => readStat(child.pid as number));
  if (cgroupDir) writeFileSync(path.join(cgroupDir, 'cgroup.procs'), String(child.pid)); // as systemd would
  child.stdin.write('go\n');
  return JSON.parse(await line) as ChildReport;
}

test('a non-root user gets session cgroups inside its delegated cgroup (as systemd delegates user@UID.service) and terminate ends a setsid, env -i, closed-fd daemon; without delegation it falls back', async (t) => {
  const host = detectCgroupHost();
  if (process.getuid?.() !== 0 || !('runDir' in host)) {
    t.skip('needs root and a writable cgroup v2 to set up a delegated subtree for another user');
    return;
  }
  const tok = String(100_000 + Math.floor(Math.random() * 900_000));
  // What systemd does for Delegate=yes: the unit's directory and its cgroup.procs, cgroup.threads and
  // cgroup.subtree_control belong to the user.
  const delegated = path.join(host.base, `autodev-test-delegated-${tok}`);
  mkdirSync(delegated);
  t.after(() => {
    for (const pid of readFileSync(path.join(delegated, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    try {
      rmdirSync(delegated);
    } catch {}
  });
  for (const f of ['', 'cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control'])
    chownSync(path.join(delegated, f), NOBODY, NOBODY);

  const report = await runAsNobody(t, tok, delegated);
  t.diagnostic(JSON.stringify(report));
  assert.equal(report.uid, NOBODY);
  assert.equal(report.mode, 'cgroup', `fell back: ${report.reason}`);
  assert.ok(report.cgroup?.startsWith(`${delegated}/autodev-run-`), report.cgroup);
  assert.ok(report.terminate && report.terminate.signalled >= 2, 'the agent and its daemon were signalled');
  assert.deepEqual(report.terminate?.survivors, []);
  assert.deepEqual(
    ['1007', '1008'].flatMap((d) =>
      readdirSync('/proc').filter((p) => {
        try {
          return (
            readFileSync(`/proc/${p}/cmdline`, 'latin1') === `sleep\0${d}.${tok}\0` && isAlive(Number(p))
          );
        } catch {
          return false;
        }
      }),
    ),
    [],
    'nothing left',
  );
  assert.deepEqual(
    readdirSync(delegated).filter((n) => n.startsWith('autodev-')),
    [],
    'the session cgroup and the run directory were removed by their non-root owner',
  );

  // No delegation: nobody's process in a cgroup it does not own cannot create one there.
  const plain = await runAsNobody(t, tok, null);
  assert.equal(plain.mode, 'fallback');
  assert.match(plain.reason ?? '', /EACCES|EPERM|Permission denied/);
  assert.equal(existsSync(path.join(host.base, `autodev-run-${tok}`)), false);
});
