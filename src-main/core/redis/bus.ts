import { Redis, type RedisOptions } from 'ioredis';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { RedisReconciler, RedisTruth } from '../recovery/recovery.ts';
import type { OutputBatch } from '../store/session-store.ts';
import { isoNow, type LoggerLike, silentLogger } from '../store/types.ts';
import { Emitter, type Event } from '../util/event.ts';
import { redisKeys } from './keys.ts';

/** What the bus reads from SQLite (the source of truth) to resync after an outage. */
export interface RedisResyncSource {
  /** Stored output batches of a session with seq_end > afterSeq, in seq order, at most `limit`. */
  output(sessionId: string, afterSeq: number, limit: number): Omit<OutputBatch, 'session_id'>[];
  session(sessionId: string): SessionInfo | undefined;
}

export interface RedisBusOptions {
  url: string;
  /** This installation (app_meta instance_id): owner of its sessions in the registry. */
  instanceId: string;
  logger?: LoggerLike;
  /** Key prefix (several AutoDev deployments can share one Redis). */
  prefix?: string;
  source?: RedisResyncSource;
  /** Approximate cap of each session's stream (XADD MAXLEN ~). */
  streamMaxLen?: number;
  /** Registry heartbeat period and the owner keys' time to live. */
  heartbeatMs?: number;
  ownerTtlS?: number;
  commandTimeoutMs?: number;
  /** Longest reconnect backoff. */
  maxBackoffMs?: number;
}

export interface RedisStatus {
  configured: true;
  connected: boolean;
  /** Outages since start (a failed first connect counts). */
  outages: number;
  down_since: string | null;
  /** Messages that could not be published (dropped, never queued); streams are resynced from SQLite. */
  dropped: number;
  published: number;
  resynced_entries: number;
  last_error: string | null;
}

export type BusEvent =
  | { type: 'state'; instance: string; session: SessionInfo }
  | { type: 'output'; instance: string; batch: OutputBatch };

export interface StreamEntry {
  id: string;
  seq_start: number;
  seq_end: number;
  data: string;
  gap: boolean;
  at: string;
  instance: string;
}

export interface RedisBus extends RedisReconciler {
  readonly status: RedisStatus;
  readonly onDidChangeStatus: Event<RedisStatus>;
  /** Starts connecting (lazy); never throws. Resolves when connected or the first attempt failed. */
  connect(): Promise<void>;
  /** State row + pub/sub fan-out; registry: live sessions are owned by this instance, ended ones released. */
  publishSession(info: SessionInfo): void;
  /** Committed output batches: pub/sub + the session's capped stream (ids `<seq_end>-0`). */
  publishOutput(batches: OutputBatch[]): void;
  /** Live events of other instances (and this one's, with includeOwn). Resubscribed on reconnect. */
  subscribe(listener: (event: BusEvent) => void, options?: { includeOwn?: boolean }): { dispose(): void };
  /** Catch-up: stream entries with seq_end > afterSeq. */
  readStream(sessionId: string, afterSeq?: number, count?: number): Promise<StreamEntry[]>;
  /** Session id → owning instance, from the registry. */
  owners(): Promise<Record<string, string>>;
  /** Bring every dirty (or the given) session's stream up to SQLite. Runs after each reconnect. */
  resync(sessionIds?: Iterable<string>): Promise<{ sessions: number; added: number }>;
  close(): Promise<void>;
}

const SESSION_KEY = /^(.*):session:(.+):(state|stream|owner)$/;

