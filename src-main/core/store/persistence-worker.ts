// The persistence worker thread (see output-worker.ts for the main-thread side and the why).
// Two jobs, both kept off the thread that reads the PTYs:
// 1. cut requests: raw output of a session → stream-redacted `data` + ANSI-free `text`, per session
//    in order (the redactor and stripper hold state across requests); answered in request order.
// 2. FTS indexing (schema 003) on its own connection, in slices of ~64 KiB of text, each slice one
//    short transaction followed by a pause at least as long, so the main thread's journal INSERT waits
//    at most one slice for the write lock. The index is derived data: this connection runs
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
    const r = indexer.indexSlice();
    backoffMs = 10;
    lastError = '';
    // Leave the write lock free at least as long as the slice held it.
    if (r.more) scheduleIndex(Math.max(2, Math.ceil(performance.now() - t0)));
  } catch (error) {
    // Busy (a long main-thread write), full disk…: the rows stay above the marker; retry later.
    const text = String(error);
    if (text !== lastError) post({ t: 'log', level: 'warn', message: 'FTS indexing deferred', error: text });
    lastError = text;
    backoffMs = Math.min(backoffMs * 2, 2000);
    scheduleIndex(backoffMs);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.t === 'cut') {
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
    scheduleIndex(1);
  } else if (message.t === 'close') {
    closed = true;
    if (indexTimer) clearTimeout(indexTimer);
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
