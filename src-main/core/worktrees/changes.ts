import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ChangedFile, ChangesResponse, ChangesSummary } from '../../../src-shared/worktrees.ts';
import { capPatch, parseRawNumstat } from './diff-parse.ts';
import { type Git, GitError, gitCapped } from './git.ts';
import { resolveCommit } from './repository.ts';

/**
 * What a session changed: its worktree (committed, uncommitted and untracked files alike) against the
 * commit where its branch left the base.
 *
 * The working tree is read through a private index (`<worktree git dir>/autodev-snapshot.index`):
 * `git add -A` into it and `git write-tree` give one tree for "the files as they are now", which diffs
 * exactly like a commit would, untracked files included and .gitignore respected — without touching
 * the agent's own index or staging area. The private index keeps git's stat cache between runs, so
 * unchanged files are not hashed again.
 */

export interface WorktreeRef {
  path: string;
  /** `<common>/worktrees/<name>` (from `git rev-parse --git-dir` in the worktree). */
  gitDir: string;
  branch: string;
  base: string;
  base_commit: string;
}

export interface DiffLimits {
  /** Whole `diff` (default 1 MiB). */
  maxTotalBytes: number;
  /** One file inside the whole diff (default 256 KiB). */
  maxFileBytes: number;
  /** `?path=` (default 8 MiB). */
  maxSingleFileBytes: number;
}

export const DEFAULT_DIFF_LIMITS: DiffLimits = {
  maxTotalBytes: 1024 * 1024,
  maxFileBytes: 256 * 1024,
  maxSingleFileBytes: 8 * 1024 * 1024,
};

export const SNAPSHOT_INDEX = 'autodev-snapshot.index';

/** A stale lock of the private index (a process killed mid-snapshot) older than this is removed. */
const STALE_LOCK_MS = 30_000;

/** The tree of the worktree's files as they are now, and its HEAD. */
export async function snapshotTree(git: Git, wt: WorktreeRef): Promise<{ head: string; tree: string }> {
  const shared = path.join(wt.gitDir, SNAPSHOT_INDEX);
  const head = await resolveCommit(git, wt.path, 'HEAD');
  if (!head) throw new GitError(['rev-parse'], 128, `the worktree ${wt.path} has no HEAD commit`);
  clearStaleLock(`${shared}.lock`);
  // Snapshots of one worktree are serialised in this process (the service's tree locks), so a lock on
  // the shared index is another AutoDev's snapshot, or one killed mid-snapshot moments ago (a crash and
  // restart). Neither may fail the read or be broken into: this snapshot works on a copy of its own.
  const own = existsSync(`${shared}.lock`)
    ? path.join(wt.gitDir, `autodev-snapshot-${process.pid}-${++privateCopies}.index`)
    : null;
  const index = own ?? shared;
  const env = { GIT_INDEX_FILE: index };
  try {
    if (own && existsSync(shared)) copyFileSync(shared, own);
    if (!existsSync(index)) {
      const real = path.join(wt.gitDir, 'index');
      if (existsSync(real)) copyFileSync(real, index);
      else await git(['read-tree', 'HEAD'], { cwd: wt.path, env, timeoutMs: 60_000 });
    }
    // `add -A` from the top adds, updates and removes every path; objects land in the shared store
    // (content-addressed, so nothing is duplicated and gc collects what no ref keeps).
    await git(['add', '-A', '--ignore-errors', '--', ':/'], { cwd: wt.path, env, timeoutMs: 120_000 });
    const tree = (await git(['write-tree'], { cwd: wt.path, env, timeoutMs: 60_000 })).stdout.trim();
    return { head, tree };
  } finally {
    if (own) {
      rmSync(own, { force: true });
      rmSync(`${own}.lock`, { force: true });
    }
  }
}

/** Private copies of a locked snapshot index made by this process (their names). */
let privateCopies = 0;

function clearStaleLock(lock: string): void {
  try {
    if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
  } catch {
    // no lock
  }
}

/** The base's current tip: the local branch if there is one, else the ref as given, else where it was. */
export async function baseTip(git: Git, wt: WorktreeRef): Promise<string> {
  return (
    (await resolveCommit(git, wt.path, `refs/heads/${wt.base}`)) ??
    (await resolveCommit(git, wt.path, wt.base)) ??
    wt.base_commit
  );
}

export async function mergeBase(git: Git, cwd: string, a: string, b: string): Promise<string | null> {
  const out = await git(['merge-base', a, b], { cwd, readOnly: true, okCodes: [1], timeoutMs: 30_000 });
  return out.code === 0 ? out.stdout.trim() || null : null;
}