/**
 * Optional Redis (REDIS_URL): a fan-out and catch-up layer over SQLite, never in its way. ioredis is
 * configured to fail fast (field notes §5.2): no offline queue, one retry, a command timeout, no
 * resend of unfulfilled commands, backoff capped at 30 s, and an `error` listener on every connection.
 * While Redis is down, publishes are dropped and counted, and the sessions concerned are marked dirty;
 * when it is back, their streams are resynced from SQLite by seq (explicit stream ids make it
 * idempotent: no duplicates, no gaps).
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
  const logger = options.logger ?? silentLogger;
  const keys = redisKeys(options.prefix ?? 'autodev');
  const me = options.instanceId;
  const streamMaxLen = options.streamMaxLen ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const ownerTtlS = options.ownerTtlS ?? Math.max(3, Math.ceil((heartbeatMs * 3) / 1000));
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;

  const clientOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 1500,
    connectTimeout: 3000,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: true,
    retryStrategy: (times) => Math.min(maxBackoffMs, 100 * 2 ** Math.min(times, 16)),
  };
  const client = new Redis(options.url, { ...clientOptions, connectionName: `autodev:${me}` });
  const sub = new Redis(options.url, { ...clientOptions, connectionName: `autodev:${me}:sub` });

  const statusEmitter = new Emitter<RedisStatus>();
  const listeners = new Set<{ fn: (e: BusEvent) => void; includeOwn: boolean }>();
  const status: RedisStatus = {
    configured: true,
    connected: false,
    outages: 0,
    down_since: null,
    dropped: 0,
    published: 0,
    resynced_entries: 0,
    last_error: null,
  };
  /** Sessions whose stream may miss entries: no live XADD for them until a resync caught up. */
  const dirty = new Set<string>();
  /** Sessions published in this run (resynced after every reconnect: Redis may have lost them). */
  const known = new Set<string>();
  const owned = new Set<string>();
  let closed = false;
  let resyncing: Promise<{ sessions: number; added: number }> | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  let deferredReconcile: RedisTruth | null = null;

  const snapshot = () => ({ ...status });
  const ready = () => client.status === 'ready';

  function markDown(error: unknown): void {
    status.last_error = String((error as Error)?.message ?? error);
    if (status.down_since !== null) return; // once per outage
    status.connected = false;
    status.down_since = isoNow();
    status.outages++;
    logger.warn('redis unavailable: continuing on SQLite only, retrying with backoff', {
      error: status.last_error,
      max_backoff_ms: maxBackoffMs,
    });
    statusEmitter.fire(snapshot());
  }

  // An `error` listener on every connection: ioredis emits one per failed attempt; never unhandled.
  client.on('error', (error) => markDown(error));
  sub.on('error', (error) =>
    logger.debug('redis subscriber error', { error: String(error?.message ?? error) }),
  );
  client.on('close', () => {
    if (!closed && status.connected) markDown(new Error('connection closed'));
  });
  client.on('ready', () => {
    const wasDown = status.down_since;
    status.connected = true;
    status.down_since = null;
    if (wasDown !== null) {
      logger.info('redis reachable again: resyncing streams from SQLite', {
        down_since: wasDown,
        dropped: status.dropped,
      });
    }
    statusEmitter.fire(snapshot());
    for (const id of known) dirty.add(id);
    void beat();
    void runResync();
    if (deferredReconcile) {
      const truth = deferredReconcile;
      deferredReconcile = null;
      reconcileNow(truth).then(
        (r) => logger.info('redis cross-checked against SQLite (deferred from start-up)', r),
        (error) => logger.warn('redis cross-check failed', { error: String(error) }),
      );
    }
  });
  sub.on('ready', () => {
    sub
      .subscribe(keys.channel)
      .catch((error) => logger.debug('redis subscribe failed', { error: String(error) }));
  });
  sub.on('message', (_channel: string, message: string) => {
    let event: BusEvent;
    try {
      event = JSON.parse(message) as BusEvent;
    } catch {
      return;
    }
    for (const l of listeners) {
      if (event.instance === me && !l.includeOwn) continue;
      try {
        l.fn(event);
      } catch (error) {
        logger.error('redis bus listener failed', { error: String(error) });
      }
    }
  });

  function drop(count: number, sessionId?: string): void {
    status.dropped += count;
    if (sessionId) dirty.add(sessionId);
  }

  async function beat(): Promise<void> {
    if (!ready()) return;
    try {
      const p = client.pipeline();
      p.set(keys.instance(me), isoNow(), 'EX', ownerTtlS);
      for (const id of owned) p.set(keys.owner(id), me, 'EX', ownerTtlS);
      await p.exec();
    } catch (error) {
      logger.debug('redis heartbeat failed', { error: String(error) });
    }
  }

  function stateFields(info: SessionInfo): string[] {
    return [
      'state',
      info.state,
      'owner',
      me,
      'last_seq',
      String(info.last_seq),
      'updated_at',
      isoNow(),
      'info',
      JSON.stringify(info),
    ];
  }

  function streamArgs(batch: Omit<OutputBatch, 'session_id'>): (string | number)[] {
    return [
      'MAXLEN',
      '~',
      streamMaxLen,
      `${batch.seq_end}-0`,
      'seq_start',
      batch.seq_start,
      'seq_end',
      batch.seq_end,
      'data',
      batch.data,
      'gap',
      batch.gap ? 1 : 0,
      'at',
      batch.at,
      'instance',
      me,
    ];
  }

  /** Last seq in a session's stream (0 when empty or missing). */
  async function lastStreamSeq(sessionId: string): Promise<number> {
    const last = (await client.xrevrange(keys.stream(sessionId), '+', '-', 'COUNT', 1)) as [
      string,
      string[],
    ][];
    const id = last[0]?.[0];
    return id ? Number(id.split('-')[0]) : 0;
  }

  /** Appends SQLite's batches after the stream's last seq, until none are left (then not dirty). */
  async function resyncSession(sessionId: string): Promise<number> {
    const source = options.source;
    if (!source) {
      dirty.delete(sessionId);
      return 0;
    }
    let added = 0;
    const info = source.session(sessionId);
    if (info) await client.hset(keys.state(sessionId), ...stateFields(info));
    let after = await lastStreamSeq(sessionId);
    for (;;) {
      // Synchronous read, then (if nothing is left) clearing `dirty` in the same tick: no live publish
      // can slip in between, so the stream's ids stay strictly increasing.
      const rows = source.output(sessionId, after, 500);
      if (rows.length === 0) {
        dirty.delete(sessionId);
        return added;
      }
      const p = client.pipeline();
      for (const row of rows) p.xadd(keys.stream(sessionId), ...(streamArgs(row) as [string]));
      const results = (await p.exec()) ?? [];
      for (const [error] of results) {
        // "equal or smaller than the target stream top item": already there (idempotent), skip.
        if (error && !/equal or smaller/i.test(String(error.message))) throw error;
        if (!error) added++;
      }
      after = rows[rows.length - 1]!.seq_end;
    }
  }

  function runResync(ids?: Iterable<string>): Promise<{ sessions: number; added: number }> {
    if (ids) for (const id of ids) dirty.add(id);
    if (resyncing)
      return resyncing.then(() => (dirty.size > 0 && ready() ? runResync() : { sessions: 0, added: 0 }));
    resyncing = (async () => {
      let sessions = 0;
      let added = 0;
      for (const id of [...dirty]) {
        if (!ready()) break;
        try {
          added += await resyncSession(id);
          sessions++;
        } catch (error) {
          logger.debug('redis resync of a session failed; will retry on reconnect', {
            session_id: id,
            error: String(error),
          });
        }
      }
      status.resynced_entries += added;
      return { sessions, added };
    })().finally(() => {
      resyncing = null;
    });
    return resyncing;
  }

  const bus: RedisBus = {
    get status() {
      return snapshot();
    },
    onDidChangeStatus: statusEmitter.event,

    async connect() {
      if (closed) return;
      heartbeat ??= setInterval(() => void beat(), heartbeatMs);
      heartbeat.unref?.();
      const attempt = async (c: Redis) => {
        try {
          await c.connect();
        } catch (error) {
          // ioredis keeps retrying in the background (retryStrategy); the `error` listener logged it.
          if (c === client) markDown(error);
        }
      };
      await Promise.all([attempt(client), attempt(sub)]);
    },

    publishSession(info) {
      const id = info.session_id;
      known.add(id);
      const ended = info.ended_at !== null || info.state === 'completed' || info.state === 'terminated';
      if (ended) owned.delete(id);
      else owned.add(id);
      if (!ready()) return drop(1, id);
      const event: BusEvent = { type: 'state', instance: me, session: info };
      const p = client.pipeline();
      p.hset(keys.state(id), ...stateFields(info));
      if (ended) p.del(keys.owner(id));
      else p.set(keys.owner(id), me, 'EX', ownerTtlS);
      p.publish(keys.channel, JSON.stringify(event));
      p.exec().then(
        (results) => {
          if (results?.some(([e]) => e)) drop(1, id);
          else status.published++;
        },
        () => drop(1, id),
      );
    },

    publishOutput(batches) {
      for (const batch of batches) {
        const id = batch.session_id;
        known.add(id);
        if (!ready()) {
          drop(1, id);
          continue;
        }
        const p = client.pipeline();
        // A dirty session's stream is repaired by resync (in seq order) before live XADDs resume.
        const toStream = !dirty.has(id);
        if (toStream) p.xadd(keys.stream(id), ...(streamArgs(batch) as [string]));
        p.publish(keys.channel, JSON.stringify({ type: 'output', instance: me, batch } satisfies BusEvent));
        p.exec().then(
          (results) => {
            if (results?.some(([e]) => e)) drop(1, id);
            else status.published++;
          },
          () => drop(1, id),
        );
      }
      if (dirty.size > 0 && ready() && !resyncing) void runResync();
    },

    subscribe(fn, opts = {}) {
      const entry = { fn, includeOwn: opts.includeOwn ?? false };
      listeners.add(entry);
      return { dispose: () => listeners.delete(entry) };
    },

    async readStream(sessionId, afterSeq = 0, count = 1000) {
      const rows = (await client.xrange(keys.stream(sessionId), `(${afterSeq}-0`, '+', 'COUNT', count)) as [
        string,
        string[],
      ][];
      return rows.map(([id, fields]) => {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        return {
          id,
          seq_start: Number(f.seq_start),
          seq_end: Number(f.seq_end),
          data: f.data ?? '',
          gap: f.gap === '1',
          at: f.at ?? '',
          instance: f.instance ?? '',
        };
      });
    },

    async owners() {
      const out: Record<string, string> = {};
      for (const key of await scanAll(`${keys.prefix}:session:*:owner`)) {
        const m = SESSION_KEY.exec(key);
        const owner = await client.get(key);
        if (m && owner) out[m[2]!] = owner;
      }
      return out;
    },

    resync(ids) {
      return runResync(ids ?? known);
    },

    async reconcile(truth: RedisTruth) {
      if (!ready()) {
        // Do not hold start-up for Redis: cross-check as soon as it is reachable.
        deferredReconcile = truth;
        throw new Error(`redis not connected (${client.status}): cross-check deferred until it is`);
      }
      return reconcileNow(truth);
    },

    async close() {
      if (closed) return;
      closed = true;
      if (heartbeat) clearInterval(heartbeat);
      if (ready()) {
        try {
          await client.del(keys.instance(me));
        } catch {}
      }
      listeners.clear();
      statusEmitter.dispose();
      client.disconnect();
      sub.disconnect();
    },
  };

  async function reconcileNow(
    truth: RedisTruth,
  ): Promise<{ checked: number; repaired: number; orphans_removed: number }> {
    let checked = 0;
    let repaired = 0;
    let orphans = 0;
    const ids = new Set<string>();
    for (const key of await scanAll(`${keys.prefix}:session:*`)) {
      const m = SESSION_KEY.exec(key);
      if (m && m[1] === keys.prefix) ids.add(m[2]!);
    }
    for (const id of ids) {
      checked++;
      const [stateOwner, state, registryOwner] = await Promise.all([
        client.hget(keys.state(id), 'owner'),
        client.hget(keys.state(id), 'state'),
        client.get(keys.owner(id)),
      ]);
      let owner = stateOwner ?? registryOwner;
      if (owner === null) {
        const last = (await client.xrevrange(keys.stream(id), '+', '-', 'COUNT', 1)) as [string, string[]][];
        const fields = last[0]?.[1] ?? [];
        const at = fields.indexOf('instance');
        owner = at >= 0 ? (fields[at + 1] ?? null) : null;
      }
      if (owner !== me) continue; // another instance's session: its own SQLite is its truth
      const row = truth(id);
      if (!row) {
        orphans += await client.del(keys.state(id), keys.stream(id), keys.owner(id));
        continue;
      }
      if (state !== row.state) {
        await client.hset(keys.state(id), 'state', row.state, 'updated_at', isoNow());
        const info = options.source?.session(id);
        if (info) await client.hset(keys.state(id), 'info', JSON.stringify(info));
        repaired++;
      }
      if (row.ended && registryOwner !== null) {
        orphans += await client.del(keys.owner(id));
      }
    }
    return { checked, repaired, orphans_removed: orphans };
  }

  async function scanAll(pattern: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    return out;
  }

  return bus;
}
