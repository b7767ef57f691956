// The persistence worker thread (ingest-driver.ts is the main-thread side). Two jobs, both off the
// thread that reads the PTYs, on this thread's own connections:
// 1. store the output spool in SQLite (ingester.ts), as soon as the writer says there is more;
// 2. keep the search index (search-index.ts, its own database file) up with what is stored. During a
//    flood it yields most of the CPU to the agent and the live stream (a slice, then a pause 4× as
//    long); once the flood ends it indexes flat out — in its own file that holds up no one.
// It also checkpoints the main database's WAL (PASSIVE: never waits for, nor blocks, anyone) so no
// commit on the main thread pays for a checkpoint.
import { type MessagePort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { applyPragmas } from './database.ts';
import {
  type FromIngestWorker,
  type IngestWorkerData,
  type ToIngestWorker,
  WORKER_DEAD,
  WRITER_WAITING,
} from './ingest-driver.ts';
import { Ingester, type StepResult } from './ingester.ts';
import { describePause, isPausingError } from './persistence-status.ts';
import { isDamaged, openSearchIndex, rebuildSearchIndex, SearchIndexer } from './search-index.ts';

const data = workerData as IngestWorkerData;
const port: MessagePort = data.port;
const flags = new Int32Array(data.signal);
const post = (m: FromIngestWorker) => port.postMessage(m);

// The main thread waits for this thread synchronously (Atomics.wait in drain, finish, close), where
// the Worker's 'error' and 'exit' events cannot reach it: a fatal error says so in shared memory and
// wakes every waiter, so the main thread takes over at once instead of waiting out its timeout.
const die = (error: unknown) => {
  try {
    post({ t: 'log', level: 'error', message: 'persistence worker died', fields: { error: String(error) } });
  } catch {
    // The port is gone too.
  }
  Atomics.store(flags, WORKER_DEAD, 1);
  Atomics.store(flags, 2, 0);
  for (let i = 0; i <= WORKER_DEAD; i++) Atomics.notify(flags, i);
  process.exit(1);
};
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
const log = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields: Record<string, unknown> = {},
) => post({ t: 'log', level, message, fields });
const logger = {
  debug: (m: string, f?: Record<string, unknown>) => log('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => log('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => log('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => log('error', m, f),
};

const db = new BetterSqlite3(data.dbPath);
applyPragmas(db);
// Output is derived from the spool until its progress row moves: a power cut can roll back the last
// slices, which are then stored again from the spool.
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
const ingester = new Ingester({
  db,
  spoolDir: data.spoolDir,
  run: data.run,
  rowChars: data.rowChars,
  sliceBytes: data.sliceBytes,
  retention: data.retention,
  logger,
});
let indexer: SearchIndexer | null = null;
let searchDb: BetterSqlite3.Database | null = null;
if (data.searchPath) {
  try {
    searchDb = openSearchIndex(data.searchPath, db);
    indexer = new SearchIndexer(db, searchDb);
  } catch (error) {
    logger.error('search index could not be opened: search scans stored output instead', {
      error: String(error),
    });
  }
}

let held = data.held;
/** Stopped after a failed step, until 'go'. */
let paused = false;
/** A pause was reported and no success since. */
let reported = false;
let wantBatches = data.wantBatches;
let closed = false;
let scheduled: NodeJS.Immediate | undefined;
let indexTimer: NodeJS.Timeout | undefined;
/** Earliest time the next index slice may run (flood pacing). */
let nextIndexAt = 0;
/** [time, bytes] of recent ingest steps: the flood detector. */
const recent: [number, number][] = [];
/** Stored faster than this (spool bytes/s over the last second) is a flood. */
const FLOOD_RATE = 2 * 1024 * 1024;
/** During a flood: pause after an index slice, as a multiple of the slice's time (20 % of a core). */
const FLOOD_PAUSE = 4;

function flooding(): boolean {
  const now = performance.now();
  while (recent.length > 0 && now - (recent[0] as [number, number])[0] > 1000) recent.shift();
  let bytes = 0;
  for (const [, b] of recent) bytes += b;
  return bytes > FLOOD_RATE;
}

function kick(): void {
  if (closed || scheduled) return;
  scheduled = setImmediate(loop);
}

/** The main thread is writing a journal entry, or about to: let it go first. (Bounded: that write
 *  itself may wait out another process's lock; the worker goes on after WRITER_YIELD_MS.) */
const WRITER_YIELD_MS = 250;
function yieldToWriter(): void {
  if (Atomics.load(flags, WRITER_WAITING) === 1) Atomics.wait(flags, WRITER_WAITING, 1, WRITER_YIELD_MS);
}

/** One ingest step; false when it paused (a medium error) or failed. */
function ingestOnce(): StepResult | null {
  yieldToWriter();
  Atomics.store(flags, 2, 1);
  try {
    return ingester.step();
  } finally {
    Atomics.store(flags, 2, 0);
    Atomics.notify(flags, 2);
  }
}

function ingestStep(): boolean {
  try {
    const r = ingestOnce();
    if (!r) return false;
    if (r.bytes > 0) recent.push([performance.now(), r.bytes]);
    if (r.rows > 0 || r.position || r.segmentsDone.length > 0)
      post({
        t: 'committed',
        batches: wantBatches ? r.batches : [],
        rows: r.rows,
        position: r.position,
        segmentsDone: r.segmentsDone,
      });
    paused = false;
    if (reported) {
      reported = false;
      post({ t: 'resumed' });
    }
    return true;
  } catch (error) {
    paused = true;
    reported = true;
    if (isPausingError(error)) {
      const { reason, code } = describePause(error);
      post({ t: 'paused', reason, code });
    } else {
      // A bug, not the medium: say so loudly, and stay paused (the main thread retries with backoff).
      logger.error('storing the output spool failed', {
        error: String(error),
        stack: (error as Error)?.stack,
      });
      post({ t: 'paused', reason: `write failed: ${String(error)}`, code: 'INGEST_FAILED' });
    }
    return false;
  }
}

function loop(): void {
  scheduled = undefined;
  if (closed) return;
  if (!held && !paused && ingester.ready) {
    ingestStep();
    if (!paused) kick();
    return;
  }
  // Held (commands wait for room) or paused (the disk refused): the index, derived data, waits too —
  // room freed on a full disk goes to the commands first, then to the output.
  if (!indexer || held || paused) return;
  const now = performance.now();
  if (now < nextIndexAt) {
    indexTimer ??= setTimeout(
      () => {
        indexTimer = undefined;
        kick();
      },
      Math.ceil(nextIndexAt - now),
    );
    return;
  }
  try {
    const t0 = performance.now();
    const r = indexer.indexSlice();
    const took = performance.now() - t0;
    if (r.more) {
      nextIndexAt = flooding() ? performance.now() + took * FLOOD_PAUSE : 0;
      kick();
    } else {
      yieldToWriter();
      Atomics.store(flags, 2, 1);
      try {
        indexer.trimQueue();
      } finally {
        Atomics.store(flags, 2, 0);
        Atomics.notify(flags, 2);
      }
    }
  } catch (error) {
    if (isDamaged(error) && data.searchPath) {
      logger.warn('search index damaged: rebuilding it from the stored output', { error: String(error) });
      try {
        searchDb = rebuildSearchIndex(data.searchPath, searchDb, db);
        indexer = new SearchIndexer(db, searchDb);
      } catch (rebuildError) {
        logger.error('search index could not be rebuilt: search scans stored output instead', {
          error: String(rebuildError),
        });
        indexer = null;
      }
      kick();
      return;
    }
    // Busy, disk full…: the rows stay above the marker; try again later.
    logger.warn('search indexing deferred', { error: String(error) });
    nextIndexAt = performance.now() + 2000;
    kick();
  }
}

const CHECKPOINT_EVERY_MS = 250;
const checkpoints = setInterval(() => {
  // Held: commands wait for room, and a checkpoint would spend it growing the database file.
  if (held) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or I/O: the next round retries; the main connection checkpoints on close
  }
}, CHECKPOINT_EVERY_MS);

// Test hook (test/store/persistence-offthread.test.ts): die after the Nth step, as a native crash or
// an out-of-memory kill of the thread would.
const crashAfter = Number(process.env.AUTODEV_TEST_PERSISTENCE_WORKER_CRASH_AFTER ?? 0);
let steps = 0;

port.on('message', (message: ToIngestWorker) => {
  switch (message.t) {
    case 'written':
      ingester.noteWritten(message.segment, message.offset);
      if (crashAfter > 0 && ++steps >= crashAfter) process.exit(70);
      kick();
      return;
    case 'hold':
      held = true;
      return;
    case 'go':
      held = false;
      paused = false;
      if (reported && !ingester.ready) {
        reported = false;
        post({ t: 'resumed' });
      }
      kick();
      return;
    case 'want-batches':
      wantBatches = message.value;
      return;
    case 'drain': {
      // Synchronous flush on the main thread: store everything written so far (held or not).
      let ok = true;
      let guard = 0;
      paused = false;
      while (ingester.ready && guard++ < 1_000_000) {
        if (!ingestStep()) {
          ok = false;
          break;
        }
      }
      post({ t: 'drained', id: message.id, ok });
      Atomics.store(flags, 0, message.id);
      Atomics.notify(flags, 0);
      kick();
      return;
    }
    case 'finish': {
      // At close: if everything is stored, the run's spool directory goes.
      let done = false;
      try {
        done = ingester.finishCurrentRun();
      } catch (error) {
        logger.warn('spool run could not be removed', { error: String(error) });
      }
      post({ t: 'finished', done });
      Atomics.store(flags, 3, done ? 1 : 2);
      Atomics.notify(flags, 3);
      return;
    }
    case 'close':
      closed = true;
      if (scheduled) clearImmediate(scheduled);
      if (indexTimer) clearTimeout(indexTimer);
      clearInterval(checkpoints);
      ingester.close();
      try {
        searchDb?.close();
        db.close();
      } catch {}
      Atomics.store(flags, 1, 1);
      Atomics.notify(flags, 1);
      port.close();
      return;
  }
});

kick();