interface Computed {
  head: string;
  tree: string;
  mergeBase: string;
  ahead: number;
  behind: number;
  files: ChangedFile[];
}

async function compute(git: Git, wt: WorktreeRef, pathFilter?: string): Promise<Computed> {
  const { head, tree } = await snapshotTree(git, wt);
  const tip = await baseTip(git, wt);
  const mb = (await mergeBase(git, wt.path, tip, head)) ?? wt.base_commit;
  const spec = pathFilter ? ['--', `:(literal)${pathFilter}`] : [];
  const read = { cwd: wt.path, readOnly: true, timeoutMs: 60_000 };
  const [counts, diff, uncommitted] = await Promise.all([
    git(['rev-list', '--left-right', '--count', `${tip}...${head}`], read),
    git(
      ['diff', '-z', '--raw', '--numstat', '-M', '--no-ext-diff', '--no-textconv', mb, tree, ...spec],
      read,
    ),
    git(['diff', '-z', '--name-only', '--no-ext-diff', head, tree, ...spec], read),
  ]);
  const [behind, ahead] = counts.stdout.trim().split(/\s+/).map(Number);
  const { names, stats } = parseRawNumstat(diff.stdout);
  const numstat = new Map(stats.map((s) => [s.path, s]));
  const dirty = new Set(uncommitted.stdout.split('\0').filter(Boolean));
  const files: ChangedFile[] = names.map((f) => {
    const n = numstat.get(f.path);
    return {
      path: f.path,
      old_path: f.old_path,
      status: f.status,
      additions: n?.additions ?? 0,
      deletions: n?.deletions ?? 0,
      binary: n?.binary ?? false,
      uncommitted: dirty.has(f.path) || (f.old_path !== null && dirty.has(f.old_path)),
      truncated: false,
    };
  });
  return { head, tree, mergeBase: mb, ahead: ahead ?? 0, behind: behind ?? 0, files };
}

/** Counts only (what the events channel carries). */
export async function changesSummary(git: Git, wt: WorktreeRef): Promise<ChangesSummary & { tree: string }> {
  const c = await compute(git, wt);
  return {
    head: c.head,
    tree: c.tree,
    merge_base: c.mergeBase,
    ahead: c.ahead,
    behind: c.behind,
    files: c.files.length,
    additions: c.files.reduce((n, f) => n + f.additions, 0),
    deletions: c.files.reduce((n, f) => n + f.deletions, 0),
    uncommitted_files: c.files.filter((f) => f.uncommitted).length,
    at: new Date().toISOString(),
  };
}

/** The full answer of `GET /cli/sessions/{id}/changes` (`pathFilter`: one file, larger cap). */
export async function changesWithDiff(
  git: Git,
  env: NodeJS.ProcessEnv,
  sessionId: string,
  wt: WorktreeRef,
  options: { path?: string; limits?: Partial<DiffLimits> } = {},
): Promise<ChangesResponse> {
  const limits = { ...DEFAULT_DIFF_LIMITS, ...options.limits };
  const c = await compute(git, wt, options.path);
  const single = options.path !== undefined;
  const maxTotal = single ? limits.maxSingleFileBytes : limits.maxTotalBytes;
  const maxFile = single ? limits.maxSingleFileBytes : limits.maxFileBytes;
  const spec = options.path ? ['--', `:(literal)${options.path}`] : [];
  // Read a little past the cap: whole hunks up to the cap survive, and a huge diff is never read whole.
  const patch = await gitCapped(
    env,
    ['diff', '-M', '--no-color', '--no-ext-diff', '--no-textconv', c.mergeBase, c.tree, ...spec],
    { cwd: wt.path, maxBytes: maxTotal + maxFile + 64 * 1024, timeoutMs: 120_000 },
  );
  const capped = capPatch(patch.stdout, c.files.length, maxTotal, maxFile);
  const files = c.files.map((f, i) => ({ ...f, truncated: capped.truncated[i] ?? true }));
  return {
    session_id: sessionId,
    base: wt.base,
    branch: wt.branch,
    head: c.head,
    merge_base: c.mergeBase,
    ahead: c.ahead,
    behind: c.behind,
    files,
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
    uncommitted_files: files.filter((f) => f.uncommitted).length,
    diff: capped.diff,
    truncated: capped.anyTruncated || patch.capped,
  };
}
