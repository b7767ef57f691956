import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { WorktreeListItem, WorktreeState } from '../../../src-shared/worktrees.ts';
import { workState } from './actions.ts';
import type { WorktreeRef } from './changes.ts';
import type { Git } from './git.ts';
import type { WorktreeRecord } from './registry.ts';

/** `GET /worktrees`: each managed worktree with its session, state, disk usage and unsaved work. */

/** Bytes on disk under `dir` (`du`, which also counts blocks of sparse and hard-linked files once). */
export function diskUsage(dir: string, timeoutMs = 30_000): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('du', ['-s', '--block-size=1', '--', dir], { timeout: timeoutMs }, (error, stdout) => {
      const bytes = Number(/^(\d+)/.exec(stdout ?? '')?.[1]);
      // du exits 1 when some file could not be read; the sum of the rest still tells the size.
      resolve(Number.isFinite(bytes) && (!error || stdout) ? bytes : null);
    });
  });
}

export function stateOf(
  record: WorktreeRecord,
  session: SessionInfo | undefined,
  live: boolean,
): WorktreeState {
  if (!existsSync(record.path)) return 'missing';
  if (live) return 'active';
  if (record.left_by_crash) return 'crashed';
  void session;
  return 'ended';
}

export async function describe(
  git: Git,
  record: WorktreeRecord,
  session: SessionInfo | undefined,
  live: boolean,
  gitDir: string,
): Promise<WorktreeListItem> {
  const state = stateOf(record, session, live);
  const ref: WorktreeRef = { ...record, gitDir };
  let uncommitted: string[] = [];
  let unmerged = 0;
  let known = false;
  let baseIsBranch = false;
  if (state !== 'missing') {
    try {
      const work = await workState(git, ref);
      uncommitted = work.uncommitted;
      unmerged = work.unmerged;
      baseIsBranch = work.baseIsBranch;
      known = true;
    } catch {
      // A broken worktree (its git dir gone): unknown, so never "merged".
    }
  }
  return {
    repo: record.repo,
    path: record.path,
    branch: record.branch,
    base: record.base,
    base_commit: record.base_commit,
    session_id: record.session_id,
    session_name: session?.name ?? null,
    session_state: session?.state ?? null,
    state,
    created_at: record.created_at,
    ended_at: record.ended_at,
    disk_usage_bytes: state === 'missing' ? null : await diskUsage(record.path),
    uncommitted: uncommitted.length > 0,
    uncommitted_files: uncommitted.slice(0, 200),
    unmerged_commits: unmerged,
    merged: known && baseIsBranch && uncommitted.length === 0 && unmerged === 0,
  };
}

/**
 * Worktree folders under the managed root that the registry does not know (its database was reset or
 * replaced): any directory with a `.git` file, up to a few levels down (branch names nest).
 */
export async function findUnregistered(
  root: string,
  known: ReadonlySet<string>,
  maxDepth = 6,
): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (depth > 1 && entries.some((e) => e.name === '.git' && e.isFile())) {
      if (!known.has(dir)) found.push(dir);
      return;
    }
    if (depth >= maxDepth) return;
    for (const e of entries)
      if (e.isDirectory() && !e.name.startsWith('.')) await walk(path.join(dir, e.name), depth + 1);
  };
  await walk(root, 0);
  return found;
}

export async function describeUnregistered(git: Git, dir: string): Promise<WorktreeListItem> {
  let branch = '';
  let repo = '';
  try {
    const out = await git(['rev-parse', '--abbrev-ref', 'HEAD'], {
      cwd: dir,
      readOnly: true,
      timeoutMs: 15_000,
    });
    branch = out.stdout.trim();
    const common = await git(['rev-parse', '--path-format=absolute', '--git-common-dir'], {
      cwd: dir,
      readOnly: true,
      timeoutMs: 15_000,
    });
    repo = path.dirname(common.stdout.trim());
  } catch {}
  let uncommitted: string[] = [];
  try {
    const { uncommittedFiles } = await import('./repository.ts');
    uncommitted = await uncommittedFiles(git, dir);
  } catch {}
  return {
    repo,
    path: dir,
    branch,
    base: '',
    base_commit: '',
    session_id: null,
    session_name: null,
    session_state: null,
    state: 'unregistered',
    created_at: null,
    ended_at: null,
    disk_usage_bytes: await diskUsage(dir),
    uncommitted: uncommitted.length > 0,
    uncommitted_files: uncommitted.slice(0, 200),
    unmerged_commits: 0,
    merged: false,
  };
}
