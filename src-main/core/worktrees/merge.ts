import type { MergeStrategy } from '../../../src-shared/worktrees.ts';
import type { WorktreeRef } from './changes.ts';
import { listFiles, WorktreeError } from './errors.ts';
import { type Git, GitError, identityArgs, splitZ } from './git.ts';
import {
  branchExists,
  currentBranch,
  type GitWorktreeEntry,
  isAncestor,
  listGitWorktrees,
  operationInProgress,
  resolveCommit,
  uncommittedFiles,
} from './repository.ts';

/**
 * Merging a session's branch into its base without ever leaving a half-merged state:
 *
 * - `merge` and `squash` compute the result in memory (`git merge-tree --write-tree`): a conflict is
 *   found before anything is touched, and the answer lists the conflicting files. The result becomes a
 *   commit (`commit-tree`), and only then does the base move.
 * - `rebase` replays the branch onto the base in the session's own worktree (clean, by the checks
 *   below); a conflict runs `git rebase --abort`, which restores the branch exactly.
 * - The base moves by a fast-forward: `merge --ff-only` in the checkout that has the base branch
 *   checked out (refused up front when that checkout has uncommitted changes, so it is left clean), or
 *   a compare-and-swap `update-ref` when no checkout has it.
 */

export interface MergeOutcome {
  base_commit: string;
  previous_base_commit: string;
  updated_checkout: string | null;
}

export async function mergeIntoBase(
  git: Git,
  wt: WorktreeRef,
  options: { strategy: MergeStrategy; message?: string | undefined; sessionName: string },
): Promise<MergeOutcome> {
  const cwd = wt.path;
  if (!(await branchExists(git, cwd, wt.base))) {
    throw new WorktreeError(
      `cannot merge: the base "${wt.base}" is not a local branch (a tag or commit cannot receive a merge)`,
      'CONFLICT',
    );
  }
  const onBranch = await currentBranch(git, cwd);
  if (onBranch !== wt.branch) {
    throw new WorktreeError(
      `cannot merge: the worktree is ${onBranch ? `on ${onBranch}` : 'on a detached HEAD'}, not on its branch ${wt.branch}`,
      'CONFLICT',
    );
  }
  const busy = await operationInProgress(git, cwd);
  if (busy) throw new WorktreeError(`cannot merge: the worktree has ${busy} in progress`, 'CONFLICT');
  const dirty = await uncommittedFiles(git, cwd);
  if (dirty.length > 0) {
    throw new WorktreeError(
      `cannot merge: the worktree has uncommitted changes (${listFiles(dirty)}); commit or discard them first`,
      'CONFLICT',
      { files: dirty },
    );
  }
  const head = await resolveCommit(git, cwd, 'HEAD');
  const tip = await resolveCommit(git, cwd, `refs/heads/${wt.base}`);
  if (!head || !tip)
    throw new WorktreeError('cannot merge: the branch or its base has no commit', 'CONFLICT');
  if (await isAncestor(git, cwd, head, tip)) {
    throw new WorktreeError(
      `nothing to merge: ${wt.branch} has no commits that ${wt.base} lacks`,
      'CONFLICT',
    );
  }

  const checkout = await baseCheckout(git, wt);
  if (checkout) await assertCleanCheckout(git, wt.base, checkout);

  const ident = await identityArgs(git, cwd);
  const newTip =
    options.strategy === 'rebase'
      ? await rebaseOnto(git, wt, tip, head, ident)
      : await mergeCommit(git, wt, tip, head, ident, options);

  try {
    await moveBase(git, wt, checkout, tip, newTip, ident, options.strategy);
  } catch (error) {
    // The rebase already moved the session's branch: put it back so nothing changed at all.
    if (options.strategy === 'rebase' && newTip !== head)
      await git(['reset', '--keep', head], { cwd, timeoutMs: 120_000 }).catch(() => {});
    throw error;
  }
  // After a squash the branch's own commits are in the base as one commit: the branch continues from
  // the base (the worktree is clean, so only the base's files come in), and has nothing left to merge.
  // (If that fails the merge still stands; the branch then shows its commits as unmerged.)
  if (options.strategy === 'squash')
    await git(['reset', '--keep', newTip], { cwd, timeoutMs: 120_000 }).catch(() => {});
  return { base_commit: newTip, previous_base_commit: tip, updated_checkout: checkout?.path ?? null };
}

/** The working tree (main or linked) that has the base branch checked out, if any. */
async function baseCheckout(git: Git, wt: WorktreeRef): Promise<GitWorktreeEntry | null> {
  const all = await listGitWorktrees(git, wt.path);
  return all.find((w) => !w.bare && w.branch === wt.base && !w.prunable) ?? null;
}

