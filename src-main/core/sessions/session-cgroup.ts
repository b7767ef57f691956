import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { readStat } from './proc-stat.ts';

/**
 * One cgroup v2 per session: the only lookup a process cannot hide from. A process can leave its
 * session (setsid), its process group, its parent (double fork), its environment (`env -i`) and its
 * terminal (close fds 0–2), but it cannot leave its cgroup without write access to a cgroup above
 * ours, and every child it forks is born in it. `cgroup.kill` (Linux ≥ 5.14) then SIGKILLs all of
 * them at once, with no fork race and no PID-reuse race.
 *
 * Where: a child of this process's OWN cgroup v2 (`0::` line of /proc/self/cgroup, found under the
 * cgroup2 mount in /proc/self/mountinfo). On a systemd desktop that is a scope or service inside
 * user@UID.service, a subtree delegated to (owned by) the user, so no root is needed; here (root, v2
 * mounted at /sys/fs/cgroup/unified) it is under the v2 root. Layout:
 *
 *     <own cgroup>/autodev-run-<pid>-<start ticks>/session-<session id>
 *
 * The run directory names the AutoDev process that owns it (PID plus start time), so a later run can
 * tell an orphan (owner dead after a crash) from a live instance's and sweep only the former.
 *
 * Detection proves it works once per process: create a probe cgroup, move a throw-away `sh` into it
 * and read back /proc/self/cgroup. Anything else falls back (see session-containment.ts for what the
 * fallback can and cannot find): macOS/Windows, cgroup v1 only, an own cgroup owned by someone else
 * (an ssh login's session-N.scope, a system service without Delegate=), containers without a
 * writable cgroup mount, or AUTODEV_CGROUPS=off.
 *
 * Limits even with a cgroup: a process running as root (or owning a cgroup above ours) can move
 * itself out; a process handed to another service (systemd-run, a tmux server started outside the
 * session, a container runtime) lives in that service's cgroup and was never ours; on systemd, our
 * sub-cgroups sit in a unit that systemd did not delegate to us explicitly, which it tolerates but
 * does not manage (it never removes populated cgroups; we remove ours when they empty).
 */

const RUN_PREFIX = 'autodev-run-';
const SESSION_PREFIX = 'session-';
/** Joins the cgroup, then becomes the agent (same PID): no user text in the script, only in argv.
 *  The agent's environment passes through as it is: node-pty already sets PWD to the cwd, which sh
 *  keeps (where /bin/sh is bash, it also adds SHLVL=0). */
export const JOIN_SCRIPT = '{ echo $$ > "$0"; } 2>/dev/null; exec "$@"';

/** The cgroup v2 directory of this process, from /proc/self/cgroup and /proc/self/mountinfo. */
export function ownCgroupDir(
  procSelfCgroup = readText('/proc/self/cgroup'),
  mountinfo = readText('/proc/self/mountinfo'),
): string | { reason: string } {
  if (procSelfCgroup === null) return { reason: 'no /proc/self/cgroup (not Linux)' };
  const own = v2Path(procSelfCgroup);
  if (own === null) return { reason: 'no cgroup v2 membership (cgroup v1 only)' };
  if (!own.startsWith('/') || own.endsWith(' (deleted)')) return { reason: `odd cgroup path ${own}` };
  return (
    dirOnMount(own, mountinfo ?? '') ?? {
      reason: 'the cgroup2 hierarchy is not mounted here (or not our part of it)',
    }
  );
}

function v2Path(procCgroup: string): string | null {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? null : line.slice(3);
}

/** Where cgroup `cgPath` (as /proc/<pid>/cgroup names it) is in this mount namespace, if anywhere. */
function dirOnMount(cgPath: string, mountinfo: string): string | null {
  for (const l of mountinfo.split('\n')) {
    const dash = l.indexOf(' - ');
    if (dash < 0 || !l.slice(dash + 3).startsWith('cgroup2 ')) continue;
    const fields = l.slice(0, dash).split(' ');
    const root = unescapeMount(fields[3] ?? '');
    const mountPoint = unescapeMount(fields[4] ?? '');
    if (!mountPoint) continue;
    // A mount of a sub-tree (containers) shows paths relative to its root.
    const rel =
      root === '/'
        ? cgPath
        : cgPath === root
          ? '/'
          : cgPath.startsWith(`${root}/`)
            ? cgPath.slice(root.length)
            : null;
    if (rel === null) continue;
    const dir = path.join(mountPoint, rel);
    if (existsSync(path.join(dir, 'cgroup.procs'))) return dir;
  }
  return null;
}

/**
 * The session cgroup process `pid` is in, when it is one of AutoDev's (a session-… below an autodev-run-…):
 * how a process that only knows an agent's PID (the core's resource sampler, when the PTY host is
 * another process) finds the session's hidden members.
 */
