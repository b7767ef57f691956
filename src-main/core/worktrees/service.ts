import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type CreateSessionOptions, FINAL_STATES, type SessionInfo } from '../../../src-shared/session.ts';
import type {
  ChangesResponse,
  CommitResult,
  DiscardResult,
  MergeRequest,
  MergeResult,
  RemoveWorktreeResult,
  RepositoryInfo,
  WorktreeInfo,
  WorktreeListItem,
} from '../../../src-shared/worktrees.ts';
import { MergeRequestSchema } from '../../../src-shared/worktrees.ts';
import type { LiveEvent } from '../../../src-shared/ws-protocol.ts';
import type { Logger } from '../log/logger.ts';
import type { SessionManager } from '../sessions/types.ts';
import { assertNoWork, commitAll, discardAll, removeWorktree, workState } from './actions.ts';
import { changesWithDiff, type DiffLimits, type WorktreeRef } from './changes.ts';
import { WorktreeError } from './errors.ts';
import { createGit, type Git, GitError } from './git.ts';
import { describe, describeUnregistered, findUnregistered } from './inventory.ts';
import { LiveChanges } from './live-changes.ts';
import { mergeIntoBase } from './merge.ts';
import { KeyedMutex } from './mutex.ts';
import { branchCandidates, defaultBranchName, repoFolderName, worktreeFolder } from './names.ts';
import type { WorktreeRecord, WorktreeRegistry } from './registry.ts';
import { branchExists, gitDirOf, listBranches, locateRepository, resolveCommit } from './repository.ts';
import { copyIncludes, includeList, type RepositorySettings, resolveSetup, settingsFor } from './setup.ts';

export interface WorktreeServiceOptions {
  sessions: SessionManager;
  registry: WorktreeRegistry;
  /** Managed folder (`<data dir>/worktrees` by default). */
  root: string;
  /** Remove merged, clean worktrees of sessions ended this many days ago (null: never). */
  retentionDays: number | null;
  repositories: readonly RepositorySettings[];
  logger: Logger;
  /** Publishes live events (the core's events channel). */
  publish(event: LiveEvent): void;
  /** Sessions of earlier runs (the store). */
  storedSession?(sessionId: string): SessionInfo | undefined;
  env?: NodeJS.ProcessEnv;
  git?: Git;
  watch?: { debounceMs?: number; maxWaitMs?: number; maxDirectories?: number };
  diffLimits?: Partial<DiffLimits>;
  /** How often retention runs after start-up (default 6 h). */
  retentionIntervalMs?: number;
  now?: () => Date;
}

export interface EndSessionOutcome {
  session_id: string;
  status: string;
  session: SessionInfo;
  worktree_removed: RemoveWorktreeResult | null;
}

/**
 * Sessions in their own worktree, above the session manager: it makes the worktree (and branch),
 * copies the include list, resolves the set-up command, then asks the manager for a session whose
 * working directory is the worktree. It watches live sessions' worktrees (debounced fs.watch, no
 * polling) and announces changes on the events channel, and it commits, merges, discards and removes.
 */
export class WorktreeService {
  private readonly _o: WorktreeServiceOptions;
  private readonly _git: Git;
  private readonly _env: NodeJS.ProcessEnv;
  private readonly _log: Logger;
  private readonly _repoLocks = new KeyedMutex();
  private readonly _treeLocks = new KeyedMutex();
  private readonly _gitDirs = new Map<string, string>();
  private readonly _live: LiveChanges;
  private readonly _disposables: { dispose(): void }[] = [];
  private _retentionTimer: NodeJS.Timeout | undefined;
  private _closed = false;

  constructor(options: WorktreeServiceOptions) {
    this._o = options;
    this._env = options.env ?? process.env;
    this._git = options.git ?? createGit(this._env);
    this._log = options.logger.child({ component: 'worktrees' });
    this._live = new LiveChanges({
      git: this._git,
      logger: this._log,
      treeLocks: this._treeLocks,
      publish: (event) => options.publish(event),
      lookup: (worktree) => this._lookup(worktree),
      ...(options.watch ? { watch: options.watch } : {}),
    });
    this._disposables.push(options.sessions.onDidExit((session) => this._sessionEnded(session)));
  }

  private get _now(): string {
    return (this._o.now?.() ?? new Date()).toISOString();
  }

