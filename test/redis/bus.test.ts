import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { runRecovery } from '../../src-main/core/recovery/recovery.ts';
import { type BusEvent, createRedisBus, type RedisBus } from '../../src-main/core/redis/bus.ts';
import { redisKeys } from '../../src-main/core/redis/keys.ts';
import { historySource, publishCommitted } from '../../src-main/core/redis/wire.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence } from '../../src-main/core/store/persistence.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import type { LoggerLike } from '../../src-main/core/store/types.ts';
import { freePort, type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { SyntheticManager, schemaDir, tempDir } from '../store/helpers.ts';

type T = { after(fn: () => void | Promise<void>): void };

async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A probe that throws (Redis briefly unreachable: commands fail fast) counts as "not yet".
  while (
    !(await Promise.resolve()
      .then(cond)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => {
    lines.push({ level, msg });
  };
  const logger: LoggerLike = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** App side: SQLite + persistence + bus wired as core.ts does. */
function app(t: T, url: string, options: { instanceId?: string; logger?: LoggerLike } = {}) {
  const dir = tempDir(t, 'autodev-redis-');
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'app.db') });
  const store = createSessionStore(opened.db);
  const history = createHistory(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, { flushMs: 5, retention: null });
  const bus = createRedisBus({
    url,
    instanceId: options.instanceId ?? store.instanceId,
    logger: options.logger,
    source: historySource(history),
    heartbeatMs: 200,
    commandTimeoutMs: 500,
    maxBackoffMs: 200,
  });
  const wiring = publishCommitted(persistence, bus);
  t.after(async () => {
    wiring.dispose();
    persistence.close();
    await bus.close();
    opened.close();
  });
  return { db: opened.db, store, history, manager, persistence, bus };
}

/** The stream must equal SQLite's rows: same ranges, strictly increasing, no gaps, no duplicates. */
async function assertStreamMatchesSqlite(
  bus: RedisBus,
  history: ReturnType<typeof createHistory>,
  id: string,
) {
  const rows = history.output(id, 0, -1);
  const entries = await bus.readStream(id, 0, 1_000_000);
  assert.ok(rows.length > 0);
  assert.deepEqual(
    entries.map((e) => [e.seq_start, e.seq_end, e.gap]),
    rows.map((r) => [r.seq_start, r.seq_end, r.gap]),
    `stream of ${id} equals SQLite`,
  );
  for (let i = 1; i < entries.length; i++) assert.equal(entries[i]!.seq_start, entries[i - 1]!.seq_end + 1);
  assert.deepEqual(
    entries.map((e) => e.data),
    rows.map((r) => r.data),
  );
}

async function server(t: T, port?: number): Promise<RedisServer> {
  const s = await startRedisServer(port === undefined ? {} : { port });
  t.after(() => s.close());
  return s;
}

test('publishes state, output stream, registry and pub/sub to other instances', async (t) => {
  const redis = await server(t);
  const a = app(t, redis.url);
  const b = app(t, redis.url, { instanceId: 'inst-other' });
  await a.bus.connect();
  await b.bus.connect();
  assert.equal(a.bus.status.connected, true);
  const events: BusEvent[] = [];
  b.bus.subscribe((e) => events.push(e));
  await new Promise((r) => setTimeout(r, 100)); // subscription settles

  const s = a.manager.create();
  a.manager.setState(s.session_id, 'running');
  for (let i = 0; i < 20; i++) a.manager.print(s.session_id, `out ${i}\r\n`);
  a.persistence.flush();
  for (let i = 0; i < 20; i++) a.manager.print(s.session_id, `more ${i}\r\n`);
  a.persistence.flush();
  await waitFor(async () => (await a.bus.readStream(s.session_id)).length === 2, 'two stream entries');
  await assertStreamMatchesSqlite(a.bus, a.history, s.session_id);
  assert.equal((await a.bus.readStream(s.session_id, 20)).length, 1, 'catch-up after a seq');
  assert.deepEqual(await b.bus.owners(), { [s.session_id]: a.store.instanceId });
  await waitFor(() => events.some((e) => e.type === 'output'), 'pub/sub output at the other instance');
  assert.ok(events.some((e) => e.type === 'state' && e.session.state === 'running'));
  assert.ok(events.every((e) => e.instance === a.store.instanceId));

  a.manager.exit(s.session_id);
  await waitFor(async () => Object.keys(await b.bus.owners()).length === 0, 'ended session released');
});

