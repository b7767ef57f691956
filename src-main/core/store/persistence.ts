import type { OutputChunk, SessionInfo } from '../../../src-shared/session.ts';
import { createRedactor, createStreamRedactor } from '../security/redact.ts';
import type { CommandJournal, SessionManager, SpawnRecord } from '../sessions/types.ts';
import { type Disposable, DisposableStore, Emitter, type Event } from '../util/event.ts';
import { createAnsiStripper } from './ansi.ts';
import { createFtsIndexer } from './fts-indexer.ts';
import { type CutItem, type OutputWorker, startOutputWorker } from './output-worker.ts';
import { DEFAULT_RETENTION, enforceRetention, type RetentionLimits } from './retention.ts';
import type { CommandEntry, OutputBatch, SessionStore } from './session-store.ts';
import { isoNow, type LoggerLike, silentLogger } from './types.ts';

/** Incremental redaction of one session's output (security/redact.ts createStreamRedactor): may hold
 *  back a tail (a secret cut across chunks) until the next push or `flush`. */
export interface StreamRedactorLike {
  push(text: string): string;
  /** Releases the held-back tail (end of the session). */
  flush(): string;
}

export interface PersistenceOptions {
  logger?: LoggerLike;
  /** Redacts a command before it is stored (the core's createRedactor). Default: identity. */
  redact?: (text: string) => string;
  /** One per session for output (the core's createStreamRedactor). Default: no redaction. */
  createStreamRedactor?: () => StreamRedactorLike;
  /** Longest time output waits in memory before a flush (ms). */
  flushMs?: number;
  /** Buffered output that triggers a flush at once (bytes, approximate: UTF-16 length). */
  flushBytes?: number;
  /** While paused: output kept in memory beyond this is dropped oldest-first behind a gap marker. */
  maxBufferedBytes?: number;
  retention?: RetentionLimits | null;
  /** Backoff of the retry while paused. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Redact, strip ANSI and FTS-index output in a worker thread (output-worker.ts explains the split;
   * bench/persistence-throughput.bench.ts measures it). `secrets`: the exact values the core's
   * redactor masks: the worker builds the same createRedactor({ secrets }) (functions cannot cross a
   * thread). Output-only transactions then run at synchronous=NORMAL (see commit()). Omitted or null:
   * everything in-process, as before (indexing inside the flush transaction). Ignored for in-memory
   * databases (the worker's connection needs a file).
   */
  offThread?: { secrets: string[] } | null;
  /** Off-thread mode: output sent to the worker and not yet answered beyond this blocks the caller
   *  until the worker catches up (backpressure on the PTY reader instead of unbounded memory). */
  maxInflightBytes?: number;
}

export interface PersistenceStatus {
  ok: boolean;
  /** "disk full (SQLITE_FULL)", "I/O error (SQLITE_IOERR_WRITE)"… null when writing. */
  paused_reason: string | null;
  paused_since: string | null;
  error_code: string | null;
  /** Output bytes (approx.) and commands held in memory, waiting to be written. */
  buffered_bytes: number;
  buffered_commands: number;
  /** Output dropped while paused (recorded as gap rows), since start. */
  dropped_chunks: number;
  dropped_bytes: number;
  retries: number;
}

/** Thrown by the journal when a command could not be made durable (it is kept and written on resume). */
export class PersistencePausedError extends Error {
  readonly error_code = 'PERSISTENCE_PAUSED';
}

/** The events of a SessionManager that persistence listens to. */
export type PersistedManager = Pick<
  SessionManager,
  'onDidCreate' | 'onDidChangeState' | 'onOutput' | 'onDidExit' | 'onDidSpawn' | 'get' | 'list'
>;

export interface Persistence {
  /** Give this to the manager: called synchronously before input reaches the PTY. */
  readonly journal: CommandJournal;
  readonly status: PersistenceStatus;
  readonly onDidChangeStatus: Event<PersistenceStatus>;
  /** Output batches after they are committed (what Redis publishes). */
  readonly onDidCommitOutput: Event<OutputBatch[]>;
  /** Session rows after they are committed (state changes, exits). */
  readonly onDidCommitSession: Event<SessionInfo>;
  /** Start listening to a manager (once). */
  attach(manager: PersistedManager): Disposable;
  /** Write everything buffered now (synchronous). Returns false while paused. */
  flush(): boolean;
  /** Flush (ending every stream redactor), stop listening and timers. */
  close(): void;
}

