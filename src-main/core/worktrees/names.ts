import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * Names of managed worktrees: `<managed root>/<repo>-<hash>/<branch>`. The hash (of the repository's
 * shared git directory) keeps two checkouts named `app` apart; the branch path mirrors the branch, so
 * a folder says which branch it holds.
 */

/** Prefix of branches AutoDev names itself. */
export const BRANCH_PREFIX = 'autodev/';

/** "Fix the login page!" → "fix-the-login-page". */
export function slugify(text: string, maxLength = 40): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[.]{2,}/g, '.')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, maxLength)
    .replace(/[-._]+$/g, '');
  return slug || 'session';
}

export function defaultBranchName(sessionName: string): string {
  return `${BRANCH_PREFIX}${slugify(sessionName)}`;
}

/** `myapp-1a2b3c4d`: the repository's folder under the managed root. */
export function repoFolderName(mainRoot: string, commonDir: string): string {
  const hash = createHash('sha256').update(commonDir).digest('hex').slice(0, 8);
  return `${slugify(path.basename(mainRoot), 40)}-${hash}`;
}

/** The worktree folder for a branch; throws if the branch would lead outside the managed root. */
export function worktreeFolder(managedRoot: string, repoFolder: string, branch: string): string {
  const base = path.resolve(managedRoot, repoFolder);
  const folder = path.resolve(base, ...branch.split('/'));
  if (!folder.startsWith(`${base}${path.sep}`)) throw new Error(`branch ${branch} does not name a folder`);
  return folder;
}

/** Candidate names for a branch: `name`, `name-2`, `name-3`, … */
export function* branchCandidates(name: string, max = 100): Generator<string> {
  yield name;
  for (let n = 2; n <= max; n++) yield `${name}-${n}`;
}
