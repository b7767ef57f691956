// The persistence worker thread (see output-worker.ts for the main-thread side and the why).
// Two jobs, both kept off the thread that reads the PTYs:
// 1. cut requests: raw output of a session → stream-redacted `data` + ANSI-free `text`, per session
//    in order (the redactor and stripper hold state across requests); answered in request order.
// 2. FTS indexing (schema 003) on its own connection, in slices of ~16 KiB of text (~1–2 ms), each
//    slice one short transaction followed by a pause, so the main thread's journal or output INSERT
//    waits at most one slice for the write lock. During a flood (> FLOOD_RATE committed over the last
//    second) the indexer waits: FTS5 tokenizing costs 40–85 ms of CPU per MiB of terminal text — more
//    than reading the PTY — and on a small machine a worker burning a core starves the agent that
//    produces the output (measured: 11 MB/s instead of 33 MB/s), while a slice holder preempted by
//    the scheduler makes the journal wait. The rows it has not reached are found by history search's
//    scan above the marker; it catches up at ~25 % of a core once the flood ends, or at ~5 % during
//    the flood once MAX_DEFERRED_BYTES are waiting. The index is derived data: this connection runs
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
let unindexedAtStart = 0;
let indexer: FtsIndexer | null = null;
if (data.dbPath) {
  try {
    db = new BetterSqlite3(data.dbPath);
    db.pragma('busy_timeout = 20');
    db.pragma('synchronous = NORMAL');
    // Checkpoints are the timer's (below), never inside a slice's commit: the main thread waits on
    // the slice flag, and an automatic checkpoint there (copy + fsync) held it up to 100 ms.
    db.pragma('wal_autocheckpoint = 0');
    indexer = createFtsIndexer(db);
    unindexedAtStart = db
      .prepare(
        'SELECT coalesce(sum(stored_bytes), 0) FROM session_output WHERE id > (SELECT indexed_upto FROM output_fts_progress WHERE id = 1)',
      )
      .pluck()
      .get() as number;
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

/** stored_bytes per slice (data + text: ~16 KiB of text to tokenize, one row of 16 KiB raw). */
const SLICE_BYTES = 32 * 1024;
/** Output committed faster than this (stored bytes/s over the last RATE_WINDOW_MS) is a flood. */
const FLOOD_RATE = 1024 * 1024;
const RATE_WINDOW_MS = 1000;
/** During a flood the index waits, unless this much is unindexed (bounds search's scan of the rest:
 *  ~0.5 s for 512 MiB here). Indexing during a flood was measured: slices that hit an FTS5 segment
 *  merge hold the write lock 20–230 ms, which the journal and the output INSERT then wait for. */
const MAX_DEFERRED_BYTES = 512 * 1024 * 1024;
/** Pause after a slice, as a multiple of the slice's duration: during a flood / otherwise (25 % of
 *  the lock: measured, 1:1 gave the journal a p99 of 26–39 ms during the catch-up, 1:3 gave 6–7 ms). */
const PAUSE_FLOOD = 19;
const PAUSE_CALM = 3;
const recent: [number, number][] = [];
/** Unindexed stored bytes (estimate: counted at start, + commits poked, − slices indexed). */
let unindexed = 0;
let indexTimer: NodeJS.Timeout | undefined;
let mergeTurn = false;
/** Segments may need merging (after indexing; at start: whatever the last run left). */
let needMerge = true;
let backoffMs = 10;
let closed = false;
let lastError = '';

function flooding(): boolean {
  const now = performance.now();
  while (recent.length > 0 && now - recent[0]![0] > RATE_WINDOW_MS) recent.shift();
  let bytes = 0;
  for (const [, b] of recent) bytes += b;
  return bytes > (FLOOD_RATE * RATE_WINDOW_MS) / 1000;
}

function scheduleIndex(delayMs: number): void {
  if (indexTimer || closed || !indexer) return;
  indexTimer = setTimeout(runSlice, delayMs);
}

function runSlice(): void {
  indexTimer = undefined;
  if (closed || !indexer) return;
  // A flood: leave the CPU to the agent and the PTY reader, and the write lock to the main thread (a
  // slice holder preempted on a busy machine is what the journal would wait for). Search scans what
  // is not indexed yet; the index catches up when the flood ends — or, past MAX_DEFERRED_BYTES, at
  // ~5 % of a core meanwhile.
  const flood = flooding();
  if (flood && unindexed < MAX_DEFERRED_BYTES) {
    scheduleIndex(200);
    return;
  }
  const t0 = performance.now();
  try {
    // Tell the main thread the write lock is taken: it waits on this flag, not in SQLite's sleeps.
    Atomics.store(done, 2, 1);
    let more: boolean;
    try {
      // Index slices and bounded merge steps take turns (automerge is off, schema 003).
      if (mergeTurn && needMerge) {
        needMerge = indexer.mergeStep();
        more = true;
      } else {
        const r = indexer.indexSlice(SLICE_BYTES);
        if (r.rows > 0) needMerge = true;
        unindexed = r.more ? Math.max(0, unindexed - r.bytes) : 0;
        more = r.more || needMerge;
      }
      mergeTurn = !mergeTurn;
    } finally {
      Atomics.store(done, 2, 0);
      Atomics.notify(done, 2);
    }
    backoffMs = 10;
    lastError = '';
    // Leave the write lock (and the CPU) free for a multiple of the time the slice took.
    const took = performance.now() - t0;
    if (more) scheduleIndex(Math.max(2, Math.ceil(took * (flood ? PAUSE_FLOOD : PAUSE_CALM))));
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
    recent.push([performance.now(), message.bytes]);
    unindexed += message.bytes;
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
unindexed = unindexedAtStart;
scheduleIndex(50);