  // ── start-up ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Finds the worktrees of sessions that never ended (AutoDev was killed): they are marked
   * `crashed` and listed, never deleted. Then retention starts (in the background), and runs again
   * every few hours.
   */
  async start(): Promise<{ crashed: string[] }> {
    const crashed: string[] = [];
    for (const record of this._o.registry.live()) {
      if (record.ended_at !== null) continue;
      // Start-up recovery already marked this instance's interrupted sessions terminated; a session
      // still live in the store belongs to another instance sharing the database, and is left alone.
      const stored = record.session_id ? this._o.storedSession?.(record.session_id) : undefined;
      if (stored && !FINAL_STATES.has(stored.state)) continue;
      this._o.registry.markEnded(record.path, stored?.ended_at ?? this._now, true);
      crashed.push(record.path);
    }
    if (crashed.length > 0)
      this._log.warn('worktrees left by sessions that were live when AutoDev stopped', { paths: crashed });
    // Sessions the PTY host kept running across the restart (adopted before this runs): watched again.
    for (const session of this._o.sessions.list()) {
      const record = this._o.registry.bySession(session.session_id);
      if (!record || record.removed_at !== null || session.ended_at !== null || !existsSync(record.path))
        continue;
      this._gitDir(record.path)
        .then((gitDir) => this._live.watch(session.session_id, { ...record, gitDir }, record.common_dir))
        .catch((error) => this._log.warn('cannot watch an adopted worktree', { path: record.path, error }));
    }
    // Retention runs in the background: start-up does not wait on git for every old worktree.
    void this.runRetention().catch((error) => this._log.error('worktree retention failed', { error }));
    if (this._o.retentionDays !== null) {
      this._retentionTimer = setInterval(
        () =>
          void this.runRetention().catch((error) => this._log.error('worktree retention failed', { error })),
        this._o.retentionIntervalMs ?? 6 * 3600_000,
      );
      this._retentionTimer.unref();
    }
    return { crashed };
  }

  // ── creating ────────────────────────────────────────────────────────────────────────────────

  async inspect(dir: string): Promise<RepositoryInfo> {
    const loc = path.isAbsolute(dir) && existsSync(dir) ? await locateRepository(this._git, dir) : null;
    if (!loc) return { path: dir, is_repo: false, repo: null, current_branch: null, branches: [] };
    const branches = await listBranches(this._git, loc.top).catch(() => []);
    return {
      path: dir,
      is_repo: true,
      repo: loc.mainRoot,
      current_branch: loc.currentBranch,
      branches: branches.slice(0, 500),
    };
  }

  /** Makes the worktree, then the session in it. Without `worktree` in the options: a plain session. */
  async createSession(options: CreateSessionOptions): Promise<SessionInfo> {
    const { worktree: request, ...rest } = options;
    if (!request) return this._o.sessions.create(rest);
    const dir = options.working_directory;
    if (!dir) {
      throw new WorktreeError(
        'worktree: needs working_directory inside a git repository',
        'VALIDATION_ERROR',
      );
    }
    const loc = await locateRepository(this._git, dir);
    if (!loc) {
      throw new WorktreeError(
        `worktree: working_directory ${dir} is not inside a git repository`,
        'VALIDATION_ERROR',
      );
    }
    if (!loc.head) {
      throw new WorktreeError(
        `worktree: the repository ${loc.mainRoot} has no commits yet`,
        'VALIDATION_ERROR',
      );
    }
    const base = request.base ?? loc.currentBranch;
    if (!base) {
      throw new WorktreeError(
        `worktree: ${loc.top} is on a detached HEAD; name the base (worktree.base)`,
        'VALIDATION_ERROR',
      );
    }
    const baseCommit = await resolveCommit(this._git, loc.top, base);
    if (!baseCommit) throw new WorktreeError(`worktree.base: "${base}" names no commit`, 'VALIDATION_ERROR');

    const made = await this._repoLocks.run(loc.commonDir, () =>
      this._makeWorktree(loc, base, baseCommit, request.branch, options.name ?? options.cli_tool),
    );
    const settings = settingsFor(this._o.repositories, loc.mainRoot);
    const includes = copyIncludes(includeList(settings, made.path, loc.mainRoot), loc.mainRoot, made.path);
    if (includes.copied.length > 0 || includes.skipped.length > 0)
      this._log.info('include list copied', { path: made.path, ...includes });
    const setup = resolveSetup(settings, made.path, loc.mainRoot);
    const sub = loc.prefix ? path.join(made.path, loc.prefix) : made.path;
    const info: WorktreeInfo = {
      repo: loc.mainRoot,
      path: made.path,
      branch: made.branch,
      base,
      base_commit: baseCommit,
    };
    let session: SessionInfo;
    try {
      session = await this._o.sessions.create(
        { ...rest, working_directory: existsSync(sub) ? sub : made.path },
        { worktree: info, ...(setup ? { setup } : {}) },
      );
    } catch (error) {
      // No session (limit reached…): the new worktree holds nothing yet, so it goes again.
      await this._repoLocks
        .run(loc.commonDir, () =>
          removeWorktree(this._git, { ...info, gitDir: made.gitDir }, loc.mainRoot, { force: true }),
        )
        .catch((e) => this._log.warn('could not remove an unused worktree', { path: made.path, error: e }));
      this._o.registry.delete(made.path);
      throw error;
    }
    this._o.registry.bindSession(made.path, session.session_id);
    this._log.info('session in a worktree', {
      session_id: session.session_id,
      path: made.path,
      branch: made.branch,
      base,
      setup: setup?.label ?? null,
    });
    if (session.ended_at === null)
      this._live.watch(session.session_id, { ...info, gitDir: made.gitDir }, loc.commonDir).catch((error) =>
        this._log.warn('cannot watch the worktree; changes are announced after actions only', {
          path: made.path,
          error,
        }),
      );
    else this._o.registry.markEnded(made.path, session.ended_at, false);
    return session;
  }

