import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Where `require('electron')` would point — worked out WITHOUT requiring it: since Electron 42 the
 * package downloads the binary on first require, which on an offline machine hangs or fails.
 */
export function findElectronBinary(): { path: string } | { reason: string } {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed' };
  }
  const pathFile = path.join(pkgDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  let candidate: string;
  if (override) candidate = path.join(override, relative ?? 'electron');
  else if (relative) candidate = path.join(pkgDir, 'dist', relative);
  else
    return {
      reason: `${path.relative(ROOT, pathFile)} does not exist (the binary was never downloaded: Electron ≥42 fetches it lazily and this machine has no network); set ELECTRON_OVERRIDE_DIST_PATH to a local Electron`,
    };
  if (!existsSync(candidate)) return { reason: `${candidate} does not exist` };
  const head = readFileSync(candidate).subarray(0, 4);
  if (head.toString('latin1').startsWith('#!'))
    return { reason: `${candidate} is a script, not the Electron binary` };
  return { path: candidate };
}

/** Build outputs the app loads: compiled main, preload bundle, renderer. Builds what is missing. */
export function ensureBuilt(): void {
  const node = process.execPath;
  if (!existsSync(path.join(ROOT, 'dist/src-main/electron/main.js')))
    spawnSync(node, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.node.json'], {
      cwd: ROOT,
    });
  if (!existsSync(path.join(ROOT, 'dist/preload/preload.cjs'))) {
    const r = spawnSync(node, [path.join(ROOT, 'src-preload/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`preload build failed: ${r.stderr}`);
  }
  if (!existsSync(path.join(ROOT, 'src-renderer/dist/index.html'))) {
    const r = spawnSync(
      node,
      [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
      {
        cwd: path.join(ROOT, 'src-renderer'),
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new Error(`renderer build failed: ${r.stderr}`);
  }
  for (const f of [
    'dist/src-main/electron/main.js',
    'dist/preload/preload.cjs',
    'src-renderer/dist/index.html',
  ])
    if (!existsSync(path.join(ROOT, f))) throw new Error(`missing build output ${f}`);
}

/** A display for Electron: the existing one, or a private Xvfb (stopped by the returned function). */
export async function ensureDisplay(): Promise<{ display: string; stop(): void }> {
  if (process.platform !== 'linux' || process.env['DISPLAY'])
    return { display: process.env['DISPLAY'] ?? '', stop() {} };
  const display = `:${90 + Math.floor(Math.random() * 400)}`;
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  const socket = `/tmp/.X11-unix/X${display.slice(1)}`;
  while (!existsSync(socket)) {
    if (xvfb.exitCode !== null || Date.now() > deadline) throw new Error('Xvfb did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    display,
    stop: () => {
      if (xvfb.exitCode === null) xvfb.kill('SIGTERM');
    },
  };
}
