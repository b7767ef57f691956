import {
  EnvMarkerCache,
  type KillTreeResult,
  killTree,
  type ProcStat,
  readStat,
  scanProcesses,
  sessionTree,
  type TreeRoot,
  withGroupMembers,
} from './process-tree.ts';
import {
  type CgroupHost,
  createSessionCgroup,
  detectCgroupHost,
  findOrphanedRuns,
  removeEmptyRunDir,
  type SessionCgroup,
} from './session-cgroup.ts';

/**
 * What the PTY host (pty-host/host-session.ts, one containment per LocalPtyHost) calls to keep a
 * session's processes together and end all of them: at spawn (`prepare`, `started`), at terminate
 * (`terminate`), after exit (`release`) and when it drops a session (`forget`). The run directory is
 * therefore owned by the process running the PTYs: the app, or the separate PTY host process.
 *
 * With a cgroup (session-cgroup.ts; Linux with a writable cgroup v2, e.g. a systemd desktop or root):
 * the agent is spawned as `/bin/sh -c JOIN_SCRIPT <cgroup.procs> <agent> <args…>`, which writes its
 * own PID into the session's cgroup and then execs the agent (same PID), so the agent and everything
 * it ever forks is a member before it runs one instruction. Terminate SIGHUP+SIGTERMs every member
 * (and the /proc lookups' finds), waits the grace period, then writes cgroup.kill. Every descendant,
 * however it hid (setsid, double fork, `env -i`, closed fds), is gone within grace + 1 s (measured
 * here: 50–100 ms after the grace). The price is the migration at spawn: 10–20 ms here (the kernel's
 * cgroup write lock waits for an RCU grace period; `favordynmods` on the cgroup2 mount avoids it).
 * If the join fails anyway (the cgroup vanished), the agent still runs, the /proc lookups still end
 * it, and terminate logs `session-cgroup.not-joined`.
 *
 * Fallback (no cgroup: macOS, no cgroup v2, own cgroup not ours to write, AUTODEV_CGROUPS=off): the
 * /proc lookups of process-tree.ts — SID, PPID chain, process groups, the AUTODEV_SESSION_ID marker in
 * the environment, and stdio on the session's terminal (while it is open). Its limit: a process that
 * left the session, wiped its environment AND closed or redirected fds 0–2 — e.g. `setsid -f env -i
 * sh -c 'exec >/dev/null 2>&1 </dev/null; …'`, a classic double-forked daemon — is invisible to it
 * and survives the session. The test "fallback (cgroups off): …" in
 * test/core/sessions/containment.test.ts pins down exactly what the fallback finds and what it misses.
 *
 * Both ways, signals are guarded by start times (a recycled PID is never signalled), and the cgroup
 * is removed once empty (the run directory too when this process has no session left in it).
 */

export type ContainmentLog = (event: string, fields: Record<string, unknown>) => void;

export interface SessionContainmentOptions {
  /** 'auto' (default): a cgroup per session where the system allows it. 'off': the /proc lookups only. */
  cgroups?: 'auto' | 'off';
  /** Where cgroups go (tests); default: detected once per process (detectCgroupHost). */
  host?: CgroupHost | { reason: string };
  /** Module-level events (cgroups unavailable, a cgroup that could not be created). */
  log?: ContainmentLog;
}

export interface ContainmentKillOptions {
  graceMs: number;
  /** Processes seen in the tree earlier (the resource sampler's last listing). */
  extra?: ProcStat[];
  log?: ContainmentLog;
}