/** Off-thread mode: output rows are cut at chunk boundaries to about this many chars (see cutToWorker). */
const ROW_CHARS = 16 * 1024;

/** A commit longer than this is logged at debug level (it blocked the event loop that long). */
const SLOW_COMMIT_MS = 20;

/** How long a retry while paused waits for a lock (the normal busy_timeout is 5 s). */
const RETRY_BUSY_TIMEOUT_MS = 200;

const PAUSING_CODES = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

/** Errors of the medium (disk full, I/O, lock held too long) pause persistence; others are bugs. */
export function isPausingError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && PAUSING_CODES.test(code);
}

function describe(error: unknown): { reason: string; code: string } {
  const code = String((error as { code?: unknown })?.code ?? 'UNKNOWN');
  const what = code.startsWith('SQLITE_FULL')
    ? 'disk full'
    : code.startsWith('SQLITE_IOERR')
      ? 'I/O error'
      : code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
        ? 'database locked'
        : code.startsWith('SQLITE_READONLY')
          ? 'database read-only'
          : 'write failed';
  return { reason: `${what} (${code}): persistence paused, sessions keep running`, code };
}

interface PendingOutput {
  chunks: OutputChunk[];
  bytes: number;
}

/**
 * Keeps the store in step with a SessionManager:
 * - session rows on create / state change / exit (synchronously: they are rare and ordered);
 * - the process ledger on spawn (what recovery kills after a crash);
 * - the command journal: a synchronous INSERT before the PTY sees the input — once `record` returns,
 *   the command is on disk (synchronous=FULL);
 * - output in batches off the hot path: onOutput only appends to memory; a flush every `flushMs`
 *   (or at once past `flushBytes`) redacts, strips ANSI for search and writes every session's batch in
 *   one transaction.
 * A medium error (SQLITE_FULL, I/O, busy) pauses writing with a status the UI and /health show; the
 * sessions run on; output is kept in memory up to `maxBufferedBytes` (then dropped oldest-first and
 * recorded as a gap), commands are always kept; a retry with backoff resumes.
 */
