import { readFileSync, readlinkSync } from 'node:fs';

/**
 * /proc-based process trees: the fallback lookups, and the kill sequence. node-pty only signals the
 * shell PID, so grandchildren in other process groups, `setsid`/`nohup` children and double-forked
 * daemons survive it (field notes §3). Without a session cgroup (session-cgroup.ts) a session's tree
 * is what these lookups find: the root, its descendants by PPID, every process in the root's session
 * (SID == root PID, because node-pty's spawn helper calls setsid) and in any process group seen there,
 * every process carrying the session's AUTODEV_SESSION_ID in its environment (catches double-forked
 * daemons that were re-parented to init and left the session), and — while the session's PTY is
 * still open — every process whose fd 0, 1 or 2 is the session's terminal (catches `setsid -f env -i
 * cmd`, which leaves the session and wipes the environment but keeps its stdio).
 *
 * What none of these can find: a process that left the session, dropped the marker from its
 * environment AND closed or redirected fds 0–2 (a classic daemon started with `env -i`), or that was
 * re-parented away before we looked. Only the cgroup finds those (see session-containment.ts).
 *
 * Every signal is guarded by the process start time (/proc/<pid>/stat field 22), so a recycled PID
 * is never signalled.
 */

import {
  bootId,
  CLOCK_TICKS_PER_SECOND,
  PAGE_SIZE,
  type ProcStat,
  parseStat,
  readStat,
  scanProcesses,
} from './proc-stat.ts';

import { type CgroupHost, orphanedSessionCgroup, removeEmptyRunDir } from './session-cgroup.ts';

export { bootId, CLOCK_TICKS_PER_SECOND, PAGE_SIZE, type ProcStat, parseStat, readStat, scanProcesses };

const ENV_MARKER = 'AUTODEV_SESSION_ID';

/**
 * Which AutoDev session a process belongs to, by its environment, and whether its stdio is a given
 * terminal. Cached per (pid, start time): the environment of a running process does not change as far
 * as /proc shows it (it is the exec-time block), and a process that ever held our terminal got it from
 * us (it is only inherited).
 */
export class EnvMarkerCache {
  private _cache = new Map<string, string | null>();
  private _tty = new Map<string, boolean>();

  sessionOf(stat: ProcStat): string | null {
    const key = `${stat.pid}:${stat.start_ticks}`;
    const hit = this._cache.get(key);
    if (hit !== undefined) return hit;
    let value: string | null = null;
    try {
      const environ = readFileSync(`/proc/${stat.pid}/environ`, 'latin1');
      const at = environ.indexOf(`\0${ENV_MARKER}=`);
      const start = at >= 0 ? at + 1 : environ.startsWith(`${ENV_MARKER}=`) ? 0 : -1;
      if (start >= 0) {
        const end = environ.indexOf('\0', start);
        value = environ.slice(start + ENV_MARKER.length + 1, end < 0 ? undefined : end);
      }
    } catch {
      // Not ours to read (other user) or already gone.
    }
    this._cache.set(key, value);
    return value;
  }

  /** fd 0, 1 or 2 of the process is `tty` (a /dev/pts/N path). */
  holdsTty(stat: ProcStat, tty: string): boolean {
    const key = `${stat.pid}:${stat.start_ticks}:${tty}`;
    const hit = this._tty.get(key);
    if (hit !== undefined) return hit;
    let value = false;
    for (let fd = 0; fd <= 2 && !value; fd++) {
      try {
        value = readlinkSync(`/proc/${stat.pid}/fd/${fd}`) === tty;
      } catch {
        // closed, gone, or not ours to read
      }
    }
    this._tty.set(key, value);
    return value;
  }

  /** Forget entries of processes that no longer exist. */
  prune(alive: Map<number, ProcStat>): void {
    for (const map of [this._cache, this._tty] as Map<string, unknown>[])
      for (const key of map.keys()) {
        const [pid, start] = key.split(':').map(Number);
        const stat = alive.get(pid as number);
        if (!stat || stat.start_ticks !== start) map.delete(key);
      }
  }
}

export interface TreeRoot {
  session_id: string;
  pid: number;
  start_ticks: number;
  /** The session's terminal (/dev/pts/N). Only while its PTY is open: a closed one's number is reused. */
  tty?: string | null;
}

