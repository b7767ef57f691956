import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';

const require = createRequire(import.meta.url);
const hook = require('../../src-main/electron/packaging/after-pack.cjs') as {
  default(context: unknown): Promise<void>;
  FUSE_SENTINEL: string;
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ENABLE = 49; // '1'
const DISABLE = 48; // '0'

function context(appOutDir: string) {
  return {
    electronPlatformName: 'linux',
    appOutDir,
    arch: 1,
    packager: { appInfo: { productFilename: 'AutoDev' }, executableName: 'autodev' },
  };
}

test('after-pack flips the fuses of an Electron-like binary (fuse wire as Electron ships it)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-fuses-'));
  dirs.push(dir);
  // Electron's factory wire: RunAsNode on, cookie encryption off, NODE_OPTIONS on, inspect on,
  // asar integrity off, only-asar off, V8 snapshot off, file protocol privileges on.
  const wire = Buffer.from([1, 8, ENABLE, DISABLE, ENABLE, ENABLE, DISABLE, DISABLE, DISABLE, ENABLE]);
  const binary = path.join(dir, 'autodev');
  writeFileSync(
    binary,
    Buffer.concat([Buffer.alloc(4096, 7), Buffer.from(hook.FUSE_SENTINEL), wire, Buffer.alloc(4096, 9)]),
  );
  const logs: string[] = [];
  const original = console.log;
  console.log = (m: string) => logs.push(m);
  try {
    await hook.default(context(dir));
  } finally {
    console.log = original;
  }
  const fuses = (await getCurrentFuseWire(binary)) as unknown as Record<number, number>;
  assert.equal(fuses[FuseV1Options.RunAsNode], DISABLE);
  assert.equal(fuses[FuseV1Options.EnableCookieEncryption], ENABLE);
  assert.equal(fuses[FuseV1Options.EnableNodeOptionsEnvironmentVariable], DISABLE);
  assert.equal(fuses[FuseV1Options.EnableNodeCliInspectArguments], DISABLE);
  assert.equal(fuses[FuseV1Options.EnableEmbeddedAsarIntegrityValidation], ENABLE);
  assert.equal(fuses[FuseV1Options.OnlyLoadAppFromAsar], ENABLE);
  assert.equal(fuses[FuseV1Options.LoadBrowserProcessSpecificV8Snapshot], DISABLE, 'untouched');
  assert.equal(fuses[FuseV1Options.GrantFileProtocolExtraPrivileges], DISABLE);
  assert.ok(logs.some((l) => l.includes('Electron fuses set')));
});

test('after-pack skips a stub Electron with a log line and leaves it untouched', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-fuses-'));
  dirs.push(dir);
  const binary = path.join(dir, 'autodev');
  writeFileSync(binary, '#!/bin/sh\nexit 1\n');
  const logs: string[] = [];
  const original = console.log;
  console.log = (m: string) => logs.push(m);
  try {
    await hook.default(context(dir));
  } finally {
    console.log = original;
  }
  assert.equal(readFileSync(binary, 'utf8'), '#!/bin/sh\nexit 1\n');
  assert.match(logs.join('\n'), /skipping Electron fuses: .+autodev is not a real Electron binary/);
});
