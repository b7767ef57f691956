// Keeps the store in step with a SessionManager. The parts, each in its own module:
//
//   onOutput ──▶ session-output.ts (stream redaction, quiet release) ──▶ output-spool.ts (append to a
//   file next to the database) ──▶ ingester.ts (worker: spool → session_output, a slice per
//   transaction) ──▶ search-index.ts (worker: its own database file)
//   journal / session rows / spawns ──▶ control-writer.ts (synchronous, synchronous=FULL; held in order
//   with a spill file when the database refuses)
//
// The live stream never waits for SQLite, the search index or the worker: onOutput redacts (CPU) and
// queues; a write() into the page cache follows every few ms. History reads serve what is spooled but
// not stored yet from the spool (pending), so nothing is missing in between. A medium error (disk full,
// I/O, a lock held too long) pauses with a status the UI and /health show; sessions run on; commands are
// held (memory, then the spill file) and journaled first on resume; output waits in the spool, or in
// memory up to `maxBufferedBytes` when the spool cannot be written either (beyond: gap records).
import type { OutputChunk, SessionInfo } from '../../../src-shared/session.ts';
import { createStreamRedactor, type Redactor } from '../security/redact.ts';
import type { CommandJournal, SessionManager } from '../sessions/types.ts';
import { type Disposable, DisposableStore, Emitter, type Event } from '../util/event.ts';
import { ControlWriter } from './control-writer.ts';
import type { PendingOutput } from './history-pending.ts';
import { type Committed, type IngestDriver, startIngest } from './ingest-driver.ts';
import { Ingester } from './ingester.ts';
import { OutputSpool } from './output-spool.ts';
import { describePause, isPausingError, type PersistenceStatus } from './persistence-status.ts';
import { DEFAULT_RETENTION, type RetentionLimits } from './retention.ts';
import { searchIndexPath } from './search-index.ts';
import { SessionOutputs, type StreamRedactorFactory, type StreamRedactorLike } from './session-output.ts';
import type { OutputBatch, SessionStore } from './session-store.ts';
import { SpillFile, spillPathFor } from './spill-file.ts';
import { closeRun, newRunName, spoolDirFor } from './spool-format.ts';
import { isoNow, type LoggerLike, silentLogger } from './types.ts';

export type { PendingOutput } from './history-pending.ts';
export { isPausingError, PersistencePausedError, type PersistenceStatus } from './persistence-status.ts';
export type { StreamRedactorLike } from './session-output.ts';

export interface PersistenceOptions {
  logger?: LoggerLike;
  /** The core's redactor: commands are redacted with it, and each session's output with a stream
   *  redactor built on it (held tails released after `holdMs` of quiet, amended if a secret completes
   *  later). */
  redactor?: Redactor;
  /** Redacts a command before it is stored. Default: the redactor's, else identity. */
  redact?: (text: string) => string;
  /** A custom stream redactor per session (overrides `redactor` for output). One without `release`
   *  holds its tail until more output or the end of the session; one that ignores `alignToPushes`
   *  may store part of a chunk under the seq of the chunks before it. */
  createStreamRedactor?: StreamRedactorFactory | (() => StreamRedactorLike);
  /** The longest a stream redactor holds output back (ms): then it is released, more output or not. */
  holdMs?: number;
  /** Longest time output waits in memory before it is written to the spool (ms). */
  flushMs?: number;
  /** Queued output that is written to the spool at once (bytes, approx.: UTF-16 length). */
  flushBytes?: number;
  /** While the spool cannot be written: output kept in memory beyond this is dropped oldest-first
   *  behind a gap record. */
  maxBufferedBytes?: number;
  retention?: RetentionLimits | null;
  /** Backoff of the retry while paused. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Store the spool and index it in a worker thread (the core's mode). Omitted, false or null: the
   *  same work on this thread in small slices. (`{ secrets }` is accepted for compatibility: redaction
   *  now runs before the spool, on this thread.) Ignored for in-memory databases. */
  offThread?: { secrets?: string[] } | boolean | null;
  /** The spool directory (default `<database>-spool`). */
  spoolDir?: string;
  /** Where held commands are spilled (default: the system temp directory; null: memory only). */
  spillDir?: string | null;
  /** Spool segment size (bytes): segments are deleted once stored. */
  segmentBytes?: number;
  /** Rows of session_output are cut at about this many chars. */
  rowChars?: number;
  /** Spool bytes stored per transaction. */
  sliceBytes?: number;
  /** Keep the search index (`<database>-search`). Default true. */
  search?: boolean;
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
  /** Output rows after they are committed (what Redis publishes). */
  readonly onDidCommitOutput: Event<OutputBatch[]>;
  /** A session's output through `seq` is in the spool file: it survives a kill -9 of this process
   *  (the next start stores the spool before anything else). The PTY host may forget it then. */
  readonly onDidSpoolOutput: Event<{ session_id: string; seq: number }>;
  /** Session rows after they are committed (state changes, exits). */
  readonly onDidCommitSession: Event<SessionInfo>;
  /** What history shows before the ingester stored it. */
  readonly pending: PendingOutput;
  /** Where things are: the spool run directory, the search index, the spill file. */
  readonly paths: { spool: string; search: string | null; spill: string | null };
  /** Start listening to a manager (once). */
  attach(manager: PersistedManager): Disposable;
  /** Write and store everything emitted so far, now (synchronous). false while paused. Held-back
   *  redactor tails stay held (they are released after a quiet moment or at the end of the session). */
  flush(): boolean;
  /** End every stream, write what fits, record what cannot be kept, stop. */
  close(): void;
}