  private async _makeWorktree(
    loc: NonNullable<Awaited<ReturnType<typeof locateRepository>>>,
    base: string,
    baseCommit: string,
    requested: string | undefined,
    sessionName: string,
  ): Promise<{ path: string; branch: string; gitDir: string }> {
    const repoFolder = repoFolderName(loc.mainRoot, loc.commonDir);
    let chosen: { branch: string; folder: string } | null = null;
    if (requested) {
      await this._git(['check-ref-format', '--branch', requested], { cwd: loc.top, readOnly: true }).catch(
        () => {
          throw new WorktreeError(
            `worktree.branch: "${requested}" is not a valid branch name`,
            'VALIDATION_ERROR',
          );
        },
      );
      if (await branchExists(this._git, loc.top, requested))
        throw new WorktreeError(`worktree.branch: a branch "${requested}" exists already`, 'CONFLICT');
      const folder = worktreeFolder(this._o.root, repoFolder, requested);
      if (existsSync(folder))
        throw new WorktreeError(`worktree.branch: the folder ${folder} exists already`, 'CONFLICT');
      chosen = { branch: requested, folder };
    } else {
      for (const branch of branchCandidates(defaultBranchName(sessionName))) {
        const folder = worktreeFolder(this._o.root, repoFolder, branch);
        if (existsSync(folder) || (await branchExists(this._git, loc.top, branch))) continue;
        if (this._o.registry.byPath(folder)?.removed_at === null) continue;
        chosen = { branch, folder };
        break;
      }
      if (!chosen)
        throw new WorktreeError('worktree: no free branch name; name one (worktree.branch)', 'CONFLICT');
    }
    // Registered first: a crash from here on leaves a row that start-up lists.
    this._o.registry.add({
      repo: loc.mainRoot,
      common_dir: loc.commonDir,
      path: chosen.folder,
      branch: chosen.branch,
      base,
      base_commit: baseCommit,
      session_id: null,
      created_at: this._now,
      ended_at: null,
      left_by_crash: false,
      merged_at: null,
      removed_at: null,
    });
    try {
      mkdirSync(path.dirname(chosen.folder), { recursive: true });
      await this._git(['worktree', 'add', '--quiet', '-b', chosen.branch, chosen.folder, baseCommit], {
        cwd: loc.mainRoot,
        timeoutMs: 300_000,
      });
    } catch (error) {
      this._o.registry.delete(chosen.folder);
      const detail = error instanceof GitError ? error.message : String(error);
      throw new WorktreeError(`could not create the worktree: ${detail}`, 'CONFLICT');
    }
    const gitDir = await gitDirOf(this._git, chosen.folder);
    this._gitDirs.set(chosen.folder, gitDir);
    return { path: chosen.folder, branch: chosen.branch, gitDir };
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────

  async changes(sessionId: string, query: { path?: string | undefined } = {}): Promise<ChangesResponse> {
    const { ref } = await this._worktreeOf(sessionId);
    return this._treeLocks.run(ref.path, () =>
      changesWithDiff(this._git, this._env, sessionId, ref, {
        ...(query.path !== undefined ? { path: query.path } : {}),
        ...(this._o.diffLimits ? { limits: this._o.diffLimits } : {}),
      }),
    );
  }

  async list(): Promise<WorktreeListItem[]> {
    const records = this._o.registry.live();
    const items: WorktreeListItem[] = [];
    for (const record of records) {
      const live = this._o.sessions.get(record.session_id ?? '');
      const session = live ?? (record.session_id ? this._o.storedSession?.(record.session_id) : undefined);
      const isLive = live !== undefined && !FINAL_STATES.has(live.state) && live.ended_at === null;
      const gitDir = (await this._gitDir(record.path).catch(() => null)) ?? '';
      items.push(await describe(this._git, record, session, isLive, gitDir));
    }
    const known = new Set(records.map((r) => r.path));
    for (const dir of await findUnregistered(this._o.root, known))
      items.push(await describeUnregistered(this._git, dir));
    return items;
  }

  // ── acting ──────────────────────────────────────────────────────────────────────────────────

  async commit(sessionId: string, message: string): Promise<CommitResult> {
    const { record, ref } = await this._worktreeOf(sessionId);
    const result = await this._repoLocks.run(record.common_dir, () =>
      this._treeLocks.run(ref.path, () => commitAll(this._git, ref, message)),
    );
    this._log.info('committed', { session_id: sessionId, commit: result.commit, files: result.files });
    void this._live.announce(sessionId, ref);
    return { session_id: sessionId, commit: result.commit, branch: ref.branch, files: result.files };
  }

  async merge(sessionId: string, request: MergeRequest): Promise<MergeResult> {
    const { strategy, message } = MergeRequestSchema.parse(request);
    const { record, ref, session } = await this._worktreeOf(sessionId);
    const outcome = await this._repoLocks.run(record.common_dir, () =>
      this._treeLocks.run(ref.path, () =>
        mergeIntoBase(this._git, ref, { strategy, message, sessionName: session?.name ?? ref.branch }),
      ),
    );
    this._o.registry.markMerged(record.path, this._now);
    this._log.info('merged', { session_id: sessionId, strategy, base: ref.base, ...outcome });
    void this._live.announce(sessionId, ref);
    this._live.pokeRepository(record.common_dir, ref.path);
    return { session_id: sessionId, strategy, base: ref.base, ...outcome };
  }

  async discard(sessionId: string): Promise<DiscardResult> {
    const { record, ref } = await this._worktreeOf(sessionId);
    const result = await this._repoLocks.run(record.common_dir, () =>
      this._treeLocks.run(ref.path, () => discardAll(this._git, ref)),
    );
    this._log.info('discarded', { session_id: sessionId, ...result });
    void this._live.announce(sessionId, ref);
    return { session_id: sessionId, ...result };
  }

  /**
   * Ends the session; with `removeWorktree`, also removes its worktree and branch — refused (before
   * anything happens) while there is uncommitted or unmerged work, unless `force`.
   */
  async endSession(
    sessionId: string,
    options: { removeWorktree?: boolean; force?: boolean } = {},
  ): Promise<EndSessionOutcome> {
    const live = this._o.sessions.get(sessionId);
    if (!live && !this._o.storedSession?.(sessionId))
      throw new WorktreeError(`session ${sessionId} not found`, 'NOT_FOUND');
    let removed: RemoveWorktreeResult | null = null;
    if (options.removeWorktree) {
      const { record, ref } = await this._worktreeOf(sessionId, { allowMissing: true });
      removed = await this._repoLocks.run(record.common_dir, async () => {
        const force = options.force === true;
        if (!force && existsSync(ref.path)) assertNoWork(ref, await workState(this._git, ref));
        await this._terminate(sessionId);
        // The agent is gone: what the check saw is final (removeWorktree checks again unless forced).
        const { saved_ref } = await this._treeLocks.run(ref.path, () =>
          removeWorktree(this._git, ref, record.repo, { force }),
        );
        this._live.unwatch(record.path);
        this._o.registry.markRemoved(record.path, this._now, force ? 'removed with force' : 'removed');
        this._log.info('worktree removed', {
          session_id: sessionId,
          path: ref.path,
          branch: ref.branch,
          saved_ref,
        });
        return { path: ref.path, branch: ref.branch, saved_ref };
      });
    } else {
      await this._terminate(sessionId);
    }
    const session = this._o.sessions.get(sessionId) ?? this._o.storedSession?.(sessionId) ?? live!;
    return { session_id: sessionId, status: session.state, session, worktree_removed: removed };
  }

  private async _terminate(sessionId: string): Promise<void> {
    const live = this._o.sessions.get(sessionId);
    if (live && !FINAL_STATES.has(live.state) && live.ended_at === null)
      await this._o.sessions.terminate(sessionId, 'terminated via REST');
  }

  /** Removes merged, clean worktrees of sessions that ended more than `retentionDays` ago. Nothing else. */
  async runRetention(): Promise<string[]> {
    const days = this._o.retentionDays;
    if (days === null) return [];
    const cutoff = (this._o.now?.() ?? new Date()).getTime() - days * 86_400_000;
    const removed: string[] = [];
    for (const record of this._o.registry.live()) {
      if (this._closed) break;
      if (!record.ended_at || Date.parse(record.ended_at) > cutoff || !existsSync(record.path)) continue;
      const live = record.session_id ? this._o.sessions.get(record.session_id) : undefined;
      if (live && live.ended_at === null) continue;
      try {
        const gitDir = await this._gitDir(record.path);
        const ref: WorktreeRef = { ...record, gitDir };
        await this._repoLocks.run(record.common_dir, async () => {
          const work = await workState(this._git, ref);
          if (!work.baseIsBranch || work.uncommitted.length > 0 || work.unmerged > 0) return;
          await removeWorktree(this._git, ref, record.repo, { force: false });
          this._o.registry.markRemoved(record.path, this._now, `retention (${days} days)`);
          removed.push(record.path);
        });
      } catch (error) {
        this._log.warn('retention skipped a worktree', { path: record.path, error });
      }
    }
    if (removed.length > 0)
      this._log.info('retention removed merged, clean worktrees', { paths: removed, days });
    return removed;
  }

  async close(): Promise<void> {
    this._closed = true;
    clearInterval(this._retentionTimer);
    for (const d of this._disposables) d.dispose();
    this._live.close();
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  private async _gitDir(worktree: string): Promise<string> {
    const known = this._gitDirs.get(worktree);
    if (known) return known;
    const dir = await gitDirOf(this._git, worktree);
    this._gitDirs.set(worktree, dir);
    return dir;
  }

  private async _worktreeOf(
    sessionId: string,
    options: { allowMissing?: boolean } = {},
  ): Promise<{ record: WorktreeRecord; ref: WorktreeRef; session: SessionInfo | undefined }> {
    const session = this._o.sessions.get(sessionId) ?? this._o.storedSession?.(sessionId);
    const record = this._o.registry.bySession(sessionId);
    if (!record) {
      if (!session) throw new WorktreeError(`session ${sessionId} not found`, 'NOT_FOUND');
      throw new WorktreeError(`session ${sessionId} does not run in a worktree`, 'NOT_FOUND');
    }
    if (record.removed_at !== null)
      throw new WorktreeError(`the worktree of session ${sessionId} was removed`, 'NOT_FOUND');
    if (!existsSync(record.path)) {
      // Removing a worktree whose folder is gone only drops git's record and the branch.
      if (options.allowMissing) return { record, ref: { ...record, gitDir: '' }, session };
      throw new WorktreeError(`the worktree ${record.path} is missing on disk`, 'NOT_FOUND');
    }
    return { record, ref: { ...record, gitDir: await this._gitDir(record.path) }, session };
  }

  private _sessionEnded(session: SessionInfo): void {
    const record = this._o.registry.bySession(session.session_id);
    if (!record || record.removed_at !== null) return;
    this._o.registry.markEnded(record.path, session.ended_at ?? this._now, false);
    // One last look at what the agent left, then no more watching (nothing else writes there).
    void this._live.finish(record.path);
  }

  /** The registered worktree at `path` as the change computations need it (null once removed). */
  private _lookup(worktree: string): WorktreeRef | null {
    const record = this._o.registry.byPath(worktree);
    const gitDir = this._gitDirs.get(worktree);
    return record && record.removed_at === null && gitDir ? { ...record, gitDir } : null;
  }
}
