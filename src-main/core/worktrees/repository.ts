import { realpathSync } from 'node:fs';
import path from 'node:path';
import { type Git, splitZ } from './git.ts';

/** Where a directory sits in git: its repository, the working tree it is in, and what is checked out. */
export interface RepoLocation {
  /** The top of the working tree the directory is in (a linked worktree or the main one). */
  top: string;
  /** The directory relative to `top` ('' at the top). */
  prefix: string;
  /** The repository's main working tree (first entry of `git worktree list`). */
  mainRoot: string;
  /** Shared git directory (objects, refs) of every worktree of the repository. */
  commonDir: string;
  /** Branch checked out in `top`, or null when detached. */
  currentBranch: string | null;
  /** HEAD commit, or null in a repository without commits. */
  head: string | null;
}

export interface GitWorktreeEntry {
  path: string;
  head: string | null;
  /** Short branch name, or null when detached. */
  branch: string | null;
  bare: boolean;
  locked: boolean;
  prunable: boolean;
}

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** The repository of `dir`, or null when it is not inside a git working tree. */
export async function locateRepository(git: Git, dir: string): Promise<RepoLocation | null> {
  let out: string;
  try {
    out = (
      await git(
        [
          'rev-parse',
          '--path-format=absolute',
          '--show-toplevel',
          '--git-common-dir',
          '--is-inside-work-tree',
          '--show-prefix',
        ],
        { cwd: dir, readOnly: true, timeoutMs: 15_000 },
      )
    ).stdout;
  } catch {
    return null;
  }
  const [top, commonDir, inside, prefix] = out.split('\n');
  if (!top || !commonDir || inside !== 'true') return null;
  const [branch, head, worktrees] = await Promise.all([
    currentBranch(git, top),
    resolveCommit(git, top, 'HEAD'),
    listGitWorktrees(git, top),
  ]);
  const main = worktrees.find((w) => !w.bare) ?? null;
  return {
    top: real(top),
    prefix: (prefix ?? '').replace(/\/$/, ''),
    mainRoot: real(main?.path ?? top),
    commonDir: real(commonDir),
    currentBranch: branch,
    head,
  };
}

export async function currentBranch(git: Git, cwd: string): Promise<string | null> {
  try {
    const out = await git(['symbolic-ref', '-q', '--short', 'HEAD'], {
      cwd,
      readOnly: true,
      timeoutMs: 15_000,
    });
    return out.stdout.trim() || null;
  } catch {
    return null; // detached HEAD
  }
}

/** The commit a ref names, or null when it names none. */
export async function resolveCommit(git: Git, cwd: string, ref: string): Promise<string | null> {
  try {
    const out = await git(['rev-parse', '-q', '--verify', '--end-of-options', `${ref}^{commit}`], {
      cwd,
      readOnly: true,
      timeoutMs: 15_000,
    });
    return out.stdout.trim() || null;
  } catch {
    return null;
  }
}

export async function branchExists(git: Git, cwd: string, branch: string): Promise<boolean> {
  try {
    await git(['show-ref', '--verify', '-q', `refs/heads/${branch}`], {
      cwd,
      readOnly: true,
      timeoutMs: 15_000,
    });
    return true;
  } catch {
    return false;
  }
}

export async function isAncestor(git: Git, cwd: string, ancestor: string, of: string): Promise<boolean> {
  const out = await git(['merge-base', '--is-ancestor', ancestor, of], {
    cwd,
    readOnly: true,
    okCodes: [1],
    timeoutMs: 30_000,
  });
  return out.code === 0;
}

export async function listBranches(git: Git, cwd: string): Promise<string[]> {
  const out = await git(
    ['for-each-ref', '--format=%(refname:short)', '--sort=-committerdate', 'refs/heads'],
    {
      cwd,
      readOnly: true,
      timeoutMs: 15_000,
    },
  );
  return out.stdout.split('\n').filter(Boolean);
}

/** `git worktree list --porcelain -z`: every working tree of the repository, main one first. */
export async function listGitWorktrees(git: Git, cwd: string): Promise<GitWorktreeEntry[]> {
  const out = await git(['worktree', 'list', '--porcelain', '-z'], {
    cwd,
    readOnly: true,
    timeoutMs: 15_000,
  });
  const entries: GitWorktreeEntry[] = [];
  let current: GitWorktreeEntry | null = null;
  for (const field of out.stdout.split('\0')) {
    if (field === '') {
      if (current) entries.push(current);
      current = null;
      continue;
    }
    const space = field.indexOf(' ');
    const key = space < 0 ? field : field.slice(0, space);
    const value = space < 0 ? '' : field.slice(space + 1);
    if (key === 'worktree') {
      if (current) entries.push(current);
      current = { path: value, head: null, branch: null, bare: false, locked: false, prunable: false };
    } else if (current) {
      if (key === 'HEAD') current.head = value;
      else if (key === 'branch') current.branch = value.replace(/^refs\/heads\//, '');
      else if (key === 'bare') current.bare = true;
      else if (key === 'locked') current.locked = true;
      else if (key === 'prunable') current.prunable = true;
    }
  }
  if (current) entries.push(current);
  return entries;
}

/** Files with uncommitted work in a checkout: tracked changes, and untracked files unless `trackedOnly`. */
export async function uncommittedFiles(
  git: Git,
  cwd: string,
  options: { trackedOnly?: boolean } = {},
): Promise<string[]> {
  const out = await git(
    [
      'status',
      '--porcelain=v1',
      '-z',
      options.trackedOnly ? '--untracked-files=no' : '--untracked-files=all',
      '--ignore-submodules=none',
    ],
    { cwd, readOnly: true, timeoutMs: 60_000 },
  );
  const fields = splitZ(out.stdout);
  const files: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    const xy = entry.slice(0, 2);
    files.push(entry.slice(3));
    // A rename or copy is followed by its source path.
    if (xy.includes('R') || xy.includes('C')) i++;
  }
  return files;
}

/** An operation git left half-done in a checkout (merge, rebase, cherry-pick, revert, bisect), or null. */
export async function operationInProgress(git: Git, cwd: string): Promise<string | null> {
  const markers: [string, string][] = [
    ['MERGE_HEAD', 'a merge'],
    ['rebase-merge', 'a rebase'],
    ['rebase-apply', 'a rebase'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick'],
    ['REVERT_HEAD', 'a revert'],
  ];
  const out = await git(['rev-parse', ...markers.flatMap(([m]) => ['--git-path', m])], {
    cwd,
    readOnly: true,
    timeoutMs: 15_000,
  });
  const paths = out.stdout.split('\n');
  const { existsSync } = await import('node:fs');
  for (let i = 0; i < markers.length; i++) {
    const p = paths[i];
    if (p && existsSync(path.resolve(cwd, p))) return markers[i]![1];
  }
  return null;
}

/** The git directory of a linked worktree (`<common>/worktrees/<name>`), where its index and HEAD live. */
export async function gitDirOf(git: Git, cwd: string): Promise<string> {
  const out = await git(['rev-parse', '--path-format=absolute', '--git-dir'], {
    cwd,
    readOnly: true,
    timeoutMs: 15_000,
  });
  return real(out.stdout.trim());
}
