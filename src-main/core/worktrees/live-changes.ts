import { existsSync } from 'node:fs';
import type { LiveEvent } from '../../../src-shared/ws-protocol.ts';
import type { Logger } from '../log/logger.ts';
import { changesSummary, type WorktreeRef } from './changes.ts';
import { type Git, splitZ } from './git.ts';
import type { KeyedMutex } from './mutex.ts';
import { DirectoryWatcher, type DirectoryWatcherOptions } from './watcher.ts';

export interface LiveChangesOptions {
  git: Git;
  logger: Logger;
  treeLocks: KeyedMutex;
  publish(event: LiveEvent): void;
  /** The worktree as registered now (null once removed). */
  lookup(worktree: string): WorktreeRef | null;
  watch?: Partial<Pick<DirectoryWatcherOptions, 'debounceMs' | 'maxWaitMs' | 'maxDirectories'>>;
}

interface Watched {
  sessionId: string;
  commonDir: string;
  watcher: DirectoryWatcher;
  /** What was last announced (head, tree, merge base, behind): equal summaries are not repeated. */
  key: string;
  running: boolean;
  again: boolean;
}

/**
 * Announces a live session's worktree changes on the events channel: a DirectoryWatcher per worktree
 * (debounced fs.watch), one summary computation at a time per worktree, and an event only when the
 * summary differs from the last one announced.
 */
export class LiveChanges {
  private readonly _watched = new Map<string, Watched>();
  private _closed = false;

  private readonly _o: LiveChangesOptions;

  constructor(options: LiveChangesOptions) {
    this._o = options;
  }

  has(worktree: string): boolean {
    return this._watched.has(worktree);
  }

  async watch(sessionId: string, ref: WorktreeRef, commonDir: string): Promise<void> {
    if (this._watched.has(ref.path) || this._closed) return;
    const ignored = await this._ignoredDirectories(ref.path);
    const watcher = new DirectoryWatcher({
      root: ref.path,
      gitDir: ref.gitDir,
      ignored,
      checkIgnored: (dirs) => this._checkIgnored(ref.path, dirs),
      onChange: () => void this.refresh(ref.path),
      ...this._o.watch,
      onError: (error) => this._o.logger.debug('worktree watch', { path: ref.path, error }),
    });
    this._watched.set(ref.path, { sessionId, commonDir, watcher, key: '', running: false, again: false });
    await watcher.start();
    // The first summary is announced too: files may have changed between creation and the watch.
    await this.refresh(ref.path);
  }

  unwatch(worktree: string): void {
    this._watched.get(worktree)?.watcher.dispose();
    this._watched.delete(worktree);
  }

  /** The session ended: one last summary of what the agent left, then no more watching. */
  async finish(worktree: string): Promise<void> {
    if (!this._watched.has(worktree)) return;
    await this.refresh(worktree);
    this.unwatch(worktree);
  }

  /** One summary at a time per worktree; changes during a run cause exactly one more run. */
  async refresh(worktree: string): Promise<void> {
    const entry = this._watched.get(worktree);
    if (!entry) return;
    if (entry.running) {
      entry.again = true;
      return;
    }
    entry.running = true;
    try {
      do {
        entry.again = false;
        const ref = this._o.lookup(worktree);
        if (!ref || !existsSync(worktree)) return;
        const { tree, ...summary } = await this._o.treeLocks.run(worktree, () =>
          changesSummary(this._o.git, ref),
        );
        const key = `${summary.head} ${tree} ${summary.merge_base} ${summary.behind}`;
        if (key !== entry.key) {
          entry.key = key;
          this._o.publish({ kind: 'worktree_changes', session_id: entry.sessionId, summary });
        }
      } while (entry.again && !this._closed);
    } catch (error) {
      this._o.logger.debug('worktree summary failed', { path: worktree, error });
    } finally {
      entry.running = false;
    }
  }

  /** After an action (commit, merge, discard): announce the new state, watched or not. */
  async announce(sessionId: string, ref: WorktreeRef): Promise<void> {
    const entry = this._watched.get(ref.path);
    if (entry) {
      entry.key = '';
      return this.refresh(ref.path);
    }
    try {
      const { tree: _tree, ...summary } = await this._o.treeLocks.run(ref.path, () =>
        changesSummary(this._o.git, ref),
      );
      this._o.publish({ kind: 'worktree_changes', session_id: sessionId, summary });
    } catch (error) {
      this._o.logger.debug('worktree summary failed', { path: ref.path, error });
    }
  }

  /** The base moved: the other watched worktrees of the repository are further behind now. */
  pokeRepository(commonDir: string, except: string): void {
    for (const [path, entry] of this._watched)
      if (entry.commonDir === commonDir && path !== except) entry.watcher.poke();
  }

  close(): void {
    this._closed = true;
    for (const path of [...this._watched.keys()]) this.unwatch(path);
  }

  private async _ignoredDirectories(worktree: string): Promise<Set<string>> {
    try {
      const out = await this._o.git(
        ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory'],
        {
          cwd: worktree,
          readOnly: true,
          timeoutMs: 60_000,
        },
      );
      return new Set(
        splitZ(out.stdout)
          .filter((p) => p.endsWith('/'))
          .map((p) => p.slice(0, -1)),
      );
    } catch {
      return new Set();
    }
  }

  private async _checkIgnored(worktree: string, dirs: string[]): Promise<Set<string>> {
    const out = await this._o.git(['check-ignore', '-z', '--stdin'], {
      cwd: worktree,
      readOnly: true,
      okCodes: [1],
      input: dirs.map((d) => `${d}/`).join('\0'),
      timeoutMs: 30_000,
    });
    return new Set(splitZ(out.stdout).map((d) => d.replace(/\/$/, '')));
  }
}
