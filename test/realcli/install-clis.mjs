#!/usr/bin/env node
// The real agent CLIs the test suite drives (test/realcli/), at pinned versions, installed from the npm
// registry into a test cache (test/.cache/agent-clis, gitignored) — never dependencies of the app.
// `npm test` calls ensureAgentClis() when it runs the real-CLI suites; the download is skipped when the
// pinned versions are already there. `node test/realcli/install-clis.mjs` does the same by hand.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = path.resolve(here, '..', '.cache', 'agent-clis');

/** { claude: { package, version, bin }, codex: …, gemini: … } */
export function pinnedClis() {
  return JSON.parse(readFileSync(path.join(here, 'pinned-clis.json'), 'utf8'));
}

export function installedVersion(pkg) {
  try {
    return JSON.parse(readFileSync(path.join(CACHE_DIR, 'node_modules', pkg, 'package.json'), 'utf8'))
      .version;
  } catch {
    return null;
  }
}

export function cliBinary(id) {
  const pin = pinnedClis()[id];
  if (!pin) throw new Error(`no pinned agent CLI ${id}`);
  return path.join(CACHE_DIR, 'node_modules', '.bin', pin.bin);
}

/**
 * Installs whatever is missing or at another version. Returns { versions: {id: version}, installed:
 * boolean }. Throws with npm's output when the install fails (no registry, disk full…).
 */
export function ensureAgentClis({ log = (line) => console.log(line) } = {}) {
  const pins = pinnedClis();
  const stale = Object.entries(pins).filter(([, pin]) => installedVersion(pin.package) !== pin.version);
  if (stale.length > 0) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const manifest = path.join(CACHE_DIR, 'package.json');
    if (!existsSync(manifest))
      writeFileSync(manifest, `${JSON.stringify({ name: 'autodev-agent-clis', private: true }, null, 2)}\n`);
    const specs = stale.map(([, pin]) => `${pin.package}@${pin.version}`);
    log(
      `[test] installing agent CLIs into ${path.relative(process.cwd(), CACHE_DIR) || CACHE_DIR}: ${specs.join(' ')}`,
    );
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(
      npm,
      [
        'install',
        '--prefix',
        CACHE_DIR,
        '--no-audit',
        '--no-fund',
        '--save-exact',
        '--loglevel',
        'error',
        ...specs,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (r.error || r.status !== 0)
      throw new Error(
        `npm install of the agent CLIs failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`,
      );
  }
  const versions = {};
  for (const [id, pin] of Object.entries(pins)) {
    const version = installedVersion(pin.package);
    if (version !== pin.version) throw new Error(`${pin.package}: expected ${pin.version}, found ${version}`);
    if (!existsSync(cliBinary(id))) throw new Error(`${pin.package}: ${cliBinary(id)} is missing`);
    if (stale.length > 0 && !reportsVersion(id, version)) runPostinstall(pin.package, log);
    versions[id] = version;
  }
  return { versions, installed: stale.length > 0 };
}

function reportsVersion(id, version) {
  const r = spawnSync(cliBinary(id), ['--version'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 && r.stdout.includes(version);
}

/** npm does not run install scripts it has not been told to allow (npm 11 `allowScripts`). Claude
 *  Code's postinstall puts the platform binary in place; where the registry tarball already holds it
 *  the binary runs as is, otherwise the script is run here, explicitly, for this one package. */
function runPostinstall(pkg, log) {
  const dir = path.join(CACHE_DIR, 'node_modules', pkg);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const script = manifest.scripts?.postinstall;
  if (!script) throw new Error(`${pkg}: its binary does not run and it has no postinstall script`);
  log(`[test] ${pkg}: running its postinstall (${script})`);
  const r = spawnSync('sh', ['-c', script], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${pkg}: postinstall failed:\n${r.stdout}${r.stderr}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { versions } = ensureAgentClis();
  console.log(
    `agent CLIs: ${Object.entries(versions)
      .map(([id, v]) => `${id} ${v}`)
      .join(', ')}`,
  );
}