export interface SessionContainment {
  /** 'cgroup' when sessions get a cgroup, else 'fallback' (with `fallbackReason`). */
  readonly mode: 'cgroup' | 'fallback';
  readonly fallbackReason: string | null;
  /** Before spawn: the argv to spawn instead of `file args` (the agent wrapped to join its cgroup). */
  prepare(sessionId: string, file: string, args: string[]): { file: string; args: string[] };
  /** Right after spawn: the root process, and its terminal (for the fallback's stdio lookup). */
  started(sessionId: string, root: TreeRoot): void;
  /** End every process of the session: SIGHUP+SIGTERM, the grace period, then SIGKILL / cgroup.kill. */
  terminate(sessionId: string, options: ContainmentKillOptions): Promise<KillTreeResult>;
  /** After the agent exited: end what it left behind, remove its cgroup and forget the session. */
  release(sessionId: string, options: ContainmentKillOptions): Promise<KillTreeResult>;
  /** Forget the session without killing anything (its spawn failed, or the host is disposed): its
   *  cgroup is removed if empty, else left for the recovery sweep once this process is gone. */
  forget(sessionId: string): void;
  /** The session's cgroup directory (diagnostics, tests). */
  cgroupOf(sessionId: string): string | null;
  /** The members of the session's cgroup now (none without one): for resource sampling. */
  members(sessionId: string): ProcStat[];
}

interface Contained {
  cgroup: SessionCgroup | null;
  root: TreeRoot | null;
  /** Set once release began: a second release waits for the first. */
  released: Promise<KillTreeResult> | null;
}

const NOTHING: KillTreeResult = { signalled: 0, escalated: [], survivors: [] };

export function createSessionContainment(options: SessionContainmentOptions = {}): SessionContainment {
  return new Containment(options);
}

class Containment implements SessionContainment {
  readonly mode: 'cgroup' | 'fallback';
  readonly fallbackReason: string | null;
  private readonly _host: CgroupHost | null;
  private readonly _log: ContainmentLog;
  private readonly _sessions = new Map<string, Contained>();

  constructor(options: SessionContainmentOptions) {
    this._log = options.log ?? (() => {});
    const host =
      options.cgroups === 'off'
        ? { reason: 'cgroups turned off' }
        : (options.host ??
          (process.platform === 'linux' ? detectCgroupHost() : { reason: process.platform }));
    this._host = 'runDir' in host ? host : null;
    this.mode = this._host ? 'cgroup' : 'fallback';
    this.fallbackReason = 'reason' in host ? host.reason : null;
    if (!this._host) this._log('session-cgroup.unavailable', { reason: this.fallbackReason });
  }

  prepare(sessionId: string, file: string, args: string[]): { file: string; args: string[] } {
    let cgroup: SessionCgroup | null = null;
    if (this._host) {
      try {
        cgroup = createSessionCgroup(this._host, sessionId);
      } catch (error) {
        this._log('session-cgroup.create-failed', { session_id: sessionId, error: String(error) });
      }
    }
    this._sessions.set(sessionId, { cgroup, root: null, released: null });
    return cgroup ? cgroup.wrap(file, args) : { file, args };
  }

  started(sessionId: string, root: TreeRoot): void {
    const s = this._sessions.get(sessionId);
    if (s) s.root = { ...root };
  }

  forget(sessionId: string): void {
    const s = this._sessions.get(sessionId);
    if (!s || s.released) return; // a release in progress removes it
    s.cgroup?.remove();
    this._sessions.delete(sessionId);
    if (this._host && this._sessions.size === 0) removeEmptyRunDir(this._host.runDir);
  }

  cgroupOf(sessionId: string): string | null {
    return this._sessions.get(sessionId)?.cgroup?.dir ?? null;
  }

  members(sessionId: string): ProcStat[] {
    const cgroup = this._sessions.get(sessionId)?.cgroup;
    if (!cgroup) return [];
    return cgroup
      .pids()
      .map((pid) => readStat(pid))
      .filter((p): p is ProcStat => p !== null);
  }

  terminate(sessionId: string, options: ContainmentKillOptions): Promise<KillTreeResult> {
    const s = this._sessions.get(sessionId);
    if (!s) return Promise.resolve(NOTHING);
    // The terminal is only a lookup while the PTY is open (terminate runs before exit): afterwards
    // its number may belong to another session.
    return this._kill(sessionId, s, options, true);
  }