/**
 * The processes of one session in `table`. Never includes this process, its process group, or pid 1.
 * `extra` are processes seen in the tree earlier (kept if their start time still matches).
 */
export function sessionTree(
  root: TreeRoot,
  table: Map<number, ProcStat>,
  markers: EnvMarkerCache,
  extra: Iterable<ProcStat> = [],
): ProcStat[] {
  const self = table.get(process.pid);
  const forbiddenPgid = self?.pgid ?? -1;
  const members = new Map<number, ProcStat>();
  const add = (p: ProcStat) => {
    if (p.pid === process.pid || p.pid <= 1 || p.pgid === forbiddenPgid) return;
    if (p.start_ticks < root.start_ticks) return; // older than the session: cannot be ours
    members.set(p.pid, p);
  };

  const rootStat = table.get(root.pid);
  const rootAlive = rootStat !== undefined && rootStat.start_ticks === root.start_ticks;
  if (rootAlive) add(rootStat);

  const children = new Map<number, ProcStat[]>();
  for (const p of table.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
    if (rootAlive && p.sid === root.pid) add(p);
    if (markers.sessionOf(p) === root.session_id) add(p);
    if (root.tty && p.start_ticks >= root.start_ticks && markers.holdsTty(p, root.tty)) add(p);
  }
  for (const p of extra) {
    const now = table.get(p.pid);
    if (now && now.start_ticks === p.start_ticks) add(now);
  }
  // Descendants by PPID, and whole process groups of members, to a fixed point.
  let grew = true;
  while (grew) {
    grew = false;
    const pgids = new Set([...members.values()].map((m) => m.pgid));
    for (const p of table.values()) {
      if (members.has(p.pid)) continue;
      const parent = members.get(p.ppid);
      if (parent || (pgids.has(p.pgid) && p.pgid !== forbiddenPgid)) {
        const before = members.size;
        add(p);
        if (members.size > before) grew = true;
      }
    }
  }
  return [...members.values()];
}

