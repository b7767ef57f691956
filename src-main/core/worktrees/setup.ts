import { accessSync, constants, cpSync, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * What a new worktree needs before its agent starts: files git does not carry (a per-repository include
 * list: `.env`, local config) copied in from the main checkout, and the repository's set-up command
 * (`.autodev/setup`, or `setup` in the config file) — which the session manager runs in the session's
 * PTY, so its output is in the session and its failure is the session's error.
 */

export interface RepositorySettings {
  /** The repository's main working tree. */
  path: string;
  /** argv of the set-up command, run in the new worktree. */
  setup?: string[] | undefined;
  /** Paths relative to the repository root, copied from the main checkout into each new worktree. */
  include?: string[] | undefined;
}

export const SETUP_FILE = path.join('.autodev', 'setup');
export const INCLUDE_FILE = path.join('.autodev', 'include');

const same = (a: string, b: string): boolean => {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
};

export function settingsFor(
  repositories: readonly RepositorySettings[],
  mainRoot: string,
): RepositorySettings | undefined {
  return repositories.find((r) => same(r.path, mainRoot));
}

/**
 * The set-up command for a new worktree: the config's `setup`, else `.autodev/setup` (the worktree's
 * committed copy, else the main checkout's local one), run directly when executable, else by /bin/sh.
 */
export function resolveSetup(
  settings: RepositorySettings | undefined,
  worktree: string,
  mainRoot: string,
): { argv: string[]; label: string } | null {
  if (settings?.setup && settings.setup.length > 0) {
    return { argv: [...settings.setup], label: settings.setup.join(' ') };
  }
  for (const root of [worktree, mainRoot]) {
    const file = path.join(root, SETUP_FILE);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {}
    if (!isFile) continue;
    let executable = false;
    try {
      accessSync(file, constants.X_OK);
      executable = true;
    } catch {}
    return { argv: executable ? [file] : ['/bin/sh', file], label: SETUP_FILE };
  }
  return null;
}

/** Entries of the include list: the config's, then `.autodev/include` lines (# comments, blanks skipped). */
export function includeList(
  settings: RepositorySettings | undefined,
  worktree: string,
  mainRoot: string,
): string[] {
  const entries = [...(settings?.include ?? [])];
  for (const root of [worktree, mainRoot]) {
    const file = path.join(root, INCLUDE_FILE);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const entry = line.trim();
      if (entry && !entry.startsWith('#')) entries.push(entry);
    }
    break;
  }
  return [...new Set(entries)];
}

/**
 * Copies each listed path from the main checkout into the worktree when it exists there and not yet
 * here (a file the branch carries is never overwritten). Paths leaving the repository are skipped.
 * Returns what was copied and what was skipped, with why.
 */
export function copyIncludes(
  entries: readonly string[],
  mainRoot: string,
  worktree: string,
): { copied: string[]; skipped: { path: string; reason: string }[] } {
  const copied: string[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const entry of entries) {
    const rel = path.normalize(entry).replace(/^(\.\/)+/, '');
    if (path.isAbsolute(rel) || rel === '..' || rel.startsWith(`..${path.sep}`) || rel === '.') {
      skipped.push({ path: entry, reason: 'not a path inside the repository' });
      continue;
    }
    const from = path.join(mainRoot, rel);
    const to = path.join(worktree, rel);
    if (!existsSync(from)) {
      skipped.push({ path: entry, reason: 'not in the main checkout' });
      continue;
    }
    if (existsSync(to)) {
      skipped.push({ path: entry, reason: 'already in the worktree' });
      continue;
    }
    try {
      cpSync(from, to, { recursive: true, force: false, errorOnExist: false, preserveTimestamps: true });
      copied.push(rel);
    } catch (error) {
      skipped.push({ path: entry, reason: (error as Error).message });
    }
  }
  return { copied, skipped };
}
