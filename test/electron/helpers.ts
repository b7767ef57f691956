import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds the real preload bundle (src-preload/build.mjs) into a fresh temp dir; returns its file. */
/** Node arguments that run `entry` (relative to the repository) with the fake `electron` module. */
export function fakeElectronArgs(entry: string): string[] {
  return [
    '--import',
    path.join(ROOT, 'test/electron/fixtures/register-fake-electron.mjs'),
    path.join(ROOT, entry),
  ];
}

export function buildPreload(): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-preload-'));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'src-preload', 'build.mjs'), '--out-dir', dir], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`preload build failed: ${r.stderr}${r.stdout}`);
  return { file: path.join(dir, 'preload.cjs'), dir };
}

/**
 * Runs a CommonJS bundle the way a sandboxed preload runs: `require` knows only 'electron'
 * (here: the given fakes). Any other require throws, proving the bundle is self-contained.
 */
export function runSandboxedPreload(file: string, electron: Record<string, unknown>): void {
  const code = readFileSync(file, 'utf8');
  const requireFn = (name: string) => {
    if (name === 'electron') return electron;
    throw new Error(`sandboxed preload cannot require ${name}`);
  };
  const module = { exports: {} };
  new Function('require', 'module', 'exports', code)(requireFn, module, module.exports);
}
