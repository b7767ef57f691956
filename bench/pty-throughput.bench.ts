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
const ROUNDS = Number(process.env.BENCH_PTY_ROUNDS ?? 2);
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
    ...(detectorFactory ? { detectorFactory } : {}),
  });
}

async function rawRun(): Promise<{ mbps: number; chars: number }> {
  const started = performance.now();
  const p = ptySpawn(process.execPath, [flood, String(MB)], {
    cols: 120,
    rows: 32,
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color' },
  });
  let chars = 0;
  p.onData((d) => {
    chars += d.length;
  });
  await new Promise<void>((resolve) => p.onExit(() => resolve()));
  const seconds = (performance.now() - started) / 1000;
  return { mbps: chars / 1048576 / seconds, chars };
}

async function sessionRun(manager: SessionManager): Promise<{ mbps: number; chars: number }> {
  const started = performance.now();
  let id = '';
  let chars = 0;
  const exited = new Promise<void>((resolve) => {
    const sub = manager.onDidExit((s) => {
      if (s.session_id === id) {
        sub.dispose();
        resolve();
      }
    });
  });
  const pending: string[] = [];
  const unsubscribe = manager.onDidCreate((s) => {
    if (!id) {
      id = s.session_id;
      // The consumer: flow-controlled, acks as soon as it has the data (a renderer that keeps up).
      const attachment = manager.attach(id, {
        flowControlled: true,
        onData: (chunk) => {
          chars += chunk.data.length;
          attachment.ack(chunk.data.length);
        },
      });
    }
  });
  await manager.create({ cli_tool: 'flood' });
  unsubscribe.dispose();
  await exited;
  void pending;
  const seconds = (performance.now() - started) / 1000;
  manager.remove(id);
  return { mbps: chars / 1048576 / seconds, chars };
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
    await new Promise((r) => setTimeout(r, 2 + (i % 5)));
  }
  await manager.terminate(id);
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const fmt = (n: number) => n.toFixed(1);
const withMirror = managerWith();
const withoutMirror = managerWith(createPassiveDetector);
const raw: number[] = [];
const session: number[] = [];
const noMirror: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const r = await rawRun();
  raw.push(r.mbps);
  console.log(`round ${round + 1}: raw node-pty      ${fmt(r.mbps)} MB/s (${fmt(r.chars / 1048576)} MB)`);
  const s = await sessionRun(withMirror);
  session.push(s.mbps);
  console.log(`round ${round + 1}: session + mirror  ${fmt(s.mbps)} MB/s (${fmt(s.chars / 1048576)} MB)`);
  const n = await sessionRun(withoutMirror);
  noMirror.push(n.mbps);
  console.log(`round ${round + 1}: session, no mirror ${fmt(n.mbps)} MB/s (${fmt(n.chars / 1048576)} MB)`);
}
const best = (xs: number[]) => Math.max(...xs);
const ratio = best(session) / best(raw);
const ratioNoMirror = best(noMirror) / best(raw);
const echo = await echoLatency(withMirror);
await withMirror.shutdown();
await withoutMirror.shutdown();
clearInterval(rssTimer);
const rssPeakMb = Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1048576;
console.log(
  `throughput (best of ${ROUNDS}, ${MB} MB): raw ${fmt(best(raw))} MB/s, session ${fmt(best(session))} MB/s (ratio ${ratio.toFixed(2)}, target >= 0.8), without mirror ${fmt(best(noMirror))} MB/s (ratio ${ratioNoMirror.toFixed(2)})`,
);
console.log(
  `echo latency (${ECHO_SAMPLES} keys to cat): p50 ${echo.p50.toFixed(2)} ms, p99 ${echo.p99.toFixed(2)} ms`,
);
console.log(`peak RSS ${fmt(rssPeakMb)} MB`);
console.log(
  [
    `pty_raw_mbps=${fmt(best(raw))}`,
    `pty_session_mbps=${fmt(best(session))}`,
    `pty_ratio=${ratio.toFixed(2)}`,
    `pty_nomirror_mbps=${fmt(best(noMirror))}`,
    `pty_nomirror_ratio=${ratioNoMirror.toFixed(2)}`,
    `echo_p50_ms=${echo.p50.toFixed(2)}`,
    `echo_p99_ms=${echo.p99.toFixed(2)}`,
    `pty_rss_peak_mb=${fmt(rssPeakMb)}`,
  ].join(' '),
);
