#!/usr/bin/env node
// Offline packaging smoke run: builds what the app ships (tsc → dist/, the preload bundle, the
// renderer if missing), then runs electron-builder `--linux dir` against a STUB Electron (a script
// plus a `version` file; the real binary cannot be downloaded here) with npmRebuild off.
// The result is a real app.asar + app.asar.unpacked that test/electron/package-smoke.test.ts inspects.
//
//   node scripts/package-smoke.mjs --out <dir> [--skip-build] [--electron-dist <unpacked Electron dir>]
// Prints one JSON line: { appOutDir, asar, unpacked }.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
if (outArg < 0) {
  console.error('usage: node scripts/package-smoke.mjs --out <dir> [--skip-build]');
  process.exit(2);
}
const out = path.resolve(args[outArg + 1]);
const skipBuild = args.includes('--skip-build');
// A real unpacked Electron (e.g. node_modules/electron/dist) instead of the stub, where one exists.
const distArg = args.indexOf('--electron-dist');
const realDist = distArg >= 0 ? path.resolve(args[distArg + 1]) : null;
const node = process.execPath;
const log = (m) => console.error(`[package-smoke] ${m}`);

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return r;
}

if (!skipBuild) {
  // tsc emits even when other files have type errors; what matters here is that main.js exists.
  log('tsc -p tsconfig.node.json');
  const tsc = run(node, [
    path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.node.json',
  ]);
  if (tsc.status !== 0)
    log(`tsc reported type errors (emitted anyway):\n${tsc.stdout.split('\n').slice(0, 10).join('\n')}`);
  log('preload bundle');
  const preload = run(node, [path.join(root, 'src-preload', 'build.mjs')]);
  if (preload.status !== 0) throw new Error(`preload build failed: ${preload.stderr}`);
  if (!existsSync(path.join(root, 'src-renderer', 'dist', 'index.html'))) {
    log('renderer (vite build)');
    const vite = run(
      node,
      [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
      {
        cwd: path.join(root, 'src-renderer'),
      },
    );
    if (vite.status !== 0) throw new Error(`renderer build failed: ${vite.stderr}`);
  }
}
for (const needed of [
  'dist/src-main/electron/main.js',
  'dist/preload/preload.cjs',
  'src-renderer/dist/index.html',
]) {
  if (!existsSync(path.join(root, needed))) throw new Error(`missing build output ${needed}`);
}

// The stub "Electron" (unless a real one was given): electron-builder copies this directory as the
// app's runtime.
const electronVersion = JSON.parse(
  readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
).version;
let stub = realDist;
if (stub === null) {
  stub = path.join(out, 'electron-stub');
  mkdirSync(stub, { recursive: true });
  writeFileSync(
    path.join(stub, 'electron'),
    '#!/bin/sh\necho "stub electron: not a real binary" >&2\nexit 1\n',
  );
  chmodSync(path.join(stub, 'electron'), 0o755);
  writeFileSync(path.join(stub, 'version'), electronVersion);
}

const outputDir = path.join(out, 'installers');
log(
  `electron-builder --linux dir (${realDist ? 'Electron' : 'stub Electron'} ${electronVersion}) → ${outputDir}`,
);
const builder = run(
  node,
  [
    path.join(root, 'node_modules', 'electron-builder', 'cli.js'),
    '--linux',
    'dir',
    '--x64',
    '--projectDir',
    root,
    `-c.electronDist=${stub}`,
    `-c.electronVersion=${electronVersion}`,
    '-c.npmRebuild=false',
    `-c.directories.output=${outputDir}`,
    '--publish',
    'never',
  ],
  {
    env: {
      ...process.env,
      ELECTRON_BUILDER_7ZIP_PATH: process.env.ELECTRON_BUILDER_7ZIP_PATH ?? '/usr/bin/7za',
      CSC_IDENTITY_AUTO_DISCOVERY: 'false',
      ELECTRON_BUILDER_CACHE: path.join(out, 'cache'),
    },
  },
);
process.stderr.write(builder.stdout);
process.stderr.write(builder.stderr);
if (builder.status !== 0) {
  log(`electron-builder failed with status ${builder.status}`);
  process.exit(1);
}
const appOutDir = path.join(outputDir, 'linux-unpacked');
const asar = path.join(appOutDir, 'resources', 'app.asar');
if (!existsSync(asar)) throw new Error(`no app.asar at ${asar}`);
console.log(
  JSON.stringify({
    appOutDir,
    asar,
    unpacked: `${asar}.unpacked`,
    builderLog: builder.stdout + builder.stderr,
  }),
);
