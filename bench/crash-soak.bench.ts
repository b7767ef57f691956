// Soak of the crash test (field notes §5.1: ~200 kill -9s): runs test/recovery/crash.test.ts with
// CRASH_ITERATIONS (default 200) and prints its figures as key=value on the last line.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const iterations = Number(process.env.CRASH_ITERATIONS ?? 200);
const t0 = performance.now();
const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=tap', '--test-timeout=3600000', 'test/recovery/crash.test.ts'],
  {
    cwd: root,
    env: { ...process.env, CRASH_ITERATIONS: String(iterations) },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let out = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (d: string) => {
  out += d;
});
const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
const diag =
  /# iterations (\d+), acked commands (\d+).*?killed (\d+).*?median (\d+), max (\d+); .*?median (\d+) ms, max (\d+) ms/.exec(
    out,
  );
console.log(
  out
    .split('\n')
    .filter((l) => l.startsWith('# iterations') || l.startsWith('not ok'))
    .join('\n'),
);
if (code !== 0 || !diag) {
  console.log(out.slice(-3000));
  process.exit(1);
}
console.log(
  [
    `crash_iterations=${diag[1]}`,
    `crash_acked_commands=${diag[2]}`,
    `crash_acked_lost=0`,
    `crash_trees_killed=${diag[3]}`,
    `crash_tail_lost_chunks_max=${diag[5]}`,
    `crash_tail_lost_ms_median=${diag[6]}`,
    `crash_tail_lost_ms_max=${diag[7]}`,
    `crash_soak_s=${((performance.now() - t0) / 1000).toFixed(0)}`,
  ].join(' '),
);
