import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { ensureBuilt, ensureDisplay, findElectronBinary, ROOT } from './electron-binary.ts';

/**
 * Field notes §7 fault 6 on a packaged app: the fuses are burnt in (after-pack hook) and
 * ELECTRON_RUN_AS_NODE, NODE_OPTIONS, --inspect and --remote-debugging-port run nothing and open no
 * port. Needs a real Electron to package; skips with the reason elsewhere.
 */
// @electron/fuses' FuseState values ('0' / '1' in the fuse wire); the enum is not exported at runtime.
const FuseState = { DISABLE: 48, ENABLE: 49 } as const;

const binary = findElectronBinary();
const skipReason =
  'reason' in binary ? `Electron binary not available on this machine: ${binary.reason}` : null;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs the packaged app for up to `ms`, probing `port`; returns whether the port ever opened. */
async function runFor(bin: string, args: string[], env: NodeJS.ProcessEnv, ms: number, port?: number) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let opened = false;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && child.exitCode === null) {
    if (port !== undefined && (await portOpen(port))) opened = true;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (child.exitCode === null) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }
  return { opened, output, exitCode: child.exitCode };
}

test('packaged app: fuses set; RUN_AS_NODE, NODE_OPTIONS, --inspect, --remote-debugging-port run nothing', async (t) => {
  if (skipReason) return t.skip(skipReason);
  ensureBuilt();
  const work = mkdtempSync(path.join(os.tmpdir(), 'autodev-fuses-'));
  const display = await ensureDisplay();
  t.after(() => {
    display.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const dist = path.dirname((binary as { path: string }).path);
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'scripts/package-smoke.mjs'), '--out', work, '--skip-build', '--electron-dist', dist],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  assert.equal(r.status, 0, r.stderr.slice(-3000));
  const { appOutDir, builderLog } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.match(builderLog, /\[after-pack\] Electron fuses set/);
  const app = path.join(appOutDir, 'autodev');

  const wire = await getCurrentFuseWire(app);
  assert.equal(wire[FuseV1Options.RunAsNode], FuseState.DISABLE);
  assert.equal(wire[FuseV1Options.EnableCookieEncryption], FuseState.ENABLE);
  assert.equal(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable], FuseState.DISABLE);
  assert.equal(wire[FuseV1Options.EnableNodeCliInspectArguments], FuseState.DISABLE);
  assert.equal(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation], FuseState.ENABLE);
  assert.equal(wire[FuseV1Options.OnlyLoadAppFromAsar], FuseState.ENABLE);

  const marker = path.join(work, 'pwned');
  const evil = path.join(work, 'evil.cjs');
  writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`);
  const userData = path.join(work, 'userData');
  const env = { ...process.env, DISPLAY: display.display, AUTODEV_USER_DATA_DIR: userData, HOME: userData };
  const rootArgs = process.getuid?.() === 0 ? ['--no-sandbox'] : [];

  await runFor(
    app,
    ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`, ...rootArgs],
    { ...env, ELECTRON_RUN_AS_NODE: '1' },
    8000,
  );
  assert.equal(existsSync(marker), false, 'ELECTRON_RUN_AS_NODE ran code');
  await runFor(app, rootArgs, { ...env, NODE_OPTIONS: `--require ${evil}` }, 8000);
  assert.equal(existsSync(marker), false, 'NODE_OPTIONS ran code');

  const inspectPort = await freePort();
  const inspect = await runFor(app, [`--inspect=${inspectPort}`, ...rootArgs], env, 8000, inspectPort);
  assert.equal(inspect.opened, false, '--inspect opened a port');
  const debugPort = await freePort();
  const debug = await runFor(
    app,
    [`--remote-debugging-port=${debugPort}`, ...rootArgs],
    env,
    8000,
    debugPort,
  );
  assert.equal(debug.opened, false, '--remote-debugging-port opened a port');
  assert.match(debug.output, /refusing to start with --remote-debugging-port/);
});