function isGone(p: ProcStat): boolean {
  const now = readStat(p.pid);
  return now === null || now.start_ticks !== p.start_ticks || now.state === 'Z' || now.state === 'X';
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** A container whose members die together (a session cgroup): the escalation cannot be outrun. */
export interface KillableGroup {
  /** Any live member left. */
  populated(): boolean;
  /** SIGKILL every member at once; returns how (logged). */
  killAll(): string;
  /** Current member PIDs (for survivors reporting). */
  pids(): number[];
}

export interface KillTreeOptions {
  graceMs: number;
  /** Re-list the tree (to catch processes forked while we signal). */
  relist: () => ProcStat[];
  /** The session's cgroup, when it has one: done means it is empty too, and the escalation kills it whole. */
  group?: KillableGroup | null;
  log?: (event: string, fields: Record<string, unknown>) => void;
  pollMs?: number;
}

export interface KillTreeResult {
  signalled: number;
  escalated: number[];
  survivors: number[];
}

/**
 * SIGHUP then SIGTERM every process group of the tree (and each member, for members whose group
 * leader is outside), wait up to `graceMs` for them to go, then SIGKILL: the whole cgroup at once
 * when there is one, and each listed process whose start time still matches; log the escalation.
 * SIGHUP is what closing a terminal sends: interactive shells ignore SIGTERM but hang up (and pass the
 * hangup to their jobs), so a shell tab closes at once instead of waiting out the grace period.
 */
export async function killTree(initial: ProcStat[], options: KillTreeOptions): Promise<KillTreeResult> {
  const pollMs = options.pollMs ?? 50;
  const group = options.group ?? null;
  const known = new Map(initial.map((p) => [p.pid, p]));
  // Never signal our own process group (a member spawned without a new session shares it).
  const ownPgid = readStat(process.pid)?.pgid ?? process.pid;
  const termOnce = (list: Iterable<ProcStat>) => {
    for (const p of list) {
      if (isGone(p)) continue;
      // Group first (reaches members we have not listed yet), then the pid itself.
      if (p.pgid > 1 && p.pgid !== ownPgid) {
        signal(-p.pgid, 'SIGCONT');
        signal(-p.pgid, 'SIGHUP');
        signal(-p.pgid, 'SIGTERM');
      }
      signal(p.pid, 'SIGHUP');
      signal(p.pid, 'SIGTERM');
      signal(p.pid, 'SIGCONT'); // stopped processes must run to see the SIGTERM
    }
  };
  termOnce(known.values());
  const deadline = Date.now() + options.graceMs;
  for (;;) {
    for (const p of options.relist()) {
      if (!known.has(p.pid)) {
        known.set(p.pid, p);
        termOnce([p]);
      }
    }
    const alive = [...known.values()].filter((p) => !isGone(p));
    if (alive.length === 0 && !group?.populated())
      return { signalled: known.size, escalated: [], survivors: [] };
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  // Last listing right before the escalation, so the log names everything it kills.
  for (const p of options.relist()) if (!known.has(p.pid)) known.set(p.pid, p);
  const escalated: number[] = [];
  let method = 'sigkill';
  if (group?.populated()) {
    for (const pid of group.pids())
      if (!known.has(pid) || !isGone(known.get(pid) as ProcStat)) escalated.push(pid);
    method = group.killAll();
  }
  for (const p of known.values()) {
    if (isGone(p)) continue;
    // Re-check the start time right before the SIGKILL: never signal a recycled PID.
    const now = readStat(p.pid);
    if (!now || now.start_ticks !== p.start_ticks) continue;
    if (signal(p.pid, 'SIGKILL') && !escalated.includes(p.pid)) escalated.push(p.pid);
  }
  if (escalated.length > 0)
    options.log?.('process-tree.sigkill', {
      pids: escalated,
      comms: escalated.map((pid) => known.get(pid)?.comm ?? readStat(pid)?.comm),
      grace_ms: options.graceMs,
      method,
    });
  const killDeadline = Date.now() + 2000;
  let survivors: number[] = [];
  do {
    await new Promise((r) => setTimeout(r, pollMs));
    survivors = [...known.values()].filter((p) => !isGone(p)).map((p) => p.pid);
    if (group?.populated()) for (const pid of group.pids()) if (!survivors.includes(pid)) survivors.push(pid);
  } while (survivors.length > 0 && Date.now() < killDeadline);
  return { signalled: known.size, escalated, survivors };
}

export interface RecordedTree {
  session_id: string;
  pid: number;
  pgid: number;
  start_ticks: number;
  boot_id: string;
}

/** `list` plus the members of `group` it lacks (never this process). */
export function withGroupMembers(
  list: ProcStat[],
  group: Pick<KillableGroup, 'pids'> | null | undefined,
  table?: Map<number, ProcStat>,
): ProcStat[] {
  if (!group) return list;
  const have = new Set(list.map((p) => p.pid));
  for (const pid of group.pids()) {
    if (have.has(pid) || pid === process.pid) continue;
    const stat = table?.get(pid) ?? readStat(pid);
    if (stat) list.push(stat);
  }
  return list;
}

/**
 * For recovery after a crash of AutoDev (or of its PTY host): kill what is left of a session's tree
 * recorded by `onDidSpawn`. Spares everything when the machine rebooted since (boot id differs) and
 * any PID whose start time does not match (recycled); processes found by the session's env marker are
 * ours for sure, and so is every member of the session's cgroup when the process that owned it is
 * gone (the cgroup is then removed).
 */
export async function killRecordedTree(
  record: RecordedTree,
  options: {
    graceMs?: number;
    log?: KillTreeOptions['log'];
    cgroupHost?: CgroupHost | { reason: string };
  } = {},
): Promise<KillTreeResult> {
  if (record.boot_id !== bootId()) return { signalled: 0, escalated: [], survivors: [] };
  const markers = new EnvMarkerCache();
  const orphan = orphanedSessionCgroup(record.session_id, options.cgroupHost);
  const group = orphan?.cgroup ?? null;
  const list = () => {
    const table = scanProcesses();
    return withGroupMembers(sessionTree(record, table, markers), group, table);
  };
  const initial = list();
  let result: KillTreeResult = { signalled: 0, escalated: [], survivors: [] };
  if (initial.length > 0 || group?.populated()) {
    options.log?.('process-tree.recovered-kill', {
      session_id: record.session_id,
      pids: initial.map((p) => p.pid),
      cgroup: group?.dir ?? null,
    });
    result = await killTree(initial, {
      graceMs: options.graceMs ?? 3000,
      relist: list,
      group,
      ...(options.log ? { log: options.log } : {}),
    });
  }
  if (orphan && (await orphan.cgroup.removeWhenEmpty())) removeEmptyRunDir(orphan.runDir);
  return result;
}
