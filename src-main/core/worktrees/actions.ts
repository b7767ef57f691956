import { existsSync } from 'node:fs';
import { baseTip, mergeBase, snapshotTree, type WorktreeRef } from './changes.ts';
import { listFiles, WorktreeError } from './errors.ts';
import { type Git, identityArgs } from './git.ts';
import { branchExists, operationInProgress, resolveCommit, uncommittedFiles } from './repository.ts';

/** Commit, discard, the unsaved-work check and removal of one worktree. */

export interface WorkState {
  /** Uncommitted files (tracked changes and untracked files). */
  uncommitted: string[];
  /** Commits on the branch that its base does not have. */
  unmerged: number;
  /** A local base branch exists to compare with (else `unmerged` counts from base_commit). */
  baseIsBranch: boolean;
}

export async function workState(git: Git, wt: WorktreeRef): Promise<WorkState> {
  const [uncommitted, tip, baseIsBranch] = await Promise.all([
    uncommittedFiles(git, wt.path),
    baseTip(git, wt),
    branchExists(git, wt.path, wt.base),
  ]);
  const out = await git(['rev-list', '--count', `${tip}..HEAD`], {
    cwd: wt.path,
    readOnly: true,
    timeoutMs: 30_000,
  });
  return { uncommitted, unmerged: Number(out.stdout.trim()) || 0, baseIsBranch };
}

export async function commitAll(
  git: Git,
  wt: WorktreeRef,
  message: string,
): Promise<{ commit: string; files: number }> {
  const busy = await operationInProgress(git, wt.path);
  if (busy) throw new WorktreeError(`cannot commit: the worktree has ${busy} in progress`, 'CONFLICT');
  const files = await uncommittedFiles(git, wt.path);
  if (files.length === 0) throw new WorktreeError('nothing to commit: the worktree is clean', 'CONFLICT');
  const ident = await identityArgs(git, wt.path);
  await git(['add', '-A', '--', ':/'], { cwd: wt.path, timeoutMs: 120_000 });
  // Hooks run as they would for `git commit` in a terminal (a failing pre-commit hook is the answer).
  await git([...ident, 'commit', '-q', '-F', '-'], { cwd: wt.path, input: message, timeoutMs: 300_000 });
  const commit = await resolveCommit(git, wt.path, 'HEAD');
  if (!commit) throw new WorktreeError('commit failed: no HEAD afterwards', 'INTERNAL');
  return { commit, files: files.length };
}

const stamp = () =>
  new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/**
 * Keeps the worktree's state as it is now (commits and every uncommitted file) under
 * `refs/autodev/<kind>/<branch>/<time>`, or returns null when there is nothing beyond `target`.
 */
export async function saveWork(
  git: Git,
  wt: WorktreeRef,
  kind: 'discarded' | 'removed',
  target: string,
): Promise<string | null> {
  const { head, tree } = await snapshotTree(git, wt);
  const targetTree = await git(['rev-parse', `${target}^{tree}`], { cwd: wt.path, readOnly: true });
  if (head === target && tree === targetTree.stdout.trim()) return null;
  const ident = await identityArgs(git, wt.path);
  const commit = await git([...ident, 'commit-tree', tree, '-p', head, '-F', '-'], {
    cwd: wt.path,
    input: `AutoDev: ${kind} work of ${wt.branch}\n`,
    timeoutMs: 60_000,
  });
  const ref = `refs/autodev/${kind}/${wt.branch}/${stamp()}`;
  await git(['update-ref', ref, commit.stdout.trim()], { cwd: wt.path, timeoutMs: 30_000 });
  return ref;
}

/** Resets the worktree to where its branch left the base; what is dropped is kept under a ref. */
export async function discardAll(
  git: Git,
  wt: WorktreeRef,
): Promise<{ reset_to: string; saved_ref: string | null }> {
  const head = await resolveCommit(git, wt.path, 'HEAD');
  const tip = await baseTip(git, wt);
  const target = (head ? await mergeBase(git, wt.path, tip, head) : null) ?? wt.base_commit;
  const busy = await operationInProgress(git, wt.path);
  if (busy === 'a rebase')
    await git(['rebase', '--abort'], { cwd: wt.path, timeoutMs: 120_000 }).catch(() => {});
  const saved = await saveWork(git, wt, 'discarded', target);
  await git(['reset', '--hard', '-q', target], { cwd: wt.path, timeoutMs: 120_000 });
  // Untracked files go; ignored ones (node_modules, .env copied in at set-up) stay.
  await git(['clean', '-fd', '-q', '--', ':/'], { cwd: wt.path, timeoutMs: 120_000 });
  return { reset_to: target, saved_ref: saved };
}

/**
 * Removes the worktree and its branch. Without `force`, refused while there is uncommitted or
 * unmerged work; with it, that work is first kept under `refs/autodev/removed/…` (returned).
 */
export async function removeWorktree(
  git: Git,
  wt: WorktreeRef,
  repoRoot: string,
  options: { force: boolean },
): Promise<{ saved_ref: string | null }> {
  let saved: string | null = null;
  if (existsSync(wt.path)) {
    const state = await workState(git, wt);
    if (!options.force) assertNoWork(wt, state);
    else if (state.uncommitted.length > 0 || state.unmerged > 0)
      saved = await saveWork(git, wt, 'removed', await baseTip(git, wt));
    await git(['worktree', 'remove', '--force', wt.path], { cwd: repoRoot, timeoutMs: 120_000 });
  } else {
    // The folder is gone already: drop git's record of it; only the branch can still hold work.
    await git(['worktree', 'prune'], { cwd: repoRoot, timeoutMs: 60_000 });
    if (await branchExists(git, repoRoot, wt.branch)) {
      const tip = await baseTip(git, { ...wt, path: repoRoot });
      const out = await git(['rev-list', '--count', `${tip}..refs/heads/${wt.branch}`], {
        cwd: repoRoot,
        readOnly: true,
      });
      const unmerged = Number(out.stdout.trim()) || 0;
      if (!options.force) assertNoWork(wt, { uncommitted: [], unmerged, baseIsBranch: true });
      else if (unmerged > 0) {
        saved = `refs/autodev/removed/${wt.branch}/${stamp()}`;
        await git(['update-ref', saved, `refs/heads/${wt.branch}`], { cwd: repoRoot, timeoutMs: 30_000 });
      }
    }
  }
  if (await branchExists(git, repoRoot, wt.branch)) {
    await git(['branch', '-D', '-q', wt.branch], { cwd: repoRoot, timeoutMs: 30_000 });
  }
  return { saved_ref: saved };
}

export function assertNoWork(wt: WorktreeRef, state: WorkState): void {
  const reasons: string[] = [];
  if (state.uncommitted.length > 0) reasons.push(`uncommitted changes (${listFiles(state.uncommitted)})`);
  if (state.unmerged > 0)
    reasons.push(`${state.unmerged} commit${state.unmerged === 1 ? '' : 's'} not merged into ${wt.base}`);
  if (reasons.length > 0) {
    throw new WorktreeError(
      `refusing to remove ${wt.path}: it has ${reasons.join(' and ')}; merge, commit or discard them, or remove with force=true`,
      'CONFLICT',
      { files: state.uncommitted },
    );
  }
}