test('Redis absent at start: app fully works on SQLite, one logged warning, no unhandled error; resync once it appears', async (t) => {
  const port = await freePort();
  const { logger, lines } = recordingLogger();
  const a = app(t, `redis://127.0.0.1:${port}`, { logger });
  await a.bus.connect();
  assert.equal(a.bus.status.connected, false);
  // Start-up recovery does not wait for Redis: the cross-check is deferred until it is reachable.
  const report = await runRecovery({ db: a.db, redis: a.bus });
  assert.match(report.redis.error ?? '', /deferred/);
  const s = a.manager.create();
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 10; i++) a.manager.print(s.session_id, `r${round} l${i}\r\n`);
    a.persistence.flush();
    await new Promise((r) => setTimeout(r, 50)); // several reconnect attempts happen meanwhile
  }
  assert.equal(a.history.output(s.session_id, 0, -1).length, 10, 'SQLite has everything');
  assert.ok(a.bus.status.dropped >= 10);
  const warns = lines.filter((l) => l.level === 'warn' && /redis/.test(l.msg));
  assert.equal(warns.length, 1, `one warning per outage, got ${warns.length}`);
  assert.equal(a.bus.status.outages, 1);

  await server(t, port);
  await waitFor(() => a.bus.status.connected, 'connect once Redis appears');
  await waitFor(
    async () => (await a.bus.readStream(s.session_id, 0, 100)).length === 10,
    'resync from SQLite',
  );
  await assertStreamMatchesSqlite(a.bus, a.history, s.session_id);
});

test('Redis down mid-run under load: no crash, dropped not queued, SQLite complete; back on the same port: resync without gaps or duplicates', async (t) => {
  const redis = await server(t);
  const { logger, lines } = recordingLogger();
  const a = app(t, redis.url, { logger });
  await a.bus.connect();
  const sessions = [a.manager.create(), a.manager.create(), a.manager.create()];
  let printed = 0;
  const load = setInterval(() => {
    for (const s of sessions) a.manager.print(s.session_id, `line ${printed++} ${'x'.repeat(2000)}\r\n`);
  }, 2);
  t.after(() => clearInterval(load));
  await waitFor(async () => (await a.bus.readStream(sessions[0]!.session_id)).length > 5, 'live streaming');

  await redis.stop(); // the data is gone with it (--save ''): the stream must be rebuilt from SQLite
  await waitFor(() => !a.bus.status.connected, 'the outage to be noticed');
  const heapBefore = process.memoryUsage().heapUsed;
  const droppedBefore = a.bus.status.dropped;
  const printedBefore = printed;
  await waitFor(() => printed - printedBefore > 1500, 'load during the outage (~3 MB)');
  assert.ok(a.bus.status.dropped > droppedBefore, 'publishes during the outage are dropped and counted');
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(heapGrowth < 64 * 1024 * 1024, `no unbounded offline queue (heap +${heapGrowth} B)`);

  await redis.start();
  await waitFor(() => a.bus.status.connected, 'reconnect');
  await new Promise((r) => setTimeout(r, 200));
  clearInterval(load);
  a.persistence.flush();
  await a.bus.resync();
  for (const s of sessions) {
    await waitFor(async () => {
      const rows = a.history.output(s.session_id, 0, -1);
      const last = (await a.bus.readStream(s.session_id, rows.at(-1)!.seq_end - 1, 10)).at(-1);
      return last?.seq_end === rows.at(-1)!.seq_end;
    }, 'the stream to catch up');
    await assertStreamMatchesSqlite(a.bus, a.history, s.session_id);
    // SQLite complete: every chunk from 1 to the last seq, no hole.
    const rows = a.history.output(s.session_id, 0, -1);
    assert.equal(rows[0]?.seq_start, 1);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1);
  }
  const warns = lines.filter((l) => l.level === 'warn' && /redis/.test(l.msg));
  assert.equal(warns.length, 1, 'logged once for the outage');
  assert.ok(lines.some((l) => l.level === 'info' && /reachable again/.test(l.msg)));

  // The subscriber side resubscribed: live events flow again after the restart.
  const live: BusEvent[] = [];
  a.bus.subscribe((e) => live.push(e), { includeOwn: true });
  await waitFor(async () => {
    a.manager.print(sessions[0]!.session_id, 'after the outage\r\n');
    a.persistence.flush();
    await new Promise((r) => setTimeout(r, 50));
    return live.some((e) => e.type === 'output' && e.batch.data.includes('after the outage'));
  }, 'pub/sub after reconnect');
});

