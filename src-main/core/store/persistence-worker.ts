// The persistence worker thread (see output-worker.ts for the main-thread side and the why).
// Two jobs, both kept off the thread that reads the PTYs:
// 1. cut requests: raw output of a session → stream-redacted `data` + ANSI-free `text`, per session
//    in order (the redactor and stripper hold state across requests); answered in request order.
// 2. FTS indexing (schema 003) on its own connection, in slices of ~16 KiB of text (~1–2 ms), each
//    slice one short transaction followed by a pause, so the main thread's journal or output INSERT
//    waits at most one slice for the write lock. While output is streaming (a commit poke in the last
//    FLOOD_WINDOW_MS) the indexer takes at most ~5 % of a core: FTS5 tokenizing costs 40–85 ms of CPU
//    per MiB of terminal text — more than reading the PTY — and on a small machine a worker burning a
//    core starves the agent that produces the output (measured: 11 MB/s instead of 33 MB/s). The rows
//    it has not reached are found by history search's scan above the marker, and it catches up at
//    ~50 % of a core once the flood ends. The index is derived data: this connection runs
//    synchronous=NORMAL (a power cut can only lose the last slices, which are re-indexed: the marker
//    commits with them).
import { type MessagePort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { createRedactor, createStreamRedactor, type StreamRedactor } from '../security/redact.ts';
import { createAnsiStripper } from './ansi.ts';
import { createFtsIndexer, type FtsIndexer } from './fts-indexer.ts';
import type { FromWorker, OutputWorkerData, ToWorker } from './output-worker.ts';

const data = workerData as OutputWorkerData;
const port: MessagePort = data.port;
const done = new Int32Array(data.signal);
const redactor = createRedactor({ secrets: data.secrets });

interface Stream {
  redactor: StreamRedactor;
  stripper: ReturnType<typeof createAnsiStripper>;
}
const streams = new Map<string, Stream>();

function streamFor(sessionId: string): Stream {
  let s = streams.get(sessionId);
  if (!s) {
    s = { redactor: createStreamRedactor(redactor), stripper: createAnsiStripper() };
    streams.set(sessionId, s);
  }
  return s;
}

let db: BetterSqlite3.Database | null = null;
let indexer: FtsIndexer | null = null;
if (data.dbPath) {
  try {
    db = new BetterSqlite3(data.dbPath);
    db.pragma('busy_timeout = 20');
    db.pragma('synchronous = NORMAL');
    indexer = createFtsIndexer(db);
  } catch (error) {
    post({
      t: 'log',
      level: 'error',
      message: 'FTS indexer could not open the database',
      error: String(error),
    });
    db = null;
  }
}

function post(message: FromWorker): void {
  port.postMessage(message);
}

/** stored_bytes per slice (data + text: ~32 KiB of text to tokenize, one row of 32 KiB raw). */
const SLICE_BYTES = 64 * 1024;
const FLOOD_WINDOW_MS = 300;
/** Pause after a slice, as a multiple of the slice's duration: while streaming / when calm. */
const PAUSE_STREAMING = 19;
const PAUSE_CALM = 1;
let lastPokeAt = 0;
let indexTimer: NodeJS.Timeout | undefined;
let backoffMs = 10;
let closed = false;
let lastError = '';

function scheduleIndex(delayMs: number): void {
  if (indexTimer || closed || !indexer) return;
  indexTimer = setTimeout(runSlice, delayMs);
}

function runSlice(): void {
  indexTimer = undefined;
  if (closed || !indexer) return;
  const t0 = performance.now();
  try {
    // Tell the main thread the write lock is taken: it waits on this flag, not in SQLite's sleeps.
    Atomics.store(done, 2, 1);
    let r: ReturnType<FtsIndexer['indexSlice']>;
    try {
      r = indexer.indexSlice(SLICE_BYTES);
    } finally {
      Atomics.store(done, 2, 0);
      Atomics.notify(done, 2);
    }
    backoffMs = 10;
    lastError = '';
    // Leave the write lock (and the CPU) free for a multiple of the time the slice took.
    const took = performance.now() - t0;
    const streaming = performance.now() - lastPokeAt < FLOOD_WINDOW_MS;
    if (r.more) scheduleIndex(Math.max(2, Math.ceil(took * (streaming ? PAUSE_STREAMING : PAUSE_CALM))));
  } catch (error) {
    // Busy (a long main-thread write), full disk…: the rows stay above the marker; retry later.
    const text = String(error);
    if (text !== lastError) post({ t: 'log', level: 'warn', message: 'FTS indexing deferred', error: text });
    lastError = text;
    backoffMs = Math.min(backoffMs * 2, 2000);
    scheduleIndex(backoffMs);
  }
}

// WAL checkpoints: the main connection's automatic checkpoint (copy ~4 MiB of WAL into the database
// and fsync it, every 1000 pages, inside whichever commit crosses the mark) is switched off in
// off-thread mode — during a flood it was the longest stall of the main thread. This connection
// checkpoints instead, PASSIVE (it never waits for, or blocks, a writer or a reader), every
// CHECKPOINT_EVERY_MS; a round with nothing new in the WAL costs microseconds.
const CHECKPOINT_EVERY_MS = 250;
let checkpointTimer: NodeJS.Timeout | undefined;
function scheduleCheckpoint(): void {
  if (checkpointTimer || closed || !db) return;
  checkpointTimer = setTimeout(() => {
    checkpointTimer = undefined;
    try {
      db?.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or I/O: the next round retries; the main connection checkpoints on close
    }
    scheduleCheckpoint();
  }, CHECKPOINT_EVERY_MS);
}
scheduleCheckpoint();

// Test hook (test/store/persistence-offthread.test.ts): die on the Nth cut request, as a native
// crash or an out-of-memory kill of the thread would.
const crashAfter = Number(process.env.AUTODEV_TEST_PERSISTENCE_WORKER_CRASH_AFTER ?? 0);
let cuts = 0;

port.on('message', (message: ToWorker) => {
  if (message.t === 'cut') {
    if (crashAfter > 0 && ++cuts >= crashAfter) process.exit(70);
    const items = message.items.map((item) => {
      const s = streamFor(item.sid);
      let out = s.redactor.push(item.raw);
      let text = s.stripper.push(out);
      if (item.end) {
        const tail = s.redactor.flush();
        out += tail;
        text += s.stripper.push(tail) + s.stripper.end();
        streams.delete(item.sid);
      }
      return { data: out, text };
    });
    post({ t: 'cut', id: message.id, items });
    Atomics.store(done, 0, message.id);
    Atomics.notify(done, 0);
  } else if (message.t === 'index') {
    lastPokeAt = performance.now();
    scheduleIndex(1);
  } else if (message.t === 'close') {
    closed = true;
    if (indexTimer) clearTimeout(indexTimer);
    if (checkpointTimer) clearTimeout(checkpointTimer);
    try {
      db?.close();
    } catch {
      // closing is best effort: the main connection checkpoints
    }
    Atomics.store(done, 1, 1);
    Atomics.notify(done, 1);
    port.close();
  }
});

// Catch up on rows left unindexed by the previous run (a crash between INSERT and indexing).
scheduleIndex(50);