export function createPersistence(store: SessionStore, options: PersistenceOptions = {}): Persistence {
  const logger = options.logger ?? silentLogger;
  const redact = options.redact ?? ((t: string) => t);
  const flushMs = options.flushMs ?? 100;
  const flushBytes = options.flushBytes ?? 256 * 1024;
  const maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  const retention = options.retention === undefined ? DEFAULT_RETENTION : options.retention;
  const retryMinMs = options.retryMinMs ?? 250;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const maxInflightBytes = options.maxInflightBytes ?? 8 * 1024 * 1024;
  const fts = createFtsIndexer(store.db);

  const statusEmitter = new Emitter<PersistenceStatus>();
  const outputEmitter = new Emitter<OutputBatch[]>();
  const sessionEmitter = new Emitter<SessionInfo>();
  const listeners = new DisposableStore();
  let manager: PersistedManager | undefined;

  // Raw output not yet cut into batches, per session.
  const pending = new Map<string, PendingOutput>();
  let pendingBytes = 0;
  // Work cut and redacted but not yet committed (non-empty only around a flush or while paused).
  let readyBatches: OutputBatch[] = [];
  let readyBytes = 0;
  const readySessions = new Map<string, SessionInfo>();
  const readyCommands: CommandEntry[] = [];
  const readySpawns: SpawnRecord[] = [];
  const readyReleases: { session_id: string; reason: string; at: string }[] = [];
  const streamRedactors = new Map<string, StreamRedactorLike>();
  const strippers = new Map<string, ReturnType<typeof createAnsiStripper>>();
  const stripperFor = (sessionId: string) => {
    let s = strippers.get(sessionId);
    if (!s) {
      s = createAnsiStripper();
      strippers.set(sessionId, s);
    }
    return s;
  };
  const knownSessions = new Set<string>();

  let flushTimer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryMinMs;
  let closed = false;
  let bytesSinceTotalCheck = 0;

  const status: PersistenceStatus = {
    ok: true,
    paused_reason: null,
    paused_since: null,
    error_code: null,
    buffered_bytes: 0,
    buffered_commands: 0,
    dropped_chunks: 0,
    dropped_bytes: 0,
    retries: 0,
  };
  const snapshotStatus = (): PersistenceStatus => ({
    ...status,
    buffered_bytes: pendingBytes + inflightBytes + readyBytes,
    buffered_commands: readyCommands.length,
  });

  function pause(error: unknown): void {
    const { reason, code } = describe(error);
    if (status.ok) {
      status.ok = false;
      status.paused_reason = reason;
      status.paused_since = isoNow();
      status.error_code = code;
      logger.warn('persistence paused', { reason, code });
      statusEmitter.fire(snapshotStatus());
    }
    scheduleRetry();
  }

  function resume(): void {
    if (status.ok) return;
    logger.info('persistence resumed', {
      paused_since: status.paused_since,
      dropped_chunks: status.dropped_chunks,
      dropped_bytes: status.dropped_bytes,
    });
    status.ok = true;
    status.paused_reason = null;
    status.paused_since = null;
    status.error_code = null;
    retryDelay = retryMinMs;
    statusEmitter.fire(snapshotStatus());
  }

  function scheduleRetry(): void {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      status.retries++;
      retryDelay = Math.min(retryDelay * 2, retryMaxMs);
      // better-sqlite3 is synchronous: a retry against a lock still held must not block the event loop
      // for the whole busy_timeout (5 s) every time. Retries wait briefly; normal writes wait fully.
      const busyTimeout = store.db.pragma('busy_timeout', { simple: true }) as number;
      store.db.pragma(`busy_timeout = ${RETRY_BUSY_TIMEOUT_MS}`);
      let ok = false;
      try {
        ok = commit();
      } finally {
        store.db.pragma(`busy_timeout = ${Math.trunc(busyTimeout)}`);
      }
      if (!ok) scheduleRetry();
    }, retryDelay);
    retryTimer.unref?.();
  }

  // In-process stream redaction: the core's factory, or (off-thread mode after a worker crash) the
  // same redactor the worker used.
  const makeStreamRedactor: (() => StreamRedactorLike) | undefined =
    options.createStreamRedactor ??
    (options.offThread
      ? (() => {
          const r = createRedactor({ secrets: options.offThread!.secrets });
          return () => createStreamRedactor(r);
        })()
      : undefined);
  function redactorFor(sessionId: string): StreamRedactorLike | undefined {
    if (!makeStreamRedactor) return undefined;
    let r = streamRedactors.get(sessionId);
    if (!r) {
      r = makeStreamRedactor();
      streamRedactors.set(sessionId, r);
    }
    return r;
  }

  type BatchMeta = Omit<OutputBatch, 'data' | 'text'>;
  /** A session's pending chunks as one raw string plus the batch fields that do not need redaction. */
  function takeRaw(sessionId: string, p: PendingOutput): { raw: string; meta: BatchMeta } {
    const raw = p.chunks.length === 1 ? p.chunks[0]!.data : p.chunks.map((c) => c.data).join('');
    return {
      raw,
      meta: {
        session_id: sessionId,
        seq_start: p.chunks[0]!.seq,
        seq_end: p.chunks[p.chunks.length - 1]!.seq,
        raw_bytes: Buffer.byteLength(raw),
        gap: false,
        at: new Date(p.chunks[p.chunks.length - 1]!.at).toISOString(),
      },
    };
  }

  function addReady(meta: BatchMeta, data: string, text: string): void {
    readyBatches.push({ ...meta, data, text });
    readyBytes += data.length + text.length;
  }

  /** Raw chunks → redacted batches (one per session); off-thread: → requests to the worker. */
  function cut(endSessions?: Iterable<string>): void {
    if (worker) {
      cutToWorker(endSessions);
      return;
    }
    for (const [sessionId, p] of pending) {
      if (p.chunks.length === 0) continue;
      const { raw, meta } = takeRaw(sessionId, p);
      const redactor = redactorFor(sessionId);
      const data = redactor ? redactor.push(raw) : raw;
      addReady(meta, data, stripperFor(sessionId).push(data));
    }
    pending.clear();
    pendingBytes = 0;
    for (const id of endSessions ?? []) endRedactor(id);
  }

  // ---- Off-thread mode -------------------------------------------------------------------------
  let worker: OutputWorker | null = null;
  /** Requests the worker has not answered yet, in order (what to redo in-process if it dies). */
  const inflight = new Map<number, { entries: { meta: BatchMeta | null; item: CutItem }[]; bytes: number }>();
  let inflightBytes = 0;
  /** Sessions whose stream state (redactor tail, stripper carry) lives in the worker. */
  const workerStreams = new Set<string>();
  /** Inside a synchronous drain: results are collected, the caller commits once. */
  let draining = false;

  function cutToWorker(endSessions?: Iterable<string>): void {
    const entries: { meta: BatchMeta | null; item: CutItem }[] = [];
    let bytes = 0;
    const ends = new Set(endSessions ?? []);
    for (const [sessionId, p] of pending) {
      if (p.chunks.length === 0) continue;
      const end = ends.delete(sessionId);
      // Rows of at most ~ROW_CHARS (at chunk boundaries): the worker indexes a row at a time, and a
      // row's FTS tokenizing is how long the write lock is held (≈ 0.5–2 ms for 16 KiB).
      const groups: PendingOutput[] = [];
      let group: PendingOutput = { chunks: [], bytes: 0 };
      for (const c of p.chunks) {
        if (group.chunks.length > 0 && group.bytes + c.data.length > ROW_CHARS) {
          groups.push(group);
          group = { chunks: [], bytes: 0 };
        }
        group.chunks.push(c);
        group.bytes += c.data.length;
      }
      groups.push(group);
      groups.forEach((g, i) => {
        const { raw, meta } = takeRaw(sessionId, g);
        entries.push({ meta, item: { sid: sessionId, raw, end: end && i === groups.length - 1 } });
        bytes += raw.length;
      });
      if (end) workerStreams.delete(sessionId);
      else workerStreams.add(sessionId);
    }
    pending.clear();
    pendingBytes = 0;
    for (const sessionId of ends) {
      if (!workerStreams.delete(sessionId)) continue; // nothing of it ever went to the worker
      entries.push({ meta: null, item: { sid: sessionId, raw: '', end: true } });
    }
    if (entries.length === 0) return;
    const id = worker!.submit(entries.map((e) => e.item));
    inflight.set(id, { entries, bytes });
    inflightBytes += bytes;
    if (inflightBytes > maxInflightBytes && !draining) drainWorker();
  }

  function onWorkerResult(id: number, items: { data: string; text: string }[]): void {
    const request = inflight.get(id);
    if (!request) return;
    inflight.delete(id);
    inflightBytes -= request.bytes;
    request.entries.forEach((e, i) => {
      const { data, text } = items[i]!;
      if (e.meta) addReady(e.meta, data, text);
      else if (data || text) attachTail(e.item.sid, data, text);
    });
    if (draining || closed) return;
    if (status.ok) commitUnlessIndexing();
    else boundMemory();
  }

  /** The output commit of an answer may wait: while the worker holds the write lock for an FTS slice
   *  it is retried a few ms later instead of blocking the event loop until the slice ends. */
  let deferredCommit: NodeJS.Timeout | undefined;
  function commitUnlessIndexing(): void {
    if (worker?.indexing) {
      deferredCommit ??= setTimeout(() => {
        deferredCommit = undefined;
        if (!closed && status.ok) commitUnlessIndexing();
      }, 2);
      return;
    }
    commit();
  }

  /** Waits for the worker to answer everything sent, then commits (or bounds memory while paused). */
  function drainWorker(): void {
    if (!worker) return;
    draining = true;
    const t0 = performance.now();
    try {
      worker.drainSync(10_000);
    } finally {
      draining = false;
    }
    logger.debug('persistence: output in flight past maxInflightBytes, waited for the worker', {
      ms: Math.round(performance.now() - t0),
    });
    if (status.ok) commit();
    else boundMemory();
  }

  /** The worker died: redo what it had not answered in-process and stay in-process from now on (its
   *  redactors' held-back tails, ≤ ~256 chars per session, died with it). */
  function onWorkerCrash(error: unknown): void {
    logger.error('persistence worker failed: output is redacted and indexed in-process from now on', {
      error: String(error),
    });
    worker = null;
    restoreAutoCheckpoint();
    const requests = [...inflight.values()];
    inflight.clear();
    inflightBytes = 0;
    workerStreams.clear();
    for (const r of requests) {
      for (const e of r.entries) {
        const redactor = redactorFor(e.item.sid);
        const data = redactor ? redactor.push(e.item.raw) : e.item.raw;
        const text = stripperFor(e.item.sid).push(data);
        if (e.meta) addReady(e.meta, data, text);
        if (e.item.end) endRedactor(e.item.sid);
      }
    }
    if (draining || closed) return;
    if (status.ok) commit();
    else boundMemory();
  }

  // The worker checkpoints the WAL (PASSIVE, off this thread); this connection stops doing it inside
  // its commits (see persistence-worker.ts), and takes it back if the worker goes away.
  let savedAutoCheckpoint: number | null = null;
  function restoreAutoCheckpoint(): void {
    if (savedAutoCheckpoint === null) return;
    try {
      store.db.pragma(`wal_autocheckpoint = ${savedAutoCheckpoint}`);
    } catch {}
    savedAutoCheckpoint = null;
  }
  if (options.offThread && !store.db.memory) {
    try {
      savedAutoCheckpoint = store.db.pragma('wal_autocheckpoint', { simple: true }) as number;
      store.db.pragma('wal_autocheckpoint = 0');
      worker = startOutputWorker({
        secrets: options.offThread.secrets,
        dbPath: store.db.name,
        onResult: onWorkerResult,
        onLog: (level, message, fields) => logger[level](message, fields),
        onCrash: onWorkerCrash,
      });
    } catch (error) {
      logger.error('persistence worker could not start: in-process mode', { error: String(error) });
      worker = null;
      restoreAutoCheckpoint();
    }
  }

  /** The redactor's held-back tail joins the session's last batch (at exit / close). */
  function endRedactor(sessionId: string): void {
    const redactor = streamRedactors.get(sessionId);
    streamRedactors.delete(sessionId);
    const stripper = strippers.get(sessionId);
    strippers.delete(sessionId);
    const data = redactor ? redactor.flush() : '';
    const text = stripper ? stripper.push(data) + stripper.end() : '';
    attachTail(sessionId, data, text);
  }

  /** A stream's final tail joins the session's last batch not yet written, else its last stored one. */
  function attachTail(sessionId: string, data: string, text: string): void {
    if (!data && !text) return;
    for (let i = readyBatches.length - 1; i >= 0; i--) {
      const b = readyBatches[i]!;
      if (b.session_id === sessionId && !b.gap) {
        b.data += data;
        b.text += text;
        readyBytes += data.length + text.length;
        return;
      }
    }
    // Everything of this session is already stored: append to its last stored batch.
    readyTails.push({ session_id: sessionId, data, text });
  }
  const readyTails: { session_id: string; data: string; text: string }[] = [];

  /** While paused, memory stays bounded: the oldest batches become gap markers. */
  function boundMemory(): void {
    if (readyBytes <= maxBufferedBytes) return;
    const kept: OutputBatch[] = [];
    const lastGap = new Map<string, OutputBatch>();
    for (const b of readyBatches) {
      if (readyBytes > maxBufferedBytes && !b.gap) {
        readyBytes -= b.data.length + b.text.length;
        status.dropped_chunks += b.seq_end - b.seq_start + 1;
        status.dropped_bytes += b.raw_bytes;
        const gap = lastGap.get(b.session_id);
        if (gap && gap.seq_end + 1 === b.seq_start) {
          gap.seq_end = b.seq_end;
          gap.raw_bytes += b.raw_bytes;
          gap.at = b.at;
          continue;
        }
        const marker: OutputBatch = { ...b, data: '', text: '', gap: true };
        lastGap.set(b.session_id, marker);
        kept.push(marker);
        continue;
      }
      if (b.gap) lastGap.set(b.session_id, b);
      kept.push(b);
    }
    readyBatches = kept;
  }

  const appendTail = store.db.prepare(`
    UPDATE session_output SET data = data || ?, text = text || ?, stored_bytes = stored_bytes + ?
    WHERE id = (SELECT id FROM session_output WHERE session_id = ? AND gap = 0 ORDER BY seq_start DESC LIMIT 1)`);
  const addStoredBytes = store.db.prepare(
    'UPDATE cli_sessions SET stored_output_bytes = stored_output_bytes + ? WHERE session_id = ?',
  );

  /** Items the last commit could not store (non-medium errors), so the journal can tell its caller. */
  const lastFailures = new Set<object>();

  /** Writes everything ready in one transaction. true on success (or nothing to do). */
  function commit(): boolean {
    if (
      readyBatches.length === 0 &&
      readySessions.size === 0 &&
      readyCommands.length === 0 &&
      readySpawns.length === 0 &&
      readyReleases.length === 0 &&
      readyTails.length === 0
    ) {
      if (!status.ok) resume();
      return true;
    }
    let batches = readyBatches;
    const sessions = [...readySessions.values()];
    // One operation per row, in dependency order: sessions before their commands, spawns and output.
    lastFailures.clear();
    const ops: { op: () => void; batch?: OutputBatch; item?: object; what: string }[] = [
      ...sessions.map((s) => ({ op: () => store.upsertSession(s), what: `session ${s.session_id}` })),
      ...readyCommands.map((c) => ({
        op: () => void store.insertCommand(c),
        item: c,
        what: `command of ${c.session_id}`,
      })),
      ...readySpawns.map((r) => ({ op: () => store.recordSpawn(r), what: `spawn of ${r.session_id}` })),
      ...batches.map((b) => ({
        op: () => void store.insertOutput(b),
        batch: b,
        what: `output of ${b.session_id}`,
      })),
      ...readyTails.map((t) => ({
        op: () => {
          const bytes = Buffer.byteLength(t.data) + Buffer.byteLength(t.text);
          if (appendTail.run(t.data, t.text, bytes, t.session_id).changes > 0)
            addStoredBytes.run(bytes, t.session_id);
        },
        what: `output tail of ${t.session_id}`,
      })),
      ...readyReleases.map((r) => ({
        op: () => void store.releaseLedger(r.session_id, r.reason, r.at),
        what: `ledger release of ${r.session_id}`,
      })),
    ];
    // Off-thread mode: a transaction of output only (no command, session, spawn or ledger row) runs at
    // synchronous=NORMAL, skipping its fsync. Consistency is the same (WAL); what a power cut (not a
    // kill -9: the WAL is in the OS cache) can lose is output committed since the last FULL commit —
    // the next journaled command, session change or checkpoint fsyncs the WAL, and every earlier frame
    // with it. Acknowledged commands are never in a NORMAL transaction.
    const outputOnly =
      worker !== null &&
      sessions.length === 0 &&
      readyCommands.length === 0 &&
      readySpawns.length === 0 &&
      readyReleases.length === 0;
    // In-process mode indexes in the same transaction (as schema 001's trigger did), at least as much
    // as it adds, so a backlog (left by a crash or a dead worker) is caught up over a few flushes.
    let addedText = 0;
    for (const b of batches) addedText += b.text.length;
    for (const t of readyTails) addedText += t.text.length;
    const indexInline = () => {
      if (worker) return;
      let budget = Math.max(256 * 1024, 2 * addedText);
      let indexed = 0;
      for (;;) {
        const r = fts.indexSliceInTransaction(budget);
        budget -= r.bytes;
        indexed += r.rows;
        if (!r.more || budget <= 0) break;
      }
      // automerge is off (schema 003): one bounded merge step per flush that indexed something.
      if (indexed > 0) fts.mergeStepInTransaction();
    };
    const t0 = performance.now();
    worker?.waitForIndexSlice(100);
    const waited = performance.now() - t0;
    if (outputOnly) store.db.pragma('synchronous = NORMAL');
    try {
      store.write(() => {
        for (const o of ops) o.op();
        indexInline();
      });
    } catch (error) {
      if (isPausingError(error)) {
        pause(error);
        boundMemory();
        return false;
      }
      // A bug (a constraint…) in one row must not wedge persistence or take the others with it:
      // write row by row, log and drop only what fails.
      const failed = new Set<OutputBatch>();
      for (const o of ops) {
        try {
          store.write(o.op);
        } catch (rowError) {
          logger.error('persistence: a row could not be stored and was dropped', {
            what: o.what,
            error: String(rowError),
          });
          if (o.batch) failed.add(o.batch);
          if (o.item) lastFailures.add(o.item);
        }
      }
      batches = batches.filter((b) => !failed.has(b));
      try {
        store.write(indexInline);
      } catch (indexError) {
        logger.warn('FTS indexing deferred', { error: String(indexError) });
      }
    } finally {
      if (outputOnly) store.db.pragma('synchronous = FULL');
      const took = performance.now() - t0;
      if (took > SLOW_COMMIT_MS) {
        logger.debug('persistence: slow commit', {
          ms: Math.round(took),
          waited_for_index_ms: Math.round(waited),
          rows: batches.length,
          commands: readyCommands.length,
        });
      }
    }
    if (worker) {
      let bytes = 0;
      for (const b of batches) bytes += b.data.length + b.text.length;
      worker.pokeIndexer(bytes);
    }
    for (const s of sessions) knownSessions.add(s.session_id);
    clearReady();
    resume();
    for (const s of sessions) sessionEmitter.fire(s);
    if (batches.length > 0) {
      outputEmitter.fire(batches);
      applyRetention(batches);
    }
    return true;
  }

  function clearReady(): void {
    readyBatches = [];
    readyBytes = 0;
    readySessions.clear();
    readyCommands.length = 0;
    readySpawns.length = 0;
    readyReleases.length = 0;
    readyTails.length = 0;
  }

  function applyRetention(batches: OutputBatch[]): void {
    if (!retention) return;
    for (const b of batches) bytesSinceTotalCheck += b.data.length + b.text.length;
    // The total needs a sum over all sessions: check it every ~1 % of the limit written.
    const checkTotal =
      retention.maxBytesTotal !== null &&
      bytesSinceTotalCheck >= Math.max(64 * 1024, retention.maxBytesTotal / 100);
    try {
      const result = enforceRetention(
        store.db,
        {
          maxBytesPerSession: retention.maxBytesPerSession,
          maxBytesTotal: checkTotal ? retention.maxBytesTotal : null,
        },
        batches.map((b) => b.session_id),
      );
      if (checkTotal) bytesSinceTotalCheck = 0;
      if (result.deletedRows > 0) logger.debug('retention removed old output', { ...result });
    } catch (error) {
      if (isPausingError(error)) pause(error);
      else logger.error('retention failed', { error: String(error) });
    }
  }

  /** Cut and write. While paused only cuts (and bounds memory); the retry timer writes. */
  function flushNow(): boolean {
    clearTimers();
    cut();
    collectFromWorker();
    if (!status.ok) {
      boundMemory();
      return false;
    }
    return commit();
  }

  /** Off-thread: wait for every answer, without committing (the caller does). */
  function collectFromWorker(): void {
    if (!worker) return;
    draining = true;
    try {
      worker.drainSync(10_000);
    } finally {
      draining = false;
    }
  }

  /** The timers' flush: in-process it writes now; off-thread it only hands the output to the worker
   *  (its answer is committed when it arrives, see onWorkerResult). */
  function flushSoon(): void {
    if (!worker) {
      flushNow();
      return;
    }
    clearTimers();
    cut();
  }

  function clearTimers(): void {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    if (immediate) clearImmediate(immediate);
    immediate = undefined;
  }

  /** Session rows are written synchronously (ordered before the commands and output that follow). */
  function writeSession(info: SessionInfo): void {
    readySessions.set(info.session_id, info);
    if (status.ok) commit();
  }

  function ensureSession(sessionId: string): void {
    if (knownSessions.has(sessionId) || readySessions.has(sessionId)) return;
    const live = manager?.get(sessionId);
    if (live) {
      readySessions.set(sessionId, live);
      return;
    }
    if (store.hasSession(sessionId)) knownSessions.add(sessionId);
  }

  const journal: CommandJournal = {
    record(entry) {
      const command: CommandEntry = {
        session_id: entry.session_id,
        kind: entry.kind,
        text: redact(entry.text),
        at: entry.at,
        seq: entry.seq,
      };
      ensureSession(entry.session_id);
      readyCommands.push(command);
      if (status.ok && commit() && !lastFailures.has(command)) return;
      if (status.ok) throw new Error(`command for ${entry.session_id} could not be stored (see log)`);
      throw new PersistencePausedError(
        `command for ${entry.session_id} kept in memory, not yet durable: ${status.paused_reason}`,
      );
    },
  };

  function onOutput(chunk: OutputChunk): void {
    let p = pending.get(chunk.session_id);
    if (!p) {
      p = { chunks: [], bytes: 0 };
      pending.set(chunk.session_id, p);
    }
    p.chunks.push(chunk);
    p.bytes += chunk.data.length;
    pendingBytes += chunk.data.length;
    if (pendingBytes >= flushBytes) {
      immediate ??= setImmediate(flushSoon);
    } else if (!flushTimer) {
      flushTimer = setTimeout(flushSoon, flushMs);
    }
  }

  return {
    journal,
    get status() {
      return snapshotStatus();
    },
    onDidChangeStatus: statusEmitter.event,
    onDidCommitOutput: outputEmitter.event,
    onDidCommitSession: sessionEmitter.event,
    attach(m) {
      if (manager) throw new Error('persistence is already attached to a manager');
      manager = m;
      for (const info of m.list()) readySessions.set(info.session_id, info);
      if (status.ok) commit();
      listeners.add(m.onDidCreate((info) => writeSession(info)));
      listeners.add(m.onDidChangeState(({ session }) => writeSession(session)));
      listeners.add(m.onOutput(onOutput));
      listeners.add(
        m.onDidSpawn((record) => {
          ensureSession(record.session_id);
          readySpawns.push(record);
          if (status.ok) commit();
        }),
      );
      listeners.add(
        m.onDidExit((info) => {
          // Final output first, then the exit row, so history reads in order. Off-thread this waits
          // for the worker's answers (rare: once per session, bounded by maxInflightBytes).
          cut([info.session_id]);
          collectFromWorker();
          readySessions.set(info.session_id, info);
          readyReleases.push({
            session_id: info.session_id,
            reason: 'exited',
            at: info.ended_at ?? isoNow(),
          });
          if (status.ok) commit();
          else boundMemory();
        }),
      );
      return { dispose: () => listeners.dispose() };
    },
    flush: flushNow,
    close() {
      if (closed) return;
      listeners.dispose();
      cut(new Set([...streamRedactors.keys(), ...strippers.keys(), ...workerStreams]));
      collectFromWorker();
      clearTimers();
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      if (!commit()) {
        logger.error('persistence closed while paused: buffered data lost', { ...snapshotStatus() });
      }
      closed = true;
      if (deferredCommit) clearTimeout(deferredCommit);
      worker?.close();
      restoreAutoCheckpoint();
      if (retryTimer) clearTimeout(retryTimer);
      statusEmitter.dispose();
      outputEmitter.dispose();
      sessionEmitter.dispose();
    },
  };
}

/** createPersistence + attach, for callers that create the manager first (and pass `journal` later). */
export function attachPersistence(
  manager: PersistedManager,
  store: SessionStore,
  options: PersistenceOptions = {},
): Persistence {
  const persistence = createPersistence(store, options);
  persistence.attach(manager);
  return persistence;
}
