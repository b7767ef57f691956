// What a hook costs the agent and how fast AutoDev hears it: the relay run as an agent runs a hook
// (`/bin/sh -c '<relay command>'`, payload on stdin), timed until the session's detector holds the
// signal, and until the relay exits; the same with AutoDev's endpoint gone; against a bare
// `node -e 0` spawned the same way (the floor any Node relay pays), in the same run.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultProviders } from '../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../src-main/core/providers/types.ts';
import { createSignalService, type SessionSignalFusion } from '../src-main/core/signals/index.ts';
import { shellQuote } from '../src-main/core/signals/spawn-wiring.ts';

const RUNS = 30;
const claude = defaultProviders({}).find((p) => p.id === 'claude') as ProviderDefinition;
const dataDir = mkdtempSync(path.join(tmpdir(), 'autodev-bench-signals-'));

function runShell(command: string, env: Record<string, string>, stdin: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('exit', () => resolve(performance.now() - t0));
    child.stdin.end(stdin);
  });
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] as number;

const service = await createSignalService({ dataDir });
const sessionId = 'bench-session';
const detector = service.attach({ sessionId, provider: claude }) as SessionSignalFusion;
const env = {
  AUTODEV_SESSION_ID: sessionId,
  AUTODEV_SIGNAL_MAC: service.macFor(sessionId),
  AUTODEV_SIGNAL_MANIFEST: service.paths.manifest,
};
const relayCommand = [process.execPath, service.paths.relay, '--source', 'hooks'].map(shellQuote).join(' ');
const events = ['UserPromptSubmit', 'Stop'];

const heard: number[] = [];
const exited: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const event = events[i % 2] as string;
  const payload = JSON.stringify({
    hook_event_name: event,
    session_id: 'c1',
    tool_input: { big: 'x'.repeat(20_000) },
  });
  const t0 = performance.now();
  const heardAt = new Promise<number>((resolve) => {
    const poll = () =>
      detector.signal?.rule?.endsWith(event === 'Stop' ? 'stop' : 'prompt-submit')
        ? resolve(performance.now() - t0)
        : setTimeout(poll, 1);
    poll();
  });
  exited.push(await runShell(relayCommand, env, payload));
  heard.push(await heardAt);
}
const bare: number[] = [];
for (let i = 0; i < RUNS; i++) bare.push(await runShell(`${shellQuote(process.execPath)} -e 0`, {}, ''));
await service.close();
const down: number[] = [];
for (let i = 0; i < RUNS; i++) down.push(await runShell(relayCommand, env, '{"hook_event_name":"Stop"}'));
rmSync(dataDir, { recursive: true, force: true });

const f = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(0)} ms, p95 ${pct(xs, 95).toFixed(0)} ms`;
console.log(`hook → AutoDev holds the signal: ${f(heard)}`);
console.log(`relay run (hook cost to the agent): ${f(exited)}; bare node -e 0: ${f(bare)}`);
console.log(`relay run with AutoDev down: ${f(down)}`);
console.log(
  `signal_heard_p50_ms=${pct(heard, 50).toFixed(0)} signal_heard_p95_ms=${pct(heard, 95).toFixed(0)} ` +
    `relay_run_p50_ms=${pct(exited, 50).toFixed(0)} relay_vs_bare_node=${(pct(exited, 50) / pct(bare, 50)).toFixed(2)} ` +
    `relay_down_p95_ms=${pct(down, 95).toFixed(0)}`,
);