  release(sessionId: string, options: ContainmentKillOptions): Promise<KillTreeResult> {
    const s = this._sessions.get(sessionId);
    if (!s) return Promise.resolve(NOTHING);
    s.released ??= (async () => {
      const result = await this._kill(sessionId, s, options, false);
      // The same id may have been prepared again meanwhile (a set-up step, then the agent): the
      // directory is then the new process's, not ours to remove.
      const ours = () => this._sessions.get(sessionId) === s;
      if (s.cgroup && ours() && !(await s.cgroup.removeWhenEmpty(1000, ours)) && ours())
        (options.log ?? this._log)('session-cgroup.not-removed', {
          cgroup: s.cgroup.dir,
          pids: s.cgroup.pids(),
        });
      if (ours()) this._sessions.delete(sessionId);
      if (this._host && this._sessions.size === 0) removeEmptyRunDir(this._host.runDir);
      return result;
    })();
    return s.released;
  }

  private async _kill(
    sessionId: string,
    s: Contained,
    options: ContainmentKillOptions,
    useTty: boolean,
  ): Promise<KillTreeResult> {
    const log = options.log ?? this._log;
    const markers = new EnvMarkerCache();
    const { cgroup, root } = s;
    const list = (tty: string | null, extra: ProcStat[]): ProcStat[] => {
      const table = scanProcesses();
      return withGroupMembers(
        root ? sessionTree({ ...root, tty }, table, markers, extra) : [],
        cgroup,
        table,
      );
    };
    const initial = list(useTty ? (root?.tty ?? null) : null, options.extra ?? []);
    if (initial.length === 0 && !cgroup?.populated()) return NOTHING;
    if (cgroup && root && initial.some((p) => p.pid === root.pid && p.start_ticks === root.start_ticks)) {
      if (!cgroup.pids().includes(root.pid))
        log('session-cgroup.not-joined', { session_id: sessionId, cgroup: cgroup.dir, pid: root.pid });
    }
    // Later listings keep what the first one found (its children are found by PPID and group).
    return killTree(initial, {
      graceMs: options.graceMs,
      relist: () => list(null, initial),
      group: cgroup,
      log,
    });
  }
}

export interface CgroupSweepResult {
  /** Run directories of dead AutoDev processes found. */
  runs: number;
  /** Session cgroups in them. */
  cgroups: number;
  /** Processes signalled, escalated to SIGKILL, and still alive after it. */
  killed: number;
  escalated: number;
  survivors: number;
  /** Cgroup directories removed (sessions and runs). */
  removed: number;
}

/**
 * Recovery: the session cgroups of AutoDev processes that died without cleaning up (crash, kill -9).
 * Their members are leftovers for sure (the cgroup proves it; no start-time guess is needed): SIGTERM,
 * the grace period, cgroup.kill; then the empty cgroups and run directories are removed. Runs whose
 * owner (PID + start time) is alive — another AutoDev instance — are left alone.
 */
export async function sweepOrphanedSessionCgroups(
  options: { graceMs?: number; log?: ContainmentLog; host?: CgroupHost | { reason: string } } = {},
): Promise<CgroupSweepResult> {
  const result: CgroupSweepResult = {
    runs: 0,
    cgroups: 0,
    killed: 0,
    escalated: 0,
    survivors: 0,
    removed: 0,
  };
  const host = options.host ?? detectCgroupHost();
  for (const run of findOrphanedRuns(host)) {
    result.runs++;
    await Promise.all(
      run.sessions.map(async (cgroup) => {
        result.cgroups++;
        const list = () => withGroupMembers([], cgroup);
        const initial = list();
        if (initial.length > 0 || cgroup.populated()) {
          options.log?.('session-cgroup.orphan-kill', {
            cgroup: cgroup.dir,
            owner: run.owner,
            pids: initial.map((p) => p.pid),
          });
          const r = await killTree(initial, {
            graceMs: options.graceMs ?? 3000,
            relist: list,
            group: cgroup,
            ...(options.log ? { log: options.log } : {}),
          });
          result.killed += r.signalled;
          result.escalated += r.escalated.length;
          result.survivors += r.survivors.length;
        }
        if (await cgroup.removeWhenEmpty()) result.removed++;
      }),
    );
    if (removeEmptyRunDir(run.runDir)) result.removed++;
  }
  return result;
}
