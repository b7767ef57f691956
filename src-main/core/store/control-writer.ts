// The small, ordered writes on the main connection: session rows, the command journal, the process
// ledger. Synchronous and durable (synchronous=FULL): once `command` returns, the command is on disk.
//
// When the database refuses (disk full, I/O, a lock held past busy_timeout) nothing is dropped: the
// writes are held in order, in memory and in the spill file (another directory), and the caller is told
// (PersistencePausedError for a command). `retry()` writes them back in slices, commands first — the
// session rows they need, then the commands, then the rest — so a disk with a little room takes the
// commands before any output (the ingester is held until this queue is empty).
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { SpawnRecord } from '../sessions/types.ts';
import { isPausingError, PersistencePausedError } from './persistence-status.ts';
import type { CommandEntry, SessionStore } from './session-store.ts';
import type { SpillEntry, SpillFile } from './spill-file.ts';
import { type LoggerLike, silentLogger } from './types.ts';

export interface ControlWriterOptions {
  logger?: LoggerLike;
  /** The spill file for held writes (null: memory only). */
  spill: SpillFile | null;
  /** A session's current row, when a command or spawn arrives for a session not stored yet. */
  liveSession(sessionId: string): SessionInfo | undefined;
  /** The database refused: pause (the status, the retry timer). */
  onPause(error: unknown): void;
  /** Before each write: wait while the ingester holds the write lock (its slices are short). */
  beforeWrite?(): void;
  /** After each write (committed or not): the ingester may take the lock again. */
  afterWrite?(): void;
}

/** Writes per transaction while catching up. */
const SLICE = 64;

export class ControlWriter {
  private readonly _store: SessionStore;
  private readonly _o: ControlWriterOptions & { logger: LoggerLike };
  private readonly _known = new Set<string>();
  /** Held writes, in order (sessions coalesced: the newest row of each wins). */
  private _held: SpillEntry[] = [];
  private _spilled = false;

  constructor(store: SessionStore, options: ControlWriterOptions) {
    this._store = store;
    this._o = { ...options, logger: options.logger ?? silentLogger };
  }

  /** Writes are held (the database refused and has not taken them back yet). */
  get holding(): boolean {
    return this._held.length > 0;
  }
  get heldCommands(): number {
    let n = 0;
    for (const e of this._held) if (e.k === 'command') n++;
    return n;
  }

  session(info: SessionInfo): void {
    this._write({ k: 'session', info });
  }

  spawn(record: SpawnRecord): void {
    this._ensureSession(record.session_id);
    this._write({ k: 'spawn', record });
  }

  release(session_id: string, reason: string, at: string): void {
    this._write({ k: 'release', session_id, reason, at });
  }

  /** The journal: durable when it returns; otherwise throws (PersistencePausedError: held). */
  command(entry: CommandEntry): void {
    this._ensureSession(entry.session_id);
    const outcome = this._write({ k: 'command', entry });
    if (outcome === 'written') return;
    if (outcome === 'failed')
      throw new Error(`command for ${entry.session_id} could not be stored (see log)`);
    throw new PersistencePausedError(`command for ${entry.session_id} kept, not yet in the database`);
  }

  private _ensureSession(sessionId: string): void {
    if (this._known.has(sessionId)) return;
    if (this._held.some((e) => e.k === 'session' && e.info.session_id === sessionId)) return;
    const live = this._o.liveSession(sessionId);
    if (live) this._write({ k: 'session', info: live });
    else if (this._store.hasSession(sessionId)) this._known.add(sessionId);
  }

  private _write(entry: SpillEntry): 'written' | 'held' | 'failed' {
    if (this._held.length > 0) {
      this._hold(entry);
      // The database may take writes again (a lock released, room freed): try everything, in order.
      return this.retry() ? 'written' : 'held';
    }
    try {
      this._o.beforeWrite?.();
      try {
        // A submitted line is fsynced before the agent sees it. Its keys are journaled first too, but
        // without an fsync each: a kill -9 keeps them, and the line's fsync covers them before its
        // Enter reaches the agent. An fsync per keystroke put the disk's flush time into every echo
        // (0.6 ms p50 on this machine's disk: persist_idle_journal in bench/persistence-throughput;
        // far more on a slow one).
        if (entry.k === 'command' && entry.entry.kind === 'command')
          this._store.write(() => this._apply(entry));
        else this._writeUnsynced(() => this._apply(entry));
      } finally {
        this._o.afterWrite?.();
      }
      return 'written';
    } catch (error) {
      if (isPausingError(error)) {
        this._hold(entry);
        this._o.onPause(error);
        return 'held';
      }
      this._o.logger.error('persistence: a row could not be stored and was dropped', {
        what: entry.k,
        error: String(error),
      });
      return 'failed';
    }
  }