export function sessionCgroupDirOf(pid: number): string | null {
  const cgPath = v2Path(readText(`/proc/${pid}/cgroup`) ?? '');
  if (!cgPath) return null;
  const parts = cgPath.split('/');
  const session = parts[parts.length - 1] ?? '';
  const run = parts[parts.length - 2] ?? '';
  if (!session.startsWith(SESSION_PREFIX) || !run.startsWith(RUN_PREFIX)) return null;
  mountinfoCache ??= readText('/proc/self/mountinfo') ?? '';
  return dirOnMount(cgPath, mountinfoCache);
}
let mountinfoCache: string | undefined;

/** PIDs in a cgroup directory and below it. */
export function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  walkCgroup(dir, (d) => {
    for (const line of (readText(path.join(d, 'cgroup.procs')) ?? '').split('\n'))
      if (line) out.push(Number(line));
  });
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function runDirName(pid: number, startTicks: number): string {
  return `${RUN_PREFIX}${pid}-${startTicks}`;
}

/** Where this process puts its sessions' cgroups, proven to work. */
export interface CgroupHost {
  /** This process's own cgroup. */
  base: string;
  /** base/autodev-run-<pid>-<start ticks>. */
  runDir: string;
  /** Kernel has cgroup.kill (≥ 5.14); otherwise kills loop over cgroup.procs. */
  hasKill: boolean;
}

let detected: CgroupHost | { reason: string } | undefined;

/**
 * Once per process (cached): the cgroup host, or why there is none. `AUTODEV_CGROUPS=off` in the
 * environment turns cgroups off (the fallback then does all the work).
 */
export function detectCgroupHost(env: NodeJS.ProcessEnv = process.env): CgroupHost | { reason: string } {
  if (/^(off|0|false|no)$/i.test(env.AUTODEV_CGROUPS ?? '')) return { reason: 'AUTODEV_CGROUPS=off' };
  detected ??= probeCgroupHost();
  return detected;
}

