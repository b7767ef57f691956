// PTY throughput and keystroke echo latency: 200 MB (BENCH_PTY_MB) of SGR-coloured lines through a
// session (PTY → SessionManager with its headless mirror → a flow-controlled consumer) against raw
// node-pty in the same run, plus the same without the mirror (to attribute its cost); echo latency of
// a key written to `cat` in raw mode until it comes back to the consumer; peak RSS.
// Prints its figures, then one `key=value` line (bench/run.mjs merges those).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn as ptySpawn } from 'node-pty';
import type { ProviderDefinition, ProviderRegistry } from '../src-main/core/providers/types.ts';
import {
  createPassiveDetector,
  createSessionManager,
  type DetectorFactory,
} from '../src-main/core/sessions/index.ts';
import type { SessionManager } from '../src-main/core/sessions/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const flood = path.join(root, 'test/fixtures/agents/proc-flood.mjs');
const MB = Number(process.env.BENCH_PTY_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_PTY_ROUNDS ?? 3);
const ECHO_SAMPLES = Number(process.env.BENCH_ECHO_SAMPLES ?? 300);

let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

function def(id: string, binary: string, args: string[]): ProviderDefinition {
  return {
    id,
    name: id,
    binary,
    interactive_args: args,
    full_access_args: [],
    one_shot: null,
    env_keys: [],
    version_args: [],
    bracketed_paste: false,
    screen_rules: [],
    title_rules: [],
    stability_ms: 1000,
  };
}
const defs = [
  def('flood', process.execPath, [flood, String(MB)]),
  def('cat', '/bin/sh', ['-c', 'stty raw -echo; exec cat']),
];
const registry: ProviderRegistry = {
  get: (id) => defs.find((d) => d.id === id),
  list: () => defs,
  resolveBinary: async (id) => {
    const d = defs.find((x) => x.id === id) as ProviderDefinition;
    return { provider_id: id, binary: d.binary, path: d.binary, error: null };
  },
};

function managerWith(detectorFactory?: DetectorFactory): SessionManager {
  return createSessionManager({
    providers: registry,
    loginPath: async () => process.env.PATH ?? '/usr/bin:/bin',
    limits: { idle_timeout_s: null },
    // "No mirror": a detector that acks at once, fed without coalescing (the pipeline's own cost).
    ...(detectorFactory ? { detectorFactory, mirror: { coalesceMs: 0 } } : {}),
  });
}

interface Run {
  /** Bytes over the time to the last byte delivered (exit bookkeeping excluded: reported apart). */
  mbps: number;
  /** From the last byte to the exit event (the session waits for the tail; see pty-process.ts). */
  exitMs: number;
  chars: number;
  /** CPU seconds this process spent per 100 MB (the agent's own CPU is not counted). */
  cpuPer100: number;
}

async function rawRun(): Promise<Run> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const p = ptySpawn(process.execPath, [flood, String(MB)], {
    cols: 120,
    rows: 32,
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color' },
  });
  let chars = 0;
  let lastAt = started;
  p.onData((d) => {
    chars += d.length;
    lastAt = performance.now();
  });
  await new Promise<void>((resolve) => p.onExit(() => resolve()));
  return finish(started, lastAt, cpu, chars);
}

function finish(started: number, lastAt: number, cpu: NodeJS.CpuUsage, chars: number): Run {
  const seconds = (lastAt - started) / 1000;
  const used = process.cpuUsage(cpu);
  const mb = chars / 1048576;
  return {
    mbps: mb / seconds,
    exitMs: performance.now() - lastAt,
    chars,
    cpuPer100: ((used.user + used.system) / 1e6 / mb) * 100,
  };
}

async function sessionRun(manager: SessionManager): Promise<Run> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let id = '';
  let chars = 0;
  let lastAt = started;
  const exited = new Promise<void>((resolve) => {
    const sub = manager.onDidExit((s) => {
      if (s.session_id === id) {
        sub.dispose();
        resolve();
      }
    });
  });
  const unsubscribe = manager.onDidCreate((s) => {
    if (!id) {
      id = s.session_id;
      // The consumer: flow-controlled, acks as soon as it has the data (a renderer that keeps up).
      const attachment = manager.attach(id, {
        flowControlled: true,
        onData: (chunk) => {
          chars += chunk.data.length;
          lastAt = performance.now();
          attachment.ack(chunk.data.length);
        },
      });
    }
  });
  await manager.create({ cli_tool: 'flood' });
  unsubscribe.dispose();
  await exited;
  const run = finish(started, lastAt, cpu, chars);
  manager.remove(id);
  return run;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
}

