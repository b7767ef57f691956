import type { Logger } from '../log/logger.ts';
import type { TreeRoot } from './process-tree.ts';
import type { TreeSampler } from './resource-sampler.ts';
import { checkLimits, type LimitBreach } from './session-limits.ts';
import type { SessionRecord } from './session-record.ts';
import type { ManagerLimits } from './types.ts';

/**
 * One tick of the shared /proc sampler (never per output chunk): every live session's tree usage,
 * its last activity, and the first limit it is over (the manager ends it).
 */
export function sampleSessions(
  sampler: TreeSampler,
  records: Iterable<SessionRecord>,
  options: { limits: ManagerLimits; cpuBreachSamples: number; log: Logger },
  onBreach: (rec: SessionRecord, breach: LimitBreach) => void,
): void {
  const live = [...records].filter((r) => !r.ended && r.spawned && !r.endAs && r.spawn);
  if (live.length === 0) return;
  let samples: ReturnType<TreeSampler['sample']>;
  try {
    samples = sampler.sample(live.map((r) => ({ ...(treeRoot(r) as TreeRoot), extra: r.knownTree })));
  } catch (error) {
    options.log.warn('resource sample failed', { error });
    return;
  }
  const t = Date.now();
  for (const rec of live) {
    const sample = samples.get(rec.info.session_id);
    if (sample) {
      rec.usage = sample.usage;
      if (sample.members.length > 0) rec.knownTree = sample.members;
    }
    rec.info.last_activity = new Date(rec.lastActivityMs).toISOString();
    const breach = checkLimits(rec, options.limits, t, options.cpuBreachSamples);
    if (breach) onBreach(rec, breach);
  }
}

function treeRoot(rec: SessionRecord): TreeRoot | null {
  if (!rec.spawn) return null;
  return { session_id: rec.info.session_id, pid: rec.spawn.pid, start_ticks: rec.spawn.start_ticks };
}
