import { z } from 'zod';

/**
 * Sessions in their own git worktree and branch, their changes, and acting on them (issue 14).
 * REST: `POST /cli/sessions {worktree}`, `GET /cli/sessions/{id}/changes`, `POST …/changes/commit|merge|discard`,
 * `DELETE /cli/sessions/{id}?remove_worktree=true[&force=true]`, `GET /worktrees`, `GET /worktrees/inspect`.
 * IPC: the `autodev:changes:*` and `autodev:worktrees:*` channels (src-shared/ipc.ts) with the same bodies.
 */

/** Branch names as `git check-ref-format --branch` would take them, minus anything a shell or a path could misread. */
const BRANCH_PATTERN =
  /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock(?:\/|$))[A-Za-z0-9._/+-]{1,200}(?<![./])$/;
export const BranchNameSchema = z
  .string()
  .regex(BRANCH_PATTERN, 'must be a branch name: letters, digits, . _ / + -, no "..", not starting with "-"');
/** A ref the base may be given as: a branch, tag or commit id (resolved by git, never passed to a shell). */
export const RefSchema = z
  .string()
  .regex(/^(?!-)[A-Za-z0-9._/+^~@-]{1,200}$/, 'must be a git ref (branch, tag or commit)');

/** `worktree` in a create request: isolate the session in a new worktree of the directory's repository. */
export const WorktreeRequestSchema = z.strictObject({
  /** Ref the new branch starts from; default the repository's current branch. */
  base: RefSchema.optional(),
  /** New branch name; default derived from the session name and made unique. */
  branch: BranchNameSchema.optional(),
});
export type WorktreeRequest = z.infer<typeof WorktreeRequestSchema>;

/** `SessionInfo.worktree`: where the session runs and what it branched from. */
export const WorktreeInfoSchema = z.object({
  /** The repository's main working tree. */
  repo: z.string(),
  /** The session's worktree (its working directory, or a parent of it). */
  path: z.string(),
  branch: z.string(),
  /** The ref the branch started from and merges go into. */
  base: z.string(),
  /** The commit `base` pointed at when the worktree was made. */
  base_commit: z.string(),
});
export type WorktreeInfo = z.infer<typeof WorktreeInfoSchema>;

export const CHANGE_STATUSES = ['added', 'modified', 'deleted', 'renamed', 'copied', 'type_changed'] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export interface ChangedFile {
  path: string;
  /** The path before a rename or copy, else null. */
  old_path: string | null;
  status: ChangeStatus;
  additions: number;
  deletions: number;
  binary: boolean;
  /** Differs from the worktree's HEAD: not committed yet (untracked files included). */
  uncommitted: boolean;
  /** Its diff is cut short or left out of `diff` (size cap); `?path=` gives it whole up to a larger cap. */
  truncated: boolean;
}

/** `GET /cli/sessions/{id}/changes`: everything on the branch since it left the base, committed or not. */
export interface ChangesResponse {
  session_id: string;
  base: string;
  branch: string;
  /** The worktree's HEAD commit. */
  head: string;
  /** Where the branch left the base (the changes are against this commit). */
  merge_base: string;
  /** Commits on the branch that the base lacks, and the other way round. */
  ahead: number;
  behind: number;
  files: ChangedFile[];
  additions: number;
  deletions: number;
  uncommitted_files: number;
  /** Unified diff (git format) of `files`, capped in size; files cut short are marked `truncated`. */
  diff: string;
  truncated: boolean;
}

export const ChangesQuerySchema = z.object({
  /** One file's diff (relative to the worktree root). */
  path: z
    .string()
    .min(1)
    .max(4096)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), {
      message: 'must be a relative path inside the worktree',
    })
    .optional(),
});
export type ChangesQuery = z.input<typeof ChangesQuerySchema>;

/** What the events channel carries when a worktree's files change (debounced file-system watch). */
export interface ChangesSummary {
  head: string;
  merge_base: string;
  ahead: number;
  behind: number;
  files: number;
  additions: number;
  deletions: number;
  uncommitted_files: number;
  at: string;
}

export const CommitRequestSchema = z.strictObject({
  message: z.string().trim().min(1, 'must not be empty').max(10_000),
});
export type CommitRequest = z.infer<typeof CommitRequestSchema>;

export const MERGE_STRATEGIES = ['merge', 'squash', 'rebase'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];
export const MergeRequestSchema = z.strictObject({
  strategy: z.enum(MERGE_STRATEGIES).default('merge'),
  /** Commit message for `merge` and `squash` (a default names the branch and session). */
  message: z.string().trim().min(1).max(10_000).optional(),
});
export type MergeRequest = z.input<typeof MergeRequestSchema>;

export interface CommitResult {
  session_id: string;
  commit: string;
  branch: string;
  files: number;
}

export interface MergeResult {
  session_id: string;
  strategy: MergeStrategy;
  base: string;
  /** The base branch's new tip. */
  base_commit: string;
  previous_base_commit: string;
  /** The base branch's checkout that was fast-forwarded (left clean), or null when none has it checked out. */
  updated_checkout: string | null;
}

export interface DiscardResult {
  session_id: string;
  /** The commit the worktree was reset to (where the branch left its base). */
  reset_to: string;
  /** A ref keeping what was discarded (commits and uncommitted files), or null when there was nothing. */
  saved_ref: string | null;
}

export const RemoveWorktreeQuerySchema = z.object({
  remove_worktree: z.enum(['true', 'false', '1', '0']).optional(),
  force: z.enum(['true', 'false', '1', '0']).optional(),
});

export interface RemoveWorktreeResult {
  path: string;
  branch: string;
  /** With force: a ref keeping the unmerged or uncommitted work that was removed, else null. */
  saved_ref: string | null;
}

/** How a managed worktree stands (GET /worktrees). */
export const WORKTREE_STATES = [
  'active', // its session is running
  'ended', // its session ended normally
  'crashed', // its session was live when AutoDev stopped without ending it; found at start-up
  'missing', // registered, but the folder is gone
  'unregistered', // found in the managed folder, unknown to the registry (e.g. a database was reset)
] as const;
export type WorktreeState = (typeof WORKTREE_STATES)[number];

export interface WorktreeListItem extends WorktreeInfo {
  session_id: string | null;
  session_name: string | null;
  session_state: string | null;
  state: WorktreeState;
  created_at: string | null;
  ended_at: string | null;
  /** Bytes on disk (du), null when it could not be measured. */
  disk_usage_bytes: number | null;
  /** Tracked changes or untracked files not committed. */
  uncommitted: boolean;
  uncommitted_files: string[];
  /** Commits on the branch that the base does not have. */
  unmerged_commits: number;
  /** Clean and fully in the base: safe to remove. */
  merged: boolean;
}

/** `GET /worktrees/inspect?path=`: what the new-session dialog needs to offer a worktree. */
export interface RepositoryInfo {
  path: string;
  is_repo: boolean;
  repo: string | null;
  current_branch: string | null;
  branches: string[];
}

export const InspectQuerySchema = z.object({ path: z.string().min(1).max(4096) });