async function echoLatency(manager: SessionManager): Promise<{ p50: number; p99: number }> {
  const info = await manager.create({ cli_tool: 'cat' });
  const id = info.session_id;
  let waiter: ((data: string) => void) | null = null;
  manager.attach(id, { flowControlled: false, onData: (c) => waiter?.(c.data) });
  // Wait for `exec cat` (after stty raw -echo): cat itself echoes, as an agent's input box would.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      if (readFileSync(`/proc/${info.pid}/comm`, 'utf8').trim() === 'cat') break;
    } catch {}
    await new Promise((r) => setTimeout(r, 10));
  }
  const samples: number[] = [];
  const keys = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < ECHO_SAMPLES; i++) {
    const key = keys[i % keys.length] as string;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiter = (data) => {
        if (data.includes(key)) {
          waiter = null;
          resolve();
        }
      };
      manager.input(id, key);
    });
    samples.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10 + (i % 20))); // a fast typist: 30–100 keys/s
  }
  await manager.terminate(id);
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** The same measurement straight on node-pty, for comparison. */
async function rawEchoLatency(): Promise<{ p50: number; p99: number }> {
  const p = ptySpawn('/bin/sh', ['-c', 'stty raw -echo; exec cat'], {
    cols: 120,
    rows: 32,
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color' },
  });
  let waiter: ((data: string) => void) | null = null;
  p.onData((d) => waiter?.(d));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      if (readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() === 'cat') break;
    } catch {}
    await new Promise((r) => setTimeout(r, 10));
  }
  const samples: number[] = [];
  for (let i = 0; i < ECHO_SAMPLES; i++) {
    const key = String.fromCharCode(97 + (i % 26));
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiter = (data) => {
        if (data.includes(key)) {
          waiter = null;
          resolve();
        }
      };
      p.write(key);
    });
    samples.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10 + (i % 20))); // a fast typist: 30–100 keys/s
  }
  p.kill('SIGKILL');
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const fmt = (n: number) => n.toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const withMirror = managerWith();
const withoutMirror = managerWith(createPassiveDetector);
const runs: Record<'raw' | 'session' | 'noMirror', Run[]> = { raw: [], session: [], noMirror: [] };
const label = { raw: 'raw node-pty       ', session: 'session + mirror   ', noMirror: 'session, no mirror ' };
// The machine is shared: rotate the order each round and compare within rounds (median of ratios).
const orders: (keyof typeof runs)[][] = [
  ['raw', 'session', 'noMirror'],
  ['session', 'noMirror', 'raw'],
  ['noMirror', 'raw', 'session'],
];
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of orders[round % orders.length] as (keyof typeof runs)[]) {
    const r =
      kind === 'raw' ? await rawRun() : await sessionRun(kind === 'session' ? withMirror : withoutMirror);
    runs[kind].push(r);
    console.log(
      `round ${round + 1}: ${label[kind]} ${fmt(r.mbps)} MB/s (${fmt(r.chars / 1048576)} MB, ${r.cpuPer100.toFixed(2)} CPU-s/100 MB here, exit ${r.exitMs.toFixed(0)} ms after the last byte)`,
    );
  }
}
const ratios = runs.session.map((s, i) => s.mbps / (runs.raw[i] as Run).mbps);
const ratiosNoMirror = runs.noMirror.map((s, i) => s.mbps / (runs.raw[i] as Run).mbps);
const ratio = median(ratios);
const ratioNoMirror = median(ratiosNoMirror);
const best = (xs: Run[]) => Math.max(...xs.map((r) => r.mbps));
const cpu = (xs: Run[]) => median(xs.map((r) => r.cpuPer100));
const echo = await echoLatency(withMirror);
const rawEcho = await rawEchoLatency();
await withMirror.shutdown();
await withoutMirror.shutdown();
clearInterval(rssTimer);
const rssPeakMb = Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1048576;
console.log(
  `throughput (${ROUNDS} rounds, ${MB} MB each): raw best ${fmt(best(runs.raw))} MB/s, session best ${fmt(best(runs.session))} MB/s; median per-round ratio ${ratio.toFixed(2)} (target >= 0.8), without mirror ${ratioNoMirror.toFixed(2)}`,
);
console.log(
  `CPU of this process per 100 MB (median): raw ${cpu(runs.raw).toFixed(2)} s, session ${cpu(runs.session).toFixed(2)} s, no mirror ${cpu(runs.noMirror).toFixed(2)} s`,
);
console.log(
  `echo latency (${ECHO_SAMPLES} keys to cat): p50 ${echo.p50.toFixed(2)} ms, p99 ${echo.p99.toFixed(2)} ms`,
);
console.log(`peak RSS ${fmt(rssPeakMb)} MB`);
console.log(
  [
    `pty_raw_mbps=${fmt(best(runs.raw))}`,
    `pty_session_mbps=${fmt(best(runs.session))}`,
    `pty_ratio=${ratio.toFixed(2)}`,
    `pty_nomirror_ratio=${ratioNoMirror.toFixed(2)}`,
    `pty_cpu_raw_s_per_100mb=${cpu(runs.raw).toFixed(2)}`,
    `pty_cpu_session_s_per_100mb=${cpu(runs.session).toFixed(2)}`,
    `pty_session_exit_ms=${median(runs.session.map((r) => r.exitMs)).toFixed(0)}`,
    `echo_p50_ms=${echo.p50.toFixed(2)}`,
    `echo_p99_ms=${echo.p99.toFixed(2)}`,
    `echo_raw_p50_ms=${rawEcho.p50.toFixed(2)}`,
    `echo_raw_p99_ms=${rawEcho.p99.toFixed(2)}`,
    `pty_rss_peak_mb=${fmt(rssPeakMb)}`,
  ].join(' '),
);
