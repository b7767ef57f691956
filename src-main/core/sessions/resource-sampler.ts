import { readdirSync } from 'node:fs';
import type { ResourceUsage } from '../../../src-shared/session.ts';
import {
  CLOCK_TICKS_PER_SECOND,
  EnvMarkerCache,
  PAGE_SIZE,
  type ProcStat,
  scanProcesses,
  sessionTree,
  type TreeRoot,
} from './process-tree.ts';
import { cgroupPids, sessionCgroupDirOf } from './session-cgroup.ts';

export interface TreeSample {
  usage: ResourceUsage;
  members: ProcStat[];
}

/**
 * Resource usage of whole process trees from one /proc scan per tick, shared by all sessions (the
 * manager runs one timer for everything, never per output chunk). CPU% is the tree's CPU time over the
 * wall time since the previous sample, so 100 = one full core. A session with a cgroup counts all its
 * members, also those that hid from the /proc lookups (setsid, `env -i`, closed fds).
 */
export class TreeSampler {
  private _markers = new EnvMarkerCache();
  private _prevCpu = new Map<string, number>();
  private _prevAt = 0;
  /** Session cgroup per root (pid:start ticks), found once from /proc/<pid>/cgroup. */
  private _cgroups = new Map<string, string>();

  sample(roots: (TreeRoot & { extra?: ProcStat[] })[], now = Date.now()): Map<string, TreeSample> {
    const table = scanProcesses();
    this._markers.prune(table);
    const dtSeconds = this._prevAt > 0 ? (now - this._prevAt) / 1000 : 0;
    this._prevAt = now;
    const nextCpu = new Map<string, number>();
    const out = new Map<string, TreeSample>();
    const sampledAt = new Date(now).toISOString();
    const cgroups = new Map<string, string>();
    for (const root of roots) {
      const key = `${root.pid}:${root.start_ticks}`;
      // Not cached while absent: the agent may not have joined yet, or has no cgroup.
      const cgroup = this._cgroups.get(key) ?? sessionCgroupDirOf(root.pid);
      if (cgroup) cgroups.set(key, cgroup);
      const extra = [...(root.extra ?? [])];
      for (const pid of cgroup ? cgroupPids(cgroup) : []) {
        const stat = table.get(pid);
        if (stat && pid !== process.pid) extra.push(stat);
      }
      const members = sessionTree(root, table, this._markers, extra);
      let rssPages = 0;
      let cpuDelta = 0;
      let threads = 0;
      let fds = 0;
      for (const p of members) {
        rssPages += p.rss_pages;
        threads += p.num_threads;
        fds += countFds(p.pid);
        const key = `${p.pid}:${p.start_ticks}`;
        nextCpu.set(key, p.cpu_ticks);
        const before = this._prevCpu.get(key);
        // A process born since the last sample: count its CPU since birth within the window.
        cpuDelta += before === undefined ? 0 : Math.max(0, p.cpu_ticks - before);
      }
      const cpuPercent = dtSeconds > 0 ? (cpuDelta / CLOCK_TICKS_PER_SECOND / dtSeconds) * 100 : 0;
      out.set(root.session_id, {
        members,
        usage: {
          memory_mb: Math.round(((rssPages * PAGE_SIZE) / (1024 * 1024)) * 10) / 10,
          cpu_percent: Math.round(cpuPercent * 10) / 10,
          num_fds: fds,
          num_threads: threads,
          num_processes: members.length,
          sampled_at: sampledAt,
        },
      });
    }
    this._prevCpu = nextCpu;
    this._cgroups = cgroups;
    return out;
  }
}

function countFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}
