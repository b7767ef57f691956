import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc/<pid>/stat shows it, and the scans built on that (no policy here). */

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z, T… */
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** utime + stime in clock ticks. */
  cpu_ticks: number;
  num_threads: number;
  /** Start time in clock ticks since boot. */
  start_ticks: number;
  rss_pages: number;
}

export const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux (fixed by the kernel ABI)
export const PAGE_SIZE = 4096;

let bootIdCache: string | undefined;
export function bootId(): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = 'unknown';
    }
  }
  return bootIdCache;
}

export function parseStat(pid: number, text: string): ProcStat | null {
  // comm may contain spaces and parentheses: the fields start after the LAST ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field N is f[N - 3].
  const num = (field: number) => Number(f[field - 3]);
  return {
    pid,
    comm,
    state: f[0] ?? '?',
    ppid: num(4),
    pgid: num(5),
    sid: num(6),
    cpu_ticks: num(14) + num(15),
    num_threads: num(20),
    start_ticks: num(22),
    rss_pages: num(24),
  };
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** All processes visible now. */
export function scanProcesses(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const stat = readStat(pid);
    if (stat) out.set(pid, stat);
  }
  return out;
}
