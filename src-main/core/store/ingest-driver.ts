// Who stores the spool and keeps the search index: the persistence worker (ingest-worker.ts, the core's
// mode: both jobs on the machine's other core, on its own connections) or, in-process, the same code on
// the main thread in small slices (tests, databases a worker cannot open, and the fallback when the
// worker dies: the spool is the source of truth, so the in-process ingester simply carries on from the
// progress row the worker committed last).
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import { Ingester, type StepResult } from './ingester.ts';
import { describePause, isPausingError } from './persistence-status.ts';
import type { RetentionLimits } from './retention.ts';
import { openSearchIndex, SearchIndexer } from './search-index.ts';
import type { OutputBatch } from './session-store.ts';

/** Index in the shared flags where the worker says it died (ingest-worker.ts `die`). Before it:
 *  0 drained id, 1 closed, 2 holds the write lock, 3 run finished. */
export const WORKER_DEAD = 4;
/** Index in the shared flags: 1 while the main thread waits to write or writes (a journal entry). The
 *  worker starts no transaction meanwhile: a command goes first, and does not lose a race for the lock
 *  into SQLite's busy back-off (sleeps of 1–100 ms) while the worker stores a backlog. */
export const WRITER_WAITING = 5;

export interface IngestWorkerData {
  port: MessagePort;
  /** Int32[0]: last answered drain id; [1]: 1 once closed; [2]: 1 while the worker holds the main
   *  database's write lock; [3]: answer to `finish` (1 done, 2 not done). */
  signal: SharedArrayBuffer;
  dbPath: string;
  searchPath: string | null;
  spoolDir: string;
  run: string;
  rowChars: number;
  sliceBytes: number;
  retention: RetentionLimits | null;
  held: boolean;
  wantBatches: boolean;
}

export type ToIngestWorker =
  | { t: 'written'; segment: number; offset: number }
  | { t: 'hold' }
  | { t: 'go' }
  | { t: 'want-batches'; value: boolean }
  | { t: 'drain'; id: number }
  | { t: 'finish' }
  | { t: 'close' };

export interface Committed {
  batches: OutputBatch[];
  rows: number;
  position: { segment: number; offset: number } | null;
  segmentsDone: number[];
}

export type FromIngestWorker =
  | ({ t: 'committed' } & Committed)
  | { t: 'paused'; reason: string; code: string }
  | { t: 'resumed' }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> }
  | { t: 'drained'; id: number; ok: boolean }
  | { t: 'finished'; done: boolean };