async function assertCleanCheckout(git: Git, base: string, checkout: GitWorktreeEntry): Promise<void> {
  const busy = await operationInProgress(git, checkout.path);
  if (busy) {
    throw new WorktreeError(
      `cannot merge: ${base} is checked out at ${checkout.path} with ${busy} in progress`,
      'CONFLICT',
    );
  }
  const dirty = await uncommittedFiles(git, checkout.path, { trackedOnly: true });
  if (dirty.length > 0) {
    throw new WorktreeError(
      `cannot merge: ${base} is checked out at ${checkout.path} with uncommitted changes (${listFiles(dirty)}); commit or stash them there first`,
      'CONFLICT',
      { files: dirty },
    );
  }
}

async function mergeCommit(
  git: Git,
  wt: WorktreeRef,
  tip: string,
  head: string,
  ident: string[],
  options: { strategy: MergeStrategy; message?: string | undefined; sessionName: string },
): Promise<string> {
  const result = await git(['merge-tree', '--write-tree', '--name-only', '-z', '--no-messages', tip, head], {
    cwd: wt.path,
    readOnly: true,
    okCodes: [1],
    timeoutMs: 300_000,
  });
  const fields = splitZ(result.stdout);
  const tree = fields[0] ?? '';
  if (result.code === 1) {
    const files = [...new Set(fields.slice(1).filter(Boolean))];
    throw new WorktreeError(
      `merge conflict in ${files.length} file${files.length === 1 ? '' : 's'} (${listFiles(files)}); nothing was changed`,
      'CONFLICT',
      { files },
    );
  }
  if (!/^[0-9a-f]{40,64}$/.test(tree)) throw new GitError(['merge-tree'], 0, `unexpected output: ${tree}`);
  const message = options.message ?? (await defaultMessage(git, wt, tip, head, options));
  const parents = options.strategy === 'merge' ? ['-p', tip, '-p', head] : ['-p', tip];
  const commit = await git([...ident, 'commit-tree', tree, ...parents, '-F', '-'], {
    cwd: wt.path,
    input: message,
    timeoutMs: 60_000,
  });
  return commit.stdout.trim();
}

async function defaultMessage(
  git: Git,
  wt: WorktreeRef,
  tip: string,
  head: string,
  options: { strategy: MergeStrategy; sessionName: string },
): Promise<string> {
  if (options.strategy === 'merge')
    return `Merge branch '${wt.branch}' (AutoDev session "${options.sessionName}")\n`;
  const log = await git(['log', '--format=- %s', '--reverse', `${tip}..${head}`], {
    cwd: wt.path,
    readOnly: true,
    timeoutMs: 30_000,
  });
  return `${options.sessionName}\n\nSquashed from branch ${wt.branch}:\n${log.stdout}`;
}

async function rebaseOnto(
  git: Git,
  wt: WorktreeRef,
  tip: string,
  head: string,
  ident: string[],
): Promise<string> {
  if (await isAncestor(git, wt.path, tip, head)) return head; // already on top of the base
  try {
    await git([...ident, 'rebase', '--no-autostash', '--no-update-refs', tip], {
      cwd: wt.path,
      timeoutMs: 300_000,
    });
  } catch (error) {
    const unmerged = await git(['diff', '--name-only', '--diff-filter=U', '-z'], {
      cwd: wt.path,
      readOnly: true,
      timeoutMs: 30_000,
    }).catch(() => ({ stdout: '' }));
    await git(['rebase', '--abort'], { cwd: wt.path, timeoutMs: 120_000 }).catch(() => {});
    const files = splitZ(unmerged.stdout);
    if (files.length > 0) {
      throw new WorktreeError(
        `rebase conflict in ${files.length} file${files.length === 1 ? '' : 's'} (${listFiles(files)}); the rebase was aborted and nothing changed`,
        'CONFLICT',
        { files },
      );
    }
    throw new WorktreeError(
      `rebase failed (${(error as Error).message}); it was aborted and nothing changed`,
      'CONFLICT',
    );
  }
  const rebased = await resolveCommit(git, wt.path, 'HEAD');
  if (!rebased) throw new GitError(['rebase'], 0, 'no HEAD after the rebase');
  return rebased;
}

async function moveBase(
  git: Git,
  wt: WorktreeRef,
  checkout: GitWorktreeEntry | null,
  from: string,
  to: string,
  ident: string[],
  strategy: MergeStrategy,
): Promise<void> {
  if (checkout) {
    try {
      await git([...ident, 'merge', '--ff-only', '--no-edit', '--no-stat', to], {
        cwd: checkout.path,
        timeoutMs: 300_000,
      });
    } catch (error) {
      const detail = error instanceof GitError ? error.stderr.trim().split('\n').slice(0, 8).join(' ') : '';
      throw new WorktreeError(
        `cannot update ${wt.base} checked out at ${checkout.path}: ${detail || (error as Error).message}; nothing was changed`,
        'CONFLICT',
      );
    }
    return;
  }
  try {
    await git(['update-ref', '-m', `autodev: ${strategy} ${wt.branch}`, `refs/heads/${wt.base}`, to, from], {
      cwd: wt.path,
      timeoutMs: 30_000,
    });
  } catch {
    throw new WorktreeError(`cannot merge: ${wt.base} moved while merging; try again`, 'CONFLICT');
  }
}
