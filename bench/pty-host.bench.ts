/**
 * The PTY host (issue 12): what it costs to keep sessions outside the app.
 *   - reattach: a core with 50 live shell sessions closes keeping them; a new core starts and takes
 *     them all over (time from createCore to every session adopted);
 *   - throughput: ~BENCH_HOST_BYTES of output through one session, PTYs in the host process vs in this
 *     process (same run), counted at the core's output event (what persistence and viewers see).
 * Last line: key=value pairs for bench/run.mjs.
 *
 *   node bench/pty-host.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src-main/core/config.ts';
import { type Core, createCore } from '../src-main/core/core.ts';
import { createLogger } from '../src-main/core/log/logger.ts';

const SESSIONS = Number(process.env.BENCH_HOST_SESSIONS ?? 50);
const BYTES = Number(process.env.BENCH_HOST_BYTES ?? 50_000_000);
const quiet = createLogger({ level: 'error', sink: () => {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function open(dir: string, ptyHost: 'process' | 'in-process'): Promise<Core> {
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    SHELL: '/bin/bash',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
  };
  return createCore(loadConfig({ dataDir: dir, env }), {
    env,
    tasks: false,
    logger: quiet,
    ptyHost,
    manager: { loginPath: async () => env.PATH ?? '', limits: { max_sessions: SESSIONS + 5 } },
  });
}

async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

async function reattach(): Promise<{ ms: number; adopted: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-host-'));
  try {
    const first = await open(dir, 'process');
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i++)
      ids.push(
        (await first.sessions.create({ cli_tool: 'shell', env: { HOME: dir, PS1: '$ ' } })).session_id,
      );
    await until(() => ids.every((id) => (first.sessions.get(id)?.last_seq ?? 0) > 0), 60_000, 'prompts');
    await first.close({ keepSessions: true });
    const t0 = performance.now();
    const second = await open(dir, 'process');
    const ms = performance.now() - t0;
    const adopted = second.sessions.list().filter((s) => ids.includes(s.session_id) && !s.ended_at).length;
    await second.close({ keepSessions: false });
    return { ms, adopted };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughput(mode: 'process' | 'in-process'): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-host-'));
  const core = await open(dir, mode);
  try {
    const s = await core.sessions.create({
      cli_tool: 'shell',
      env: { HOME: dir, PS1: '$ ' },
      cols: 200,
      rows: 50,
    });
    let tail = '';
    core.sessions.onOutput((c) => {
      if (c.session_id === s.session_id) tail = (tail + c.data).slice(-100);
    });
    await until(() => (core.sessions.get(s.session_id)?.last_seq ?? 0) > 0, 10_000, 'prompt');
    const t0 = performance.now();
    core.sessions.input(
      s.session_id,
      `head -c ${BYTES} /dev/zero | tr '\\0' x | fold -w 200; echo END-$((40+2))\r`,
    );
    await until(() => tail.includes('END-42'), 600_000, 'end marker');
    return BYTES / 1e6 / ((performance.now() - t0) / 1000);
  } finally {
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const r = await reattach();
console.log(
  `reattach: ${r.adopted}/${SESSIONS} sessions taken over in ${r.ms.toFixed(0)} ms (core start included)`,
);
const inProcess = await throughput('in-process');
const hosted = await throughput('process');
console.log(
  `output through the core: PTY host process ${hosted.toFixed(1)} MB/s, in-process ${inProcess.toFixed(1)} MB/s (ratio ${(hosted / inProcess).toFixed(2)})`,
);
console.log(
  `host_reattach_${SESSIONS}_ms=${r.ms.toFixed(0)} host_reattached=${r.adopted} host_output_mbps=${hosted.toFixed(2)} inprocess_output_mbps=${inProcess.toFixed(2)} host_vs_inprocess=${(hosted / inProcess).toFixed(2)}`,
);
process.exit(0);