  /**
   * Session rows, spawns, ledger releases and raw keys are not acknowledged to anyone, and they are
   * written on the thread that carries the live stream: no fsync for them (synchronous=NORMAL for that
   * one transaction). A kill -9 keeps them (the WAL is in the OS's cache); a power cut can lose the last
   * ones — recovery marks such sessions interrupted anyway — and the next command's fsync covers them.
   */
  private _writeUnsynced(fn: () => void): void {
    const db = this._store.db;
    db.pragma('synchronous = NORMAL');
    try {
      this._store.write(fn);
    } finally {
      db.pragma('synchronous = FULL');
    }
  }

  private _hold(entry: SpillEntry): void {
    if (entry.k === 'session') {
      const i = this._held.findIndex((e) => e.k === 'session' && e.info.session_id === entry.info.session_id);
      if (i >= 0) this._held.splice(i, 1);
    }
    this._held.push(entry);
    // The spill file keeps it if AutoDev stops before the database takes it (best effort: false means
    // the spill directory refuses too, and memory is all there is).
    if (this._o.spill?.append([entry])) this._spilled = true;
  }

  private _apply(entry: SpillEntry): void {
    switch (entry.k) {
      case 'session':
        this._store.upsertSession(entry.info);
        this._known.add(entry.info.session_id);
        return;
      case 'command':
        this._store.insertCommand(entry.entry);
        return;
      case 'spawn':
        this._store.recordSpawn(entry.record);
        return;
      case 'release':
        this._store.releaseLedger(entry.session_id, entry.reason, entry.at);
        return;
      case 'lost':
        this._store.insertOutput({
          session_id: entry.session_id,
          seq_start: entry.seq_start,
          seq_end: entry.seq_end,
          raw_bytes: entry.bytes,
          data: '',
          text: '',
          gap: true,
          at: entry.at,
        });
        return;
    }
  }

  /**
   * Writes what is held, in slices of at most SLICE rows, commands first (with the session rows they
   * need). true when nothing is held any more; false at the first slice the database refuses.
   */
  retry(): boolean {
    while (this._held.length > 0) {
      const slice = this._nextSlice();
      try {
        this._o.beforeWrite?.();
        try {
          this._store.write(() => {
            for (const e of slice) this._apply(e);
          });
        } finally {
          this._o.afterWrite?.();
        }
      } catch (error) {
        if (isPausingError(error)) {
          this._o.onPause(error);
          return false;
        }
        // A bug in one row must not wedge the queue: write row by row, drop only what fails.
        for (const e of slice) {
          try {
            this._store.write(() => this._apply(e));
          } catch (rowError) {
            if (isPausingError(rowError)) {
              this._o.onPause(rowError);
              return false;
            }
            this._o.logger.error('persistence: a held row could not be stored and was dropped', {
              what: e.k,
              error: String(rowError),
            });
            this._remove([e]);
          }
        }
        continue;
      }
      this._remove(slice);
    }
    if (this._spilled) {
      this._o.spill?.clear();
      this._spilled = false;
    }
    return true;
  }

  /** Commands first (and the session rows they need), then everything else in order. */
  private _nextSlice(): SpillEntry[] {
    const commands = this._held.filter((e) => e.k === 'command').slice(0, SLICE);
    if (commands.length > 0) {
      const needed = new Set(commands.map((c) => (c as { entry: CommandEntry }).entry.session_id));
      const sessions = this._held.filter((e) => e.k === 'session' && needed.has(e.info.session_id));
      return [...sessions, ...commands];
    }
    return this._held.slice(0, SLICE);
  }

  private _remove(done: SpillEntry[]): void {
    const set = new Set(done);
    this._held = this._held.filter((e) => !set.has(e));
  }

  /** Replays a spill file left by an earlier run (before anything else is written). */
  replay(entries: SpillEntry[]): { commands: number; lost: number } {
    let commands = 0;
    let lost = 0;
    this._store.write(() => {
      for (const e of entries) {
        try {
          if (e.k === 'session') this._store.insertSessionIfMissing(e.info);
          else if (e.k === 'command') {
            if (!this._store.hasCommand(e.entry)) {
              this._store.insertCommand(e.entry);
              commands++;
            }
          } else if (e.k === 'spawn') {
            if (!this._store.hasSpawn(e.record)) this._store.recordSpawn(e.record);
          } else if (e.k === 'release') this._store.releaseLedger(e.session_id, e.reason, e.at);
          else if (e.k === 'lost') {
            this._apply(e);
            lost++;
          }
        } catch (error) {
          if (isPausingError(error)) throw error;
          this._o.logger.error('persistence: a spilled row could not be stored', {
            what: e.k,
            error: String(error),
          });
        }
      }
    });
    return { commands, lost };
  }

  /** At close while paused: what could not be kept is recorded (gap rows, or the spill file). */
  recordLoss(losses: { session_id: string; seq_start: number; seq_end: number; bytes: number }[]): void {
    const at = new Date().toISOString();
    for (const l of losses) this._write({ k: 'lost', ...l, at });
  }
}