export interface IngestEvents {
  onCommitted(c: Committed): void;
  onPaused(reason: string, code: string): void;
  onResumed(): void;
  onLog(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void;
  /** The worker died; the driver went in-process. */
  onCrash(error: unknown): void;
}

export interface IngestOptions {
  spoolDir: string;
  run: string;
  searchPath: string | null;
  rowChars: number;
  sliceBytes: number;
  retention: RetentionLimits | null;
}

export interface IngestDriver {
  readonly mode: 'worker' | 'in-process';
  /** The spool writer has records on disk up to here. */
  noteWritten(segment: number, offset: number): void;
  /** Stop storing output (commands are held: they go first when writing resumes). */
  hold(): void;
  /** Store again (after a pause, a hold). */
  go(): void;
  wantBatches(value: boolean): void;
  /** Synchronous: store everything written so far. false when the database refused. */
  drain(timeoutMs?: number): boolean;
  /** Before a write on the main connection: wait (at most maxMs) while the ingester holds the lock;
   *  the ingester starts nothing more until `writeDone`. */
  waitForWriteLock(maxMs: number): void;
  writeDone(): void;
  /** At close: everything stored → the run's spool directory is removed. */
  finishRun(): boolean;
  close(): void;
}

const workerUrl = new URL(
  `./ingest-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/** The worker, falling back in-process if it cannot start or dies. */
export function startIngest(
  main: Database,
  options: IngestOptions & { worker: boolean },
  events: IngestEvents,
): IngestDriver {
  if (!options.worker || main.memory) return new InProcessIngest(main, options, events);
  try {
    return new WorkerIngest(main, options, events);
  } catch (error) {
    events.onLog('error', 'persistence worker could not start: in-process mode', { error: String(error) });
    return new InProcessIngest(main, options, events);
  }
}

class WorkerIngest implements IngestDriver {
  private readonly _main: Database;
  private readonly _options: IngestOptions;
  private readonly _events: IngestEvents;
  private readonly _port: MessagePort;
  private readonly _worker: Worker;
  private readonly _flags: Int32Array;
  private _alive = true;
  private _fallback: InProcessIngest | null = null;
  private _drainId = 0;
  private _drainOk = true;
  private _written: { segment: number; offset: number } | null = null;
  private _held = false;
  private _wantBatches = false;
  private readonly _savedAutoCheckpoint: number;

  constructor(main: Database, options: IngestOptions, events: IngestEvents) {
    this._main = main;
    this._options = options;
    this._events = events;
    const _main = main;
    const _options = options;
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4 * (WRITER_WAITING + 1));
    this._flags = new Int32Array(signal);
    const data: IngestWorkerData = {
      port: port2,
      signal,
      dbPath: _main.name,
      searchPath: _options.searchPath,
      spoolDir: _options.spoolDir,
      run: _options.run,
      rowChars: _options.rowChars,
      sliceBytes: _options.sliceBytes,
      retention: _options.retention,
      held: false,
      wantBatches: false,
    };
    // The worker checkpoints the WAL (PASSIVE, off this thread): no commit here pays for one.
    this._savedAutoCheckpoint = _main.pragma('wal_autocheckpoint', { simple: true }) as number;
    _main.pragma('wal_autocheckpoint = 0');
    this._worker = new Worker(workerUrl, { workerData: data, transferList: [port2] });
    this._worker.unref();
    this._port = port1;
    port1.unref();
    port1.on('message', (m: FromIngestWorker) => this._handle(m));
    this._worker.on('error', (error) => this._crashed(error));
    this._worker.on('exit', (code) => {
      if (this._alive && Atomics.load(this._flags, 1) !== 1)
        this._crashed(new Error(`persistence worker exited (code ${code})`));
    });
  }

  get mode(): 'worker' | 'in-process' {
    return this._fallback ? 'in-process' : 'worker';
  }

  private _handle(m: FromIngestWorker): void {
    switch (m.t) {
      case 'committed':
        this._events.onCommitted(m);
        return;
      case 'paused':
        this._events.onPaused(m.reason, m.code);
        return;
      case 'resumed':
        this._events.onResumed();
        return;
      case 'log':
        this._events.onLog(m.level, m.message, m.fields);
        return;
      case 'drained':
        this._drainOk = m.ok;
        return;
      case 'finished':
        return;
    }
  }

  private _send(m: ToIngestWorker): void {
    if (this._fallback) return;
    if (this._alive) this._port.postMessage(m);
  }

  private _crashed(error: unknown): void {
    if (!this._alive) return;
    this._alive = false;
    this._port.close();
    void this._worker.terminate();
    this._restoreCheckpoints();
    this._fallback = new InProcessIngest(this._main, this._options, this._events);
    if (this._held) this._fallback.hold();
    this._fallback.wantBatches(this._wantBatches);
    if (this._written) this._fallback.noteWritten(this._written.segment, this._written.offset);
    this._events.onCrash(error);
  }

  private _restoreCheckpoints(): void {
    try {
      this._main.pragma(`wal_autocheckpoint = ${Math.trunc(this._savedAutoCheckpoint)}`);
    } catch {}
  }

  noteWritten(segment: number, offset: number): void {
    this._written = { segment, offset };
    if (this._fallback) this._fallback.noteWritten(segment, offset);
    else this._send({ t: 'written', segment, offset });
  }
  hold(): void {
    this._held = true;
    if (this._fallback) this._fallback.hold();
    else this._send({ t: 'hold' });
  }
  go(): void {
    this._held = false;
    if (this._fallback) this._fallback.go();
    else this._send({ t: 'go' });
  }
  wantBatches(value: boolean): void {
    this._wantBatches = value;
    if (this._fallback) this._fallback.wantBatches(value);
    else this._send({ t: 'want-batches', value });
  }

  drain(timeoutMs = 30_000): boolean {
    if (this._fallback) return this._fallback.drain(timeoutMs);
    const id = ++this._drainId;
    this._drainOk = true;
    this._send({ t: 'drain', id });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Deliver what the worker said meanwhile (commits, pauses) in order, synchronously.
      for (let m = receiveMessageOnPort(this._port); m; m = receiveMessageOnPort(this._port))
        this._handle(m.message as FromIngestWorker);
      if (this._alive && Atomics.load(this._flags, WORKER_DEAD) === 1)
        this._crashed(new Error('persistence worker died'));
      if (!this._alive) return this._fallback ? (this._fallback as InProcessIngest).drain(timeoutMs) : false;
      if (Atomics.load(this._flags, 0) >= id) {
        for (let m = receiveMessageOnPort(this._port); m; m = receiveMessageOnPort(this._port))
          this._handle(m.message as FromIngestWorker);
        return this._drainOk;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this._crashed(new Error(`persistence worker did not answer within ${timeoutMs} ms`));
        return this._fallback ? (this._fallback as InProcessIngest).drain(timeoutMs) : false;
      }
      Atomics.wait(this._flags, 0, Atomics.load(this._flags, 0), Math.min(left, 100));
    }
  }

  waitForWriteLock(maxMs: number): void {
    if (!this._alive) return;
    Atomics.store(this._flags, WRITER_WAITING, 1);
    if (Atomics.load(this._flags, 2) === 1) Atomics.wait(this._flags, 2, 1, maxMs);
  }

  writeDone(): void {
    Atomics.store(this._flags, WRITER_WAITING, 0);
    Atomics.notify(this._flags, WRITER_WAITING);
  }

  finishRun(): boolean {
    if (this._fallback) return this._fallback.finishRun();
    if (!this._alive) return false;
    Atomics.store(this._flags, 3, 0);
    this._send({ t: 'finish' });
    Atomics.wait(this._flags, 3, 0, 5000);
    for (let m = receiveMessageOnPort(this._port); m; m = receiveMessageOnPort(this._port))
      this._handle(m.message as FromIngestWorker);
    if (Atomics.load(this._flags, WORKER_DEAD) === 1) {
      this._crashed(new Error('persistence worker died'));
      return (this._fallback as InProcessIngest | null)?.finishRun() ?? false;
    }
    return Atomics.load(this._flags, 3) === 1;
  }

  close(): void {
    if (this._fallback) {
      this._fallback.close();
      return;
    }
    if (!this._alive) return;
    this._alive = false;
    this._port.postMessage({ t: 'close' } satisfies ToIngestWorker);
    // Wait (briefly) for the worker to close its connections before the caller checkpoints and closes.
    const deadline = Date.now() + 2000;
    while (
      Atomics.load(this._flags, 1) !== 1 &&
      Atomics.load(this._flags, WORKER_DEAD) !== 1 &&
      Date.now() < deadline
    )
      Atomics.wait(this._flags, 1, 0, 50);
    this._port.close();
    this._restoreCheckpoints();
  }
}

/** Slices small enough for the main thread (~2–5 ms each), a pause between index slices. */
const IN_PROCESS_INDEX_BYTES = 48 * 1024;

class InProcessIngest implements IngestDriver {
  readonly mode = 'in-process';
  private readonly _main: Database;
  private readonly _events: IngestEvents;
  private readonly _ingester: Ingester;
  private readonly _indexer: SearchIndexer | null = null;
  private readonly _searchDb: Database | null = null;
  private _held = false;
  /** Stopped after a failed step, until go(). */
  private _paused = false;
  /** A pause was reported (onPaused) and no success since. */
  private _reported = false;
  private _wantBatches = false;
  private _scheduled: NodeJS.Immediate | undefined;
  private _indexTimer: NodeJS.Timeout | undefined;
  private _closed = false;

  constructor(main: Database, options: IngestOptions, _events: IngestEvents) {
    this._main = main;
    this._events = _events;
    this._ingester = new Ingester({
      db: main,
      spoolDir: options.spoolDir,
      run: options.run,
      rowChars: options.rowChars,
      sliceBytes: options.sliceBytes,
      retention: options.retention,
      logger: {
        debug: (m, f) => _events.onLog('debug', m, f ?? {}),
        info: (m, f) => _events.onLog('info', m, f ?? {}),
        warn: (m, f) => _events.onLog('warn', m, f ?? {}),
        error: (m, f) => _events.onLog('error', m, f ?? {}),
      },
    });
    if (options.searchPath && !main.memory) {
      try {
        this._searchDb = openSearchIndex(options.searchPath, main);
        this._indexer = new SearchIndexer(main, this._searchDb);
      } catch (error) {
        _events.onLog('error', 'search index could not be opened: search scans stored output instead', {
          error: String(error),
        });
      }
    }
    this._kick();
  }

  private _kick(): void {
    if (this._closed || this._scheduled) return;
    this._scheduled = setImmediate(() => this._loop());
  }

  private _step(): StepResult | null {
    // Output rows are re-derived from the spool until their progress row commits: no fsync for them
    // (as on the worker's connection); this connection goes back to FULL for the journal.
    this._main.pragma('synchronous = NORMAL');
    try {
      const r = this._ingester.step();
      if (r.rows > 0 || r.position || r.segmentsDone.length > 0)
        this._events.onCommitted({
          batches: this._wantBatches ? r.batches : [],
          rows: r.rows,
          position: r.position,
          segmentsDone: r.segmentsDone,
        });
      this._paused = false;
      if (this._reported) {
        this._reported = false;
        this._events.onResumed();
      }
      return r;
    } catch (error) {
      this._paused = true;
      this._reported = true;
      if (isPausingError(error)) {
        const { reason, code } = describePause(error);
        this._events.onPaused(reason, code);
      } else {
        this._events.onLog('error', 'storing the output spool failed', { error: String(error) });
        this._events.onPaused(`write failed: ${String(error)}`, 'INGEST_FAILED');
      }
      return null;
    } finally {
      this._main.pragma('synchronous = FULL');
    }
  }

  private _loop(): void {
    this._scheduled = undefined;
    if (this._closed) return;
    if (!this._held && !this._paused && this._ingester.ready) {
      this._step();
      if (!this._paused) this._kick();
      return;
    }
    // Held or paused (a full disk): the index, derived data, waits too.
    if (!this._indexer || this._indexTimer || this._held || this._paused) return;
    try {
      const t0 = performance.now();
      const r = this._indexer.indexSlice(IN_PROCESS_INDEX_BYTES);
      if (r.more) {
        // Leave the main thread to the live stream three quarters of the time.
        this._indexTimer = setTimeout(
          () => {
            this._indexTimer = undefined;
            this._kick();
          },
          Math.max(1, Math.ceil((performance.now() - t0) * 3)),
        );
      } else this._indexer.trimQueue();
    } catch (error) {
      this._events.onLog('warn', 'search indexing deferred', { error: String(error) });
      this._indexTimer = setTimeout(() => {
        this._indexTimer = undefined;
        this._kick();
      }, 2000);
    }
  }

  noteWritten(segment: number, offset: number): void {
    this._ingester.noteWritten(segment, offset);
    this._kick();
  }
  hold(): void {
    this._held = true;
  }
  go(): void {
    this._held = false;
    this._paused = false;
    if (this._reported && !this._ingester.ready) {
      this._reported = false;
      this._events.onResumed();
    }
    this._kick();
  }
  wantBatches(value: boolean): void {
    this._wantBatches = value;
  }
  drain(_timeoutMs?: number): boolean {
    this._paused = false;
    while (this._ingester.ready) if (!this._step()) return false;
    return true;
  }
  waitForWriteLock(): void {}
  writeDone(): void {}
  finishRun(): boolean {
    try {
      return this._ingester.finishCurrentRun();
    } catch (error) {
      this._events.onLog('warn', 'spool run could not be removed', { error: String(error) });
      return false;
    }
  }
  close(): void {
    this._closed = true;
    if (this._scheduled) clearImmediate(this._scheduled);
    if (this._indexTimer) clearTimeout(this._indexTimer);
    this._ingester.close();
    try {
      this._searchDb?.close();
    } catch {}
  }
}
