// Main-thread side of the persistence worker (persistence-worker.ts).
//
// Why a worker, and why only for this (measured in bench/persistence-throughput.bench.ts and the
// stage timings in the report): per 256 KiB of flood output the old flush spent ~3 ms redacting,
// ~1 ms stripping ANSI, ~1.5 ms on the INSERT and ~10 ms FTS-tokenizing, all on the thread that reads
// the PTYs. Redaction, stripping and FTS indexing are pure CPU on data that is not needed on the main
// thread, so they move here; the INSERT itself (~1 ms at synchronous=NORMAL) stays on the main
// connection, so every guarantee that hangs on the main thread's transaction — journal ordering,
// pause/resume on SQLITE_FULL/BUSY with bounded memory, onDidCommitOutput after commit, the synchronous
// `flush()` — is unchanged. Moving the INSERTs to a worker connection as well was rejected: the worker
// would compete for the write lock with the journal, the pause logic would be split across threads,
// and the cost saved on the main thread is ~1 ms per 256 KiB.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

export interface CutItem {
  sid: string;
  raw: string;
  /** Last piece of this session's stream: release the redactor's held tail and the stripper's carry. */
  end: boolean;
}
export type ToWorker =
  | { t: 'cut'; id: number; items: CutItem[] }
  /** Rows worth `bytes` (stored_bytes) were committed. */
  | { t: 'index'; bytes: number }
  | { t: 'close' };
export type FromWorker =
  | { t: 'cut'; id: number; items: { data: string; text: string }[] }
  | { t: 'log'; level: 'warn' | 'error'; message: string; error: string };

export interface OutputWorkerData {
  port: MessagePort;
  /** Int32[0]: id of the last answered cut request; Int32[1]: 1 once closed; Int32[2]: 1 while the
   *  worker holds the write lock (an FTS slice). */
  signal: SharedArrayBuffer;
  secrets: string[];
  /** Database file for the FTS indexer's connection; null: no indexing in the worker. */
  dbPath: string | null;
}

export interface OutputWorkerOptions {
  secrets: string[];
  dbPath: string | null;
  onResult(id: number, items: { data: string; text: string }[]): void;
  onLog(level: 'warn' | 'error', message: string, fields: Record<string, unknown>): void;
  /** The thread died (or stopped answering): the caller redoes what is in flight in-process. */
  onCrash(error: unknown): void;
}

export interface OutputWorker {
  /** Sends raw output to redact and strip; the answer arrives through onResult, in request order. */
  submit(items: CutItem[]): number;
  /** Blocks until every submitted request is answered (onResult runs synchronously). false: crashed. */
  drainSync(timeoutMs?: number): boolean;
  /** New rows worth `bytes` (stored_bytes) were committed: index them (the rate decides when). */
  pokeIndexer(bytes: number): void;
  /** Before a write on the main connection: if the worker is inside an FTS slice, wait (at most
   *  maxMs) exactly until it ends — SQLite's own busy handler would sleep 1, 2, 5, 10… ms. */
  waitForIndexSlice(maxMs: number): void;
  /** The worker is inside an FTS slice now (a write would wait for it). */
  readonly indexing: boolean;
  readonly alive: boolean;
  close(): void;
}

const workerUrl = new URL(
  `./persistence-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

export function startOutputWorker(options: OutputWorkerOptions): OutputWorker {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(12);
  const flags = new Int32Array(signal);
  const data: OutputWorkerData = {
    port: port2,
    signal,
    secrets: options.secrets,
    dbPath: options.dbPath,
  };
  const worker = new Worker(workerUrl, { workerData: data, transferList: [port2] });
  worker.unref();
  port1.unref();
  let nextId = 0;
  let answered = 0;
  let alive = true;

  const handle = (message: FromWorker) => {
    if (message.t === 'cut') {
      answered = message.id;
      options.onResult(message.id, message.items);
    } else {
      options.onLog(message.level, message.message, { error: message.error });
    }
  };
  port1.on('message', handle);
  const crashed = (error: unknown) => {
    if (!alive) return;
    alive = false;
    port1.close();
    void worker.terminate();
    options.onCrash(error);
  };
  worker.on('error', crashed);
  worker.on('exit', (code) => {
    if (alive && Atomics.load(flags, 1) !== 1) crashed(new Error(`persistence worker exited (code ${code})`));
  });

  return {
    submit(items) {
      nextId++;
      port1.postMessage({ t: 'cut', id: nextId, items } satisfies ToWorker);
      return nextId;
    },
    drainSync(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (alive && answered < nextId) {
        const received = receiveMessageOnPort(port1);
        if (received) {
          handle(received.message as FromWorker);
          continue;
        }
        const seen = Atomics.load(flags, 0);
        if (seen >= nextId) continue; // posted just before the flag moved: the message is queued
        const left = deadline - Date.now();
        if (left <= 0) {
          crashed(new Error(`persistence worker did not answer within ${timeoutMs} ms`));
          break;
        }
        Atomics.wait(flags, 0, seen, Math.min(left, 200));
      }
      return alive;
    },
    pokeIndexer(bytes) {
      if (alive) port1.postMessage({ t: 'index', bytes } satisfies ToWorker);
    },
    get indexing() {
      return alive && Atomics.load(flags, 2) === 1;
    },
    waitForIndexSlice(maxMs) {
      if (alive && Atomics.load(flags, 2) === 1) Atomics.wait(flags, 2, 1, maxMs);
    },
    get alive() {
      return alive;
    },
    close() {
      if (!alive) return;
      alive = false;
      port1.postMessage({ t: 'close' } satisfies ToWorker);
      // Wait (briefly) for the worker to close its connection before the caller checkpoints and closes.
      const deadline = Date.now() + 2000;
      while (Atomics.load(flags, 1) !== 1 && Date.now() < deadline) Atomics.wait(flags, 1, 0, 50);
      port1.close();
    },
  };
}