type Source = 'database' | 'spool' | 'ingest';

export function createPersistence(store: SessionStore, options: PersistenceOptions = {}): Persistence {
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor;
  const redact = options.redact ?? (redactor ? (t: string) => redactor.redact(t) : (t: string) => t);
  const retryMinMs = options.retryMinMs ?? 250;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const dbPath = store.db.memory ? null : store.db.name;

  const statusEmitter = new Emitter<PersistenceStatus>();
  const outputEmitter = new Emitter<OutputBatch[]>();
  const sessionEmitter = new Emitter<SessionInfo>();
  const spooledEmitter = new Emitter<{ session_id: string; seq: number }>();
  const listeners = new DisposableStore();
  let manager: PersistedManager | undefined;
  let closed = false;
  // Created below; the parts call each other through these.
  let ingest: IngestDriver | undefined;
  let spool: OutputSpool | undefined;

  // ---- status: paused while any part is refused ---------------------------------------------------
  const paused = new Map<Source, { reason: string; code: string }>();
  let pausedSince: string | null = null;
  let retries = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryMinMs;
  const snapshotStatus = (): PersistenceStatus => {
    const first = paused.values().next().value as { reason: string; code: string } | undefined;
    return {
      ok: paused.size === 0,
      paused_reason: first?.reason ?? null,
      paused_since: pausedSince,
      error_code: first?.code ?? null,
      buffered_bytes: spool?.bufferedBytes ?? 0,
      buffered_commands: control.heldCommands,
      dropped_chunks: spool?.droppedChunks ?? 0,
      dropped_bytes: spool?.droppedBytes ?? 0,
      retries,
    };
  };
  function pause(source: Source, reason: string, code: string): void {
    const wasOk = paused.size === 0;
    paused.set(source, { reason, code });
    if (wasOk) {
      pausedSince = isoNow();
      logger.warn('persistence paused', { reason, code, source });
      statusEmitter.fire(snapshotStatus());
    }
    scheduleRetry();
  }
  function clear(source: Source): void {
    if (!paused.delete(source) || paused.size > 0) return;
    logger.info('persistence resumed', {
      paused_since: pausedSince,
      dropped_chunks: spool?.droppedChunks ?? 0,
      dropped_bytes: spool?.droppedBytes ?? 0,
    });
    pausedSince = null;
    retryDelay = retryMinMs;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    statusEmitter.fire(snapshotStatus());
  }
  const pauseFrom = (source: Source) => (error: unknown) => {
    const { reason, code } = describePause(error);
    pause(source, reason, code);
  };

  function scheduleRetry(): void {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retries++;
      retryDelay = Math.min(retryDelay * 2, retryMaxMs);
      retryNow();
      if (paused.size > 0) scheduleRetry();
    }, retryDelay);
    retryTimer.unref?.();
  }

  /** Commands first, then the spool, then the ingester. */
  function retryNow(): void {
    if (!control.retry()) return;
    clear('database');
    if (spool && (spool.bufferedBytes > 0 || spool.failing)) {
      if (!spool.write()) return;
      clear('spool');
    }
    ingest?.go();
  }

  // ---- the parts ---------------------------------------------------------------------------------
  const spill =
    options.spillDir === null || !dbPath ? null : new SpillFile(spillPathFor(dbPath, options.spillDir));
  const control = new ControlWriter(store, {
    logger,
    spill,
    liveSession: (id) => manager?.get(id),
    onPause: (error) => {
      ingest?.hold();
      pauseFrom('database')(error);
    },
    beforeWrite: () => ingest?.waitForWriteLock(50),
    afterWrite: () => ingest?.writeDone(),
  });
  // A spill file left by an earlier run: its commands are journaled before anything else.
  const spilled = spill?.read() ?? [];
  if (spilled.length > 0) {
    try {
      const r = control.replay(spilled);
      spill?.clear();
      logger.warn('journaled what an earlier run held while persistence was paused', {
        file: spill?.path,
        commands: r.commands,
        lost_ranges: r.lost,
      });
    } catch (error) {
      logger.error('the spill file of an earlier run could not be journaled yet: kept', {
        file: spill?.path,
        error: String(error),
      });
    }
  }

  const spoolDir = options.spoolDir ?? (dbPath ? spoolDirFor(dbPath) : null);
  if (!spoolDir) throw new Error('persistence needs a database file (or a spoolDir) for its output spool');
  const run = newRunName();
  const out = new OutputSpool({
    dir: spoolDir,
    run,
    ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
    writeMs: options.flushMs ?? 20,
    writeBytes: options.flushBytes ?? 256 * 1024,
    maxBufferedBytes: options.maxBufferedBytes ?? 16 * 1024 * 1024,
    onWritten: (segment, offset) => ingest?.noteWritten(segment, offset),
    onOutputWritten: (session_id, seq) => spooledEmitter.fire({ session_id, seq }),
    onError: (error) => {
      if (isPausingError(error)) pauseFrom('spool')(error);
      else {
        logger.error('output spool write failed', { error: String(error) });
        pause('spool', `spool write failed: ${String(error)}`, 'SPOOL_FAILED');
      }
    },
    logger,
  });
  spool = out;
  storeLeftovers(store, spoolDir, run, logger);
  const driver = startIngest(
    store.db,
    {
      worker: Boolean(options.offThread),
      spoolDir,
      run,
      searchPath: options.search === false || !dbPath ? null : searchIndexPath(dbPath),
      rowChars: options.rowChars ?? 32 * 1024,
      sliceBytes: options.sliceBytes ?? 128 * 1024,
      retention: options.retention === undefined ? DEFAULT_RETENTION : options.retention,
    },
    {
      onCommitted: (c: Committed) => {
        if (c.position) out.confirm(c.position.segment, c.position.offset);
        for (const seg of c.segmentsDone) out.releaseSegment(seg);
        if (c.batches.length > 0) outputEmitter.fire(c.batches);
      },
      onPaused: (reason, code) => pause('ingest', reason, code),
      onResumed: () => clear('ingest'),
      onLog: (level, message, fields) => logger[level](message, fields),
      onCrash: (error) =>
        logger.error('persistence worker failed: the spool is stored in-process from now on', {
          error: String(error),
        }),
    },
  );
  ingest = driver;

  const factory: StreamRedactorFactory | null = options.createStreamRedactor
    ? (options.createStreamRedactor as StreamRedactorFactory)
    : redactor
      ? (o) => createStreamRedactor(redactor, o)
      : null;
  const outputs = new SessionOutputs({
    spool: out,
    createStreamRedactor: factory,
    holdMs: options.holdMs ?? 250,
    sessionInfo: (id) => manager?.get(id),
  });

  const writeSession = (info: SessionInfo) => {
    control.session(info);
    if (!control.holding) sessionEmitter.fire(info);
  };

  const journal: CommandJournal = {
    record(entry) {
      // A submitted line splits the stored output at its seq (raw keys do not: one row per key).
      if (entry.kind === 'command') outputs.cut(entry.session_id);
      const text = redact(entry.text);
      control.command({
        session_id: entry.session_id,
        kind: entry.kind,
        text,
        at: entry.at,
        seq: entry.seq,
        // A secret typed one key at a time is only recognisable in the whole line.
        ...(entry.kind === 'command' && text !== entry.text ? { scrub_keys: true } : {}),
      });
    },
  };

  const onOutput = (chunk: OutputChunk) => outputs.onChunk(chunk);

  return {
    journal,
    get status() {
      return snapshotStatus();
    },
    onDidChangeStatus: statusEmitter.event,
    onDidCommitOutput: (listener) => {
      const d = outputEmitter.event(listener);
      driver.wantBatches(true);
      return {
        dispose: () => {
          d.dispose();
          if (!outputEmitter.hasListeners) driver.wantBatches(false);
        },
      };
    },
    onDidCommitSession: sessionEmitter.event,
    onDidSpoolOutput: spooledEmitter.event,
    pending: {
      run,
      ops: (id, storedThrough) => out.pendingOps(id, storedThrough),
      sessions: () => out.pendingSessions(),
    },
    paths: { spool: out.runDir, search: dbPath ? searchIndexPath(dbPath) : null, spill: spill?.path ?? null },
    attach(m) {
      if (manager) throw new Error('persistence is already attached to a manager');
      manager = m;
      for (const info of m.list()) writeSession(info);
      listeners.add(m.onDidCreate((info) => writeSession(info)));
      listeners.add(m.onDidChangeState(({ session }) => writeSession(session)));
      listeners.add(m.onOutput(onOutput));
      listeners.add(m.onDidSpawn((record) => control.spawn(record)));
      listeners.add(
        m.onDidExit((info) => {
          outputs.end(info.session_id);
          writeSession(info);
          control.release(info.session_id, 'exited', info.ended_at ?? isoNow());
        }),
      );
      return { dispose: () => listeners.dispose() };
    },
    flush() {
      if (control.holding) retryNow();
      const written = out.write();
      const stored = !control.holding && driver.drain();
      return written && stored && paused.size === 0;
    },
    close() {
      if (closed) return;
      listeners.dispose();
      outputs.endAll();
      outputs.close();
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      // Commands first, then the spool, then as much storing as the database takes.
      const controlOk = control.retry();
      if (controlOk) clear('database');
      out.write();
      const stored = driver.drain();
      const lost = out.unwritten();
      if (lost.size > 0) {
        const losses = [...lost].map(([session_id, l]) => ({ session_id, ...l }));
        control.recordLoss(losses);
        logger.error('persistence closed while paused: output that could not be written is lost', {
          sessions: Object.fromEntries(
            losses.map((l) => [l.session_id, { seq: `${l.seq_start}-${l.seq_end}`, bytes: l.bytes }]),
          ),
          recorded_as: control.holding ? 'spill file' : 'gap rows',
        });
      }
      if (control.holding)
        logger.error('persistence closed while paused: held commands are journaled at the next start', {
          commands: control.heldCommands,
          spill_file: spill?.path ?? null,
        });
      if (stored && lost.size === 0 && driver.finishRun()) {
        // Everything is in the database: the run's spool is gone.
      } else if (!stored) {
        logger.warn('persistence closed with output spooled but not stored: stored at the next start', {
          spool: out.runDir,
        });
      }
      closed = true;
      driver.close();
      closeRun(run);
      out.close();
      spill?.close();
      statusEmitter.dispose();
      outputEmitter.dispose();
      sessionEmitter.dispose();
      spooledEmitter.dispose();
    },
  };
}

/**
 * The spool an earlier run left (a crash, a kill -9, a shutdown while the disk was full) is stored
 * before anything else, synchronously: what the database says a session has stored is then true when
 * the core asks the PTY host to replay what came after it (store/output-seq.ts), so the reattach loses
 * and repeats nothing. Time: ~10–20 ms per MiB left. If the database refuses (still full), the worker
 * stores the rest later.
 */
function storeLeftovers(store: SessionStore, spoolDir: string, run: string, logger: LoggerLike): void {
  const ingester = new Ingester({ db: store.db, spoolDir, run, retention: null, logger });
  if (ingester.leftoverRuns === 0) {
    ingester.close();
    return;
  }
  const t0 = performance.now();
  let rows = 0;
  store.db.pragma('synchronous = NORMAL');
  try {
    while (ingester.leftoverRuns > 0) rows += ingester.step().rows;
  } catch (error) {
    logger.warn('the spool of an earlier run could not all be stored at start: the rest follows', {
      error: String(error),
    });
  } finally {
    store.db.pragma('synchronous = FULL');
    ingester.close();
  }
  logger.info('stored the spool of an earlier run', { rows, ms: Math.round(performance.now() - t0) });
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
