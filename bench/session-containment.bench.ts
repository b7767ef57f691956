// Session containment: what a cgroup per session costs and buys, against the /proc fallback in the
// same run. Per mode, BENCH_CONTAIN_N sessions of `/bin/sh` (real PTYs):
//  - spawn: create() until the agent's first output (the cgroup wrapper is one extra `sh` exec);
//  - terminate: a plain agent (ends on the hangup, no escalation);
//  - escalation: an agent that left a setsid, `env -i`, closed-fd, SIGTERM/SIGHUP-ignoring daemon,
//    with a 500 ms grace: how long after the grace the daemon is gone, and how many the mode missed.
// Prints its figures, then one `key=value` line (bench/run.mjs merges those).
import { readdirSync, readFileSync } from 'node:fs';
import type { ProviderDefinition, ProviderRegistry } from '../src-main/core/providers/types.ts';
import { createPassiveDetector, createSessionManager } from '../src-main/core/sessions/index.ts';
import {
  createSessionContainment,
  type SessionContainment,
} from '../src-main/core/sessions/session-containment.ts';

const N = Number(process.env.BENCH_CONTAIN_N ?? 20);
const GRACE_MS = 500;
const tok = String(100_000 + Math.floor(Math.random() * 900_000));

function def(id: string, script: string): ProviderDefinition {
  return {
    id,
    name: id,
    binary: '/bin/sh',
    interactive_args: ['-c', script],
    full_access_args: [],
    one_shot: null,
    env_keys: [],
    version_args: [],
    bracketed_paste: false,
    screen_rules: [],
    title_rules: [],
    stability_ms: 500,
  };
}
const defs = [
  def('plain', 'echo up; exec sleep 1000'),
  def(
    'leaver',
    `setsid -f env -i sh -c 'exec <&- >&- 2>&-; trap "" TERM HUP; exec sleep 1020.${tok}'; echo up; exec sleep 1000`,
  ),
];
const providers: ProviderRegistry = {
  get: (id) => defs.find((d) => d.id === id),
  list: () => defs,
  resolveBinary: async (id) => ({ provider_id: id, binary: '/bin/sh', path: '/bin/sh', error: null }),
};

function daemons(): number[] {
  const want = `sleep\u00001020.${tok}\u0000`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        return state !== 'Z' && readFileSync(`/proc/${p}/cmdline`, 'latin1') === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};

async function runMode(containment: SessionContainment) {
  const manager = createSessionManager({
    providers,
    loginPath: async () => process.env.PATH ?? '/usr/bin:/bin',
    detectorFactory: createPassiveDetector,
    limits: { terminate_grace_ms: GRACE_MS, max_sessions: 5 },
    containment,
  });
  const spawnMs: number[] = [];
  const terminateMs: number[] = [];
  const overshootMs: number[] = [];
  let missed = 0;
  for (let i = 0; i < N * 2; i++) {
    const kind = i % 2 ? 'leaver' : 'plain';
    const before = new Set(daemons());
    let id = '';
    let upAt = 0;
    const t0 = performance.now();
    const up = new Promise<void>((resolve) => {
      const sub = manager.onOutput((c) => {
        if (c.session_id === id && c.data.includes('up')) {
          upAt = performance.now();
          sub.dispose();
          resolve();
        }
      });
    });
    id = (await manager.create({ cli_tool: kind })).session_id;
    await up;
    spawnMs.push(upAt - t0);
    let daemon: number | undefined;
    if (kind === 'leaver')
      for (let tries = 0; daemon === undefined && tries < 200; tries++) {
        daemon = daemons().find((p) => !before.has(p));
        if (daemon === undefined) await new Promise((r) => setTimeout(r, 5));
      }
    const t1 = performance.now();
    let goneAt = Number.NaN;
    const watch =
      daemon === undefined
        ? null
        : setInterval(() => {
            if (Number.isNaN(goneAt) && !daemons().includes(daemon)) goneAt = performance.now();
          }, 5);
    await manager.terminate(id);
    if (kind === 'plain') terminateMs.push(performance.now() - t1);
    if (watch) {
      await new Promise((r) => setTimeout(r, 200));
      clearInterval(watch);
      if (Number.isNaN(goneAt)) {
        missed++;
        try {
          process.kill(daemon as number, 'SIGKILL');
        } catch {}
      } else overshootMs.push(goneAt - t1 - GRACE_MS);
    }
    manager.remove(id);
  }
  await manager.shutdown();
  return {
    spawn: median(spawnMs),
    terminate: median(terminateMs),
    overshoot: median(overshootMs),
    missed,
  };
}

const cg = createSessionContainment();
const fb = createSessionContainment({ cgroups: 'off' });
// Fallback first, then cgroup, so a cold start does not favour the second mode.
const fallback = await runMode(fb);
const withCgroup = cg.mode === 'cgroup' ? await runMode(cg) : null;
const f = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? 'na' : n.toFixed(1));
if (withCgroup)
  console.log(
    `cgroup:   spawn→first output p50 ${f(withCgroup.spawn)} ms, terminate p50 ${f(withCgroup.terminate)} ms, ` +
      `ignorer gone ${f(withCgroup.overshoot)} ms after the ${GRACE_MS} ms grace (p50), missed ${withCgroup.missed}/${N}`,
  );
else console.log(`cgroup:   unavailable here (${cg.fallbackReason})`);
console.log(
  `fallback: spawn→first output p50 ${f(fallback.spawn)} ms, terminate p50 ${f(fallback.terminate)} ms, ` +
    `missed ${fallback.missed}/${N} closed-fd env -i daemons`,
);
console.log(
  [
    `contain_spawn_ms_cgroup=${f(withCgroup?.spawn)}`,
    `contain_spawn_ms_fallback=${f(fallback.spawn)}`,
    `contain_spawn_ratio=${withCgroup ? (withCgroup.spawn / fallback.spawn).toFixed(2) : 'na'}`,
    `contain_terminate_ms_cgroup=${f(withCgroup?.terminate)}`,
    `contain_terminate_ms_fallback=${f(fallback.terminate)}`,
    `contain_escalation_after_grace_ms=${f(withCgroup?.overshoot)}`,
    `contain_missed_cgroup=${withCgroup ? withCgroup.missed : 'na'}`,
    `contain_missed_fallback=${fallback.missed}`,
  ].join(' '),
);
