import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Tells when files in a worktree change: one non-recursive `fs.watch` (inotify) per directory that git
 * does not ignore, plus one on the worktree's git directory (index, HEAD, commit message: commits and
 * resets made inside the worktree). Events are debounced — a trailing quiet period, bounded by a
 * maximum wait during a continuous flood — so `npm install` or a code generator costs one recompute
 * per `maxWaitMs`, not one per file. No polling anywhere: nothing runs while nothing changes.
 *
 * Node's own `fs.watch(dir, {recursive: true})` on Linux is not used: it puts a watcher on every file
 * (node_modules included) and walks the tree synchronously on the main thread.
 */
export interface DirectoryWatcherOptions {
  root: string;
  /** The worktree's git directory (`<common>/worktrees/<name>`). */
  gitDir: string;
  /** Directories (relative to root, '/'-separated) git ignores at start: never watched. */
  ignored: ReadonlySet<string>;
  /** Which of these new directories (relative) git ignores. */
  checkIgnored(relativeDirs: string[]): Promise<Set<string>>;
  onChange(): void;
  debounceMs?: number;
  maxWaitMs?: number;
  /** Directories watched at most (inotify watches are a per-user resource). */
  maxDirectories?: number;
  onError?(error: unknown): void;
}

/** Files of ours in the git directory: writing them must not wake ourselves up. */
const OWN_FILES = /^autodev-snapshot\.index/;

export class DirectoryWatcher {
  private readonly _o: Required<Omit<DirectoryWatcherOptions, 'onError'>> &
    Pick<DirectoryWatcherOptions, 'onError'>;
  private readonly _watchers = new Map<string, FSWatcher>();
  private _gitWatcher: FSWatcher | null = null;
  private readonly _ignored: Set<string>;
  private readonly _candidates = new Set<string>();
  private _trailing: NodeJS.Timeout | undefined;
  private _maxWait: NodeJS.Timeout | undefined;
  private _disposed = false;
  private _limitReported = false;
  /** Events seen and debounced batches fired (for tests and diagnostics). */
  events = 0;
  batches = 0;

  constructor(options: DirectoryWatcherOptions) {
    this._o = { debounceMs: 300, maxWaitMs: 2000, maxDirectories: 20_000, ...options };
    this._ignored = new Set(options.ignored);
  }

  get watchedDirectories(): number {
    return this._watchers.size;
  }

  async start(): Promise<void> {
    try {
      this._gitWatcher = watch(this._o.gitDir, { persistent: false }, (_event, filename) => {
        const name = filename?.toString() ?? '';
        if (OWN_FILES.test(name) || name.endsWith('.lock')) return;
        this._schedule();
      });
      this._gitWatcher.on('error', (error) => this._o.onError?.(error));
    } catch (error) {
      this._o.onError?.(error);
    }
    await this._addTree(this._o.root);
  }

  dispose(): void {
    this._disposed = true;
    clearTimeout(this._trailing);
    clearTimeout(this._maxWait);
    for (const w of this._watchers.values()) w.close();
    this._watchers.clear();
    this._gitWatcher?.close();
    this._gitWatcher = null;
  }

  /** Run the change callback soon, as if files had changed (after AutoDev's own git actions). */
  poke(): void {
    this._schedule();
  }

  private _relative(dir: string): string {
    return path.relative(this._o.root, dir).split(path.sep).join('/');
  }

  private async _addTree(top: string): Promise<boolean> {
    let added = false;
    const stack = [top];
    while (stack.length > 0 && !this._disposed) {
      const dir = stack.pop()!;
      if (this._watchers.has(dir)) continue;
      if (this._watchers.size >= this._o.maxDirectories) {
        if (!this._limitReported) {
          this._limitReported = true;
          this._o.onError?.(
            new Error(
              `watching ${this._o.maxDirectories} directories; deeper changes are seen at the next event`,
            ),
          );
        }
        return added;
      }
      if (!this._watch(dir)) continue;
      added = true;
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (!entry.isDirectory() || entry.name === '.git') continue;
        const child = path.join(dir, entry.name);
        if (this._ignored.has(this._relative(child))) continue;
        stack.push(child);
      }
    }
    return added;
  }

  private _watch(dir: string): boolean {
    try {
      const watcher = watch(dir, { persistent: false }, (event, filename) => {
        this.events++;
        if (event === 'rename' && filename) this._candidates.add(path.join(dir, filename.toString()));
        this._schedule();
      });
      watcher.on('error', () => this._unwatch(dir));
      this._watchers.set(dir, watcher);
      return true;
    } catch {
      return false; // gone already, or not readable
    }
  }

  private _unwatch(dir: string): void {
    for (const [watched, watcher] of this._watchers) {
      if (watched === dir || watched.startsWith(`${dir}${path.sep}`)) {
        watcher.close();
        this._watchers.delete(watched);
      }
    }
  }

  private _schedule(): void {
    if (this._disposed) return;
    clearTimeout(this._trailing);
    this._trailing = setTimeout(() => this._fire(), this._o.debounceMs);
    this._maxWait ??= setTimeout(() => this._fire(), this._o.maxWaitMs);
  }

  private _fire(): void {
    clearTimeout(this._trailing);
    clearTimeout(this._maxWait);
    this._trailing = undefined;
    this._maxWait = undefined;
    if (this._disposed) return;
    this.batches++;
    const candidates = [...this._candidates];
    this._candidates.clear();
    this._o.onChange();
    if (candidates.length > 0) void this._reconcile(candidates);
  }

  /** Created directories get watchers (unless ignored); removed ones lose theirs. */
  private async _reconcile(candidates: string[]): Promise<void> {
    const created: string[] = [];
    for (const candidate of candidates) {
      if (path.basename(candidate) === '.git') continue;
      try {
        const s = await stat(candidate);
        if (s.isDirectory() && !this._watchers.has(candidate)) created.push(candidate);
      } catch {
        if (this._watchers.has(candidate)) this._unwatch(candidate);
      }
    }
    if (created.length === 0 || this._disposed) return;
    let ignored: Set<string>;
    try {
      ignored = await this._o.checkIgnored(created.map((d) => this._relative(d)));
    } catch (error) {
      this._o.onError?.(error);
      ignored = new Set();
    }
    let added = false;
    for (const dir of created) {
      const rel = this._relative(dir);
      if (ignored.has(rel)) {
        this._ignored.add(rel);
        continue;
      }
      if (await this._addTree(dir)) added = true;
    }
    // Files written into a new directory before its watcher existed are caught by one more round.
    if (added) this._schedule();
  }
}