test('connections killed while Redis keeps its data: resync appends only what is missing (no duplicates)', async (t) => {
  const redis = await server(t);
  const a = app(t, redis.url);
  await a.bus.connect();
  const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
  await admin.connect();
  t.after(() => admin.disconnect());
  const s = a.manager.create();
  let n = 0;
  const load = setInterval(() => a.manager.print(s.session_id, `k${n++}\r\n`), 1);
  t.after(() => clearInterval(load));
  for (let round = 0; round < 3; round++) {
    await waitFor(
      async () => (await a.bus.readStream(s.session_id, 0, 100_000)).length > round * 20 + 10,
      'stream grows',
    );
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await waitFor(() => a.bus.status.connected, 'reconnected');
  }
  clearInterval(load);
  a.persistence.flush();
  await a.bus.resync();
  await waitFor(async () => {
    const rows = a.history.output(s.session_id, 0, -1);
    return (await a.bus.readStream(s.session_id, 0, 1_000_000)).length === rows.length;
  }, 'stream equals SQLite');
  await assertStreamMatchesSqlite(a.bus, a.history, s.session_id);
});

test('recovery cross-checks Redis against SQLite: SQLite wins, orphaned keys of this instance removed, others left', async (t) => {
  const redis = await server(t);
  const a = app(t, redis.url);
  await a.bus.connect();
  const keys = redisKeys('autodev');
  const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
  await admin.connect();
  t.after(() => admin.disconnect());
  const me = a.store.instanceId;

  const live = a.manager.create();
  a.manager.setState(live.session_id, 'running');
  a.manager.print(live.session_id, 'hello\r\n');
  a.persistence.flush();
  await waitFor(
    async () => (await admin.hget(keys.state(live.session_id), 'state')) === 'running',
    'published',
  );
  // The app "crashed": recovery will mark the live session terminated; Redis still says running.
  await admin.hset(keys.state('ghost'), 'state', 'running', 'owner', me);
  await admin.xadd(
    keys.stream('ghost'),
    '1-0',
    'seq_start',
    '1',
    'seq_end',
    '1',
    'data',
    'x',
    'instance',
    me,
  );
  await admin.set(keys.owner('ghost'), me);
  await admin.hset(keys.state('theirs'), 'state', 'running', 'owner', 'inst-other');
  await admin.set(keys.owner('theirs'), 'inst-other');

  const report = await runRecovery({ db: a.db, redis: a.bus, instanceId: me });
  assert.equal(report.redis.error, null);
  assert.equal(report.redis.repaired, 1);
  assert.ok(report.redis.orphans_removed >= 3, `orphans ${report.redis.orphans_removed}`);
  assert.equal(await admin.hget(keys.state(live.session_id), 'state'), 'terminated');
  assert.equal(await admin.exists(keys.state('ghost'), keys.stream('ghost'), keys.owner('ghost')), 0);
  assert.equal(await admin.get(keys.owner(live.session_id)), null, 'ended session left the registry');
  assert.equal(
    await admin.hget(keys.state('theirs'), 'state'),
    'running',
    'another instance is not ours to fix',
  );
  assert.equal(await admin.get(keys.owner('theirs')), 'inst-other');
});