export function probeCgroupHost(
  base: string | { reason: string } = ownCgroupDir(),
): CgroupHost | { reason: string } {
  if (typeof base !== 'string') return base;
  const self = readStat(process.pid);
  if (!self) return { reason: 'cannot read /proc/self/stat' };
  const runDir = path.join(base, runDirName(process.pid, self.start_ticks));
  const probe = path.join(runDir, `probe-${Date.now()}`);
  try {
    mkdirSync(probe, { recursive: true });
  } catch (error) {
    return {
      reason: `cannot create a cgroup under ${base}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    };
  }
  try {
    // In a cgroup filesystem the kernel fills a new directory with its files.
    if (!existsSync(path.join(probe, 'cgroup.procs')))
      return { reason: `${base} is not a cgroup v2 directory` };
    const r = spawnSync(
      '/bin/sh',
      ['-c', 'echo $$ > "$0" && cat /proc/self/cgroup', path.join(probe, 'cgroup.procs')],
      {
        encoding: 'utf8',
        timeout: 5000,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const joined = (r.stdout ?? '').split('\n').find((l) => l.startsWith('0::'));
    if (r.status !== 0 || !joined?.endsWith(`/${path.basename(probe)}`))
      return {
        reason: `cannot move a process into ${probe}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`,
      };
    return { base, runDir, hasKill: existsSync(path.join(probe, 'cgroup.kill')) };
  } finally {
    removeCgroupTree(probe);
    removeEmptyRunDir(runDir);
  }
}

/** For tests: forget the cached detection. */
export function resetCgroupDetection(): void {
  detected = undefined;
}

/** A session's cgroup: membership, a kill that cannot be outrun, removal. */
export class SessionCgroup {
  readonly dir: string;
  readonly procsFile: string;
  private readonly _hasKill: boolean;

  constructor(dir: string, hasKill: boolean) {
    this.dir = dir;
    this.procsFile = path.join(dir, 'cgroup.procs');
    this._hasKill = hasKill;
  }

  /** The argv that runs `file args` inside this cgroup from its first instruction (same PID). */
  wrap(file: string, args: string[]): { file: string; args: string[] } {
    return { file: '/bin/sh', args: ['-c', JOIN_SCRIPT, this.procsFile, file, ...args] };
  }

  /** PIDs in this cgroup and any cgroup an agent created below it. Exited (zombie) ones are not listed. */
  pids(): number[] {
    return cgroupPids(this.dir);
  }

  /** Any live process in the subtree (cgroup.events `populated`, maintained by the kernel). */
  populated(): boolean {
    const events = readText(path.join(this.dir, 'cgroup.events'));
    if (events === null) return false; // removed
    return /^populated 1$/m.test(events);
  }

  /** SIGKILL every member: cgroup.kill when the kernel has it, else a loop over cgroup.procs. */
  killAll(): 'cgroup.kill' | 'sigkill-loop' {
    if (this._hasKill) {
      try {
        writeFileSync(path.join(this.dir, 'cgroup.kill'), '1');
        return 'cgroup.kill';
      } catch {
        // fall through to the loop (removed meanwhile, or a kernel without it)
      }
    }
    // Without cgroup.kill a forking process could in theory outrun one pass; repeat until empty.
    for (let pass = 0; pass < 20; pass++) {
      const pids = this.pids();
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    return 'sigkill-loop';
  }

  /** rmdir this cgroup (and sub-cgroups an agent made), once nothing lives in it. */
  remove(): boolean {
    return removeCgroupTree(this.dir);
  }

  /** remove(), retrying briefly (`populated` can trail the last exit by a moment) while `keepTrying`. */
  async removeWhenEmpty(timeoutMs = 1000, keepTrying: () => boolean = () => true): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!keepTrying()) return false;
      if (this.remove()) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get exists(): boolean {
    return existsSync(this.dir);
  }
}

/** Creates session cgroups under the host's run directory. */
export function createSessionCgroup(host: CgroupHost, sessionId: string): SessionCgroup {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(sessionId) || /^\.+$/.test(sessionId))
    throw new Error(`unsafe session id for a cgroup name: ${JSON.stringify(sessionId)}`);
  const dir = path.join(host.runDir, `${SESSION_PREFIX}${sessionId}`);
  mkdirSync(dir, { recursive: true });
  accessSync(path.join(dir, 'cgroup.procs'), constants.W_OK);
  return new SessionCgroup(dir, host.hasKill);
}

/** rmdir the run directory when no session cgroup is left in it (ENOTEMPTY/EBUSY otherwise: fine). */
export function removeEmptyRunDir(runDir: string): boolean {
  try {
    rmdirSync(runDir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function walkCgroup(dir: string, visit: (dir: string) => void): void {
  visit(dir);
  for (const child of subCgroups(dir)) walkCgroup(child, visit);
}

function subCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/** rmdir depth first. A cgroup directory only ever holds kernel files, so rmdir (not rm -r) is right. */
function removeCgroupTree(dir: string): boolean {
  for (const child of subCgroups(dir)) removeCgroupTree(child);
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** A run directory left by an AutoDev process that is gone (crashed or killed), with its sessions. */
export interface OrphanedRun {
  runDir: string;
  owner: { pid: number; start_ticks: number };
  sessions: SessionCgroup[];
}

/**
 * Run directories whose owner process no longer exists (PID gone or reused: start time differs).
 * Searched below the highest ancestor of our own cgroup that this user owns (a desktop's
 * user@UID.service; the v2 root for root), because a previous run may have lived in another scope.
 * Bounded: depth 8, 5000 directories.
 */
export function findOrphanedRuns(host: CgroupHost | { reason: string } = detectCgroupHost()): OrphanedRun[] {
  if (!('base' in host)) return [];
  const top = highestOwnedAncestor(host.base);
  const out: OrphanedRun[] = [];
  let budget = 5000;
  const visit = (dir: string, depth: number) => {
    for (const child of subCgroups(dir)) {
      if (--budget < 0) return;
      const name = path.basename(child);
      const m = /^autodev-run-(\d+)-(\d+)$/.exec(name);
      if (m) {
        const owner = { pid: Number(m[1]), start_ticks: Number(m[2]) };
        const now = readStat(owner.pid);
        if (now && now.start_ticks === owner.start_ticks) continue; // a live instance's
        out.push({
          runDir: child,
          owner,
          sessions: subCgroups(child).map(
            (d) => new SessionCgroup(d, existsSync(path.join(d, 'cgroup.kill'))),
          ),
        });
      } else if (depth < 8) visit(child, depth + 1);
    }
  };
  visit(top, 0);
  return out;
}

function highestOwnedAncestor(base: string): string {
  const uid = process.getuid?.() ?? -1;
  let top = base;
  for (let dir = path.dirname(base); dir !== top; dir = path.dirname(dir)) {
    if (!existsSync(path.join(dir, 'cgroup.procs'))) break; // left the cgroup mount
    let owner: number;
    try {
      owner = statSync(dir).uid;
    } catch {
      break;
    }
    if (owner !== uid) break;
    top = dir;
    if (dir === path.dirname(dir)) break;
  }
  return top;
}

/** The cgroup of `sessionId` in a run whose owner is gone (a crashed app or PTY host), if any. */
export function orphanedSessionCgroup(
  sessionId: string,
  host: CgroupHost | { reason: string } = detectCgroupHost(),
): { cgroup: SessionCgroup; runDir: string } | null {
  const name = `${SESSION_PREFIX}${sessionId}`;
  for (const run of findOrphanedRuns(host)) {
    const cgroup = run.sessions.find((c) => path.basename(c.dir) === name);
    if (cgroup) return { cgroup, runDir: run.runDir };
  }
  return null;
}
