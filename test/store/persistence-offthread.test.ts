// The core's mode (offThread): output redacted on the live path and appended to the spool; a worker
// thread stores the spool in SQLite and keeps the search index (its own database file).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { createRedactor } from '../../src-main/core/security/redact.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence, type createPersistence } from '../../src-main/core/store/persistence.ts';
import { enforceRetention } from '../../src-main/core/store/retention.ts';
import { openSearchIndex, SearchIndexer, searchIndexPath } from '../../src-main/core/store/search-index.ts';
import type { OutputBatch } from '../../src-main/core/store/session-store.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, searchIndexCaughtUp, tempDir } from './helpers.ts';

const SECRET = 'sk-live-0123456789abcdefSECRET';

function setup(t: { after(fn: () => void): void }, options: Parameters<typeof createPersistence>[1] = {}) {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'p.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, {
    retention: null,
    offThread: true,
    redactor: createRedactor({ secrets: [SECRET] }),
    spillDir: path.join(dir, 'spill'),
    ...options,
  });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  return {
    opened,
    db: opened.db,
    store,
    manager,
    persistence,
    history: createHistory(opened.db),
    live: createHistory(opened.db, { pending: persistence.pending }),
  };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('off-thread: a secret split across chunks is redacted, flush() is synchronous, the index catches up', async (t) => {
  const { manager, persistence, history, db } = setup(t, { flushMs: 60_000 });
  const committed: OutputBatch[] = [];
  persistence.onDidCommitOutput((batches) => committed.push(...batches));
  const s = manager.create();
  manager.print(s.session_id, `\x1b[31mkey=${SECRET.slice(0, 12)}`);
  manager.print(s.session_id, `${SECRET.slice(12)}\x1b[0m then ECONNREFUSED while migrating\r\n`);
  for (let i = 0; i < 200; i++) manager.print(s.session_id, `line ${i} ${'x'.repeat(200)}\r\n`);
  assert.equal(persistence.flush(), true);
  const rows = history.output(s.session_id, 0, -1);
  assert.ok(rows.length > 0, 'stored when flush() returns');
  const data = rows.map((r) => r.data).join('');
  assert.ok(!data.includes(SECRET) && !data.includes(SECRET.slice(12)), 'no part of the secret is stored');
  assert.match(data, /\x1b\[31m/, 'data keeps the ANSI sequences');
  assert.ok(
    !rows
      .map((r) => r.text)
      .join('')
      .includes('\x1b'),
    'text is ANSI-free',
  );
  assert.ok(committed.length > 0 && committed.every((b) => !b.data.includes(SECRET)));
  // Searchable at once (indexed, or scanned above the marker), as a phrase.
  const hits = history.search({ q: 'ECONNREFUSED while' });
  assert.equal(hits.length, 1);
  assert.match(hits[0]!.snippet, /«ECONNREFUSED while»/);
  assert.equal(history.search({ q: 'while ECONNREFUSED' }).length, 0);
  // The worker indexes in the background: the backlog drains and the index matches the content.
  const index = await searchIndexCaughtUp(t, db);
  assert.deepEqual(index.rowids(), index.expected());
  assert.equal(history.search({ q: 'ECONNREFUSED while' }).length, 1);
});

test('off-thread: output is stored without flush(); the exit releases the redactor tail; history is complete at once', async (t) => {
  const { manager, persistence, history, live } = setup(t, { flushMs: 20 });
  let committedSeq = 0;
  persistence.onDidCommitOutput((batches) => {
    for (const b of batches) committedSeq = Math.max(committedSeq, b.seq_end);
  });
  const s = manager.create();
  let last = 0;
  for (let i = 0; i < 50; i++) last = manager.print(s.session_id, `async ${i}\r\n`);
  await waitFor(() => committedSeq === last, 'the spool to be stored by the worker');
  assert.equal(history.output(s.session_id, 0, -1).at(-1)?.seq_end, last);
  const end = manager.print(s.session_id, 'bye\r\n');
  manager.exit(s.session_id, 0);
  // The API's history has everything the moment the session ended (the spooled tail)…
  assert.match(
    live
      .output(s.session_id, 0, -1)
      .map((r) => r.data)
      .join(''),
    /async 49\r\nbye\r\n$/,
  );
  assert.equal(live.output(s.session_id, 0, -1).at(-1)?.seq_end, end);
  // …and SQLite a moment later.
  await waitFor(
    () => /bye\r\n$/.test(history.output(s.session_id, 0, -1).at(-1)?.data ?? ''),
    'the tail stored',
  );
  assert.equal(history.getSession(s.session_id)?.state, 'completed');
});

test('off-thread: the journal stays synchronous and durable while output streams', async (t) => {
  const { manager, persistence, history } = setup(t, { flushMs: 5 });
  const s = manager.create();
  for (let i = 0; i < 20; i++) {
    manager.print(s.session_id, `out ${i} ${'y'.repeat(5000)}\r\n`);
    persistence.journal.record({
      session_id: s.session_id,
      kind: 'command',
      text: `cmd ${i} ${SECRET}`,
      at: new Date().toISOString(),
      seq: i,
    });
    // On disk when record returns (the main connection, synchronous=FULL for commands).
    assert.equal(history.commands(s.session_id).items.length, i + 1);
    assert.ok(!history.commands(s.session_id).items[i]!.text.includes(SECRET));
  }
  // The last chunk is held by the redactor (whole) until it is holdMs old: then it is stored too.
  await waitFor(() => {
    persistence.flush();
    return history.output(s.session_id, 0, -1).at(-1)?.seq_end === 20;
  }, 'the last chunk released and stored');
});

test('off-thread: onOutput never waits for the database — a 24 MB flood, bounded memory, byte-complete and contiguous history', async (t) => {
  const { manager, persistence, live, history } = setup(t, { retention: null });
  const s = manager.create();
  const sha = createHash('sha256');
  let peakBuffered = 0;
  let slowest = 0;
  let last = 0;
  const line = (i: number) =>
    `${i} ${createHash('md5').update(String(i)).digest('base64')} ${'b'.repeat(900)}\r\n`;
  for (let burst = 0; burst < 240; burst++) {
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      const text = line(burst * 100 + i);
      sha.update(text);
      last = manager.print(s.session_id, text);
    }
    slowest = Math.max(slowest, performance.now() - t0);
    peakBuffered = Math.max(peakBuffered, persistence.status.buffered_bytes);
    if (burst % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  // Contiguous in seq right away (stored rows + the spooled tail); every chunk once the redactor's
  // hold (whole chunks, at most holdMs) has passed.
  const now = live.output(s.session_id, 0, -1);
  assert.equal(now[0]?.seq_start, 1);
  for (let i = 1; i < now.length; i++) assert.equal(now[i]!.seq_start, now[i - 1]!.seq_end + 1);
  assert.ok((now.at(-1)?.seq_end ?? 0) >= last - 1, 'at most the last chunk is held');
  await waitFor(() => live.output(s.session_id, 0, -1).at(-1)?.seq_end === last, 'the held chunk released');
  const rows = live.output(s.session_id, 0, -1);
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1);
  const expected = sha.digest('hex');
  // The redactor holds back its look-behind until the end of the stream.
  manager.exit(s.session_id, 0);
  const hashOf = (rs: { data: string }[]) =>
    createHash('sha256')
      .update(rs.map((r) => r.data).join(''))
      .digest('hex');
  assert.equal(
    hashOf(live.output(s.session_id, 0, -1)),
    expected,
    'history (stored + spooled) is byte-complete',
  );
  assert.equal(persistence.flush(), true);
  assert.equal(hashOf(history.output(s.session_id, 0, -1)), expected, 'SQLite alone, once stored');
  assert.ok(peakBuffered < 1.5 * 1024 * 1024, `memory bounded: ${peakBuffered} bytes queued at most`);
  t.diagnostic(
    `24 MB through onOutput: slowest burst of 100 chunks ${slowest.toFixed(1)} ms; queued at most ${peakBuffered} bytes`,
  );
});

test('off-thread: a worker that dies as it starts is noticed at once; flush and close do not wait out a timeout', async (t) => {
  const dir = tempDir(t);
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir);
  const opened = openDatabase({ schemaDir, path: path.join(dataDir, 'p.db') });
  const logs: string[] = [];
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, createSessionStore(opened.db), {
    retention: null,
    offThread: true,
    spillDir: path.join(dir, 'spill'),
    logger: createLogger({ level: 'debug', sink: (line) => logs.push(line) }),
  });
  // The worker starts on its own thread a moment later and finds no database to open: it dies.
  rmSync(dataDir, { recursive: true, force: true });
  const s = manager.create();
  manager.print(s.session_id, 'printed while the worker died\r\n');
  const t0 = performance.now();
  persistence.flush();
  persistence.close();
  opened.close();
  const ms = performance.now() - t0;
  assert.ok(ms < 5000, `flush and close took ${Math.round(ms)} ms (the drain timeout is 30 s)`);
  assert.ok(
    logs.some((l) => l.includes('persistence worker died')),
    `the death is logged: ${logs.join('\n').slice(0, 2000)}`,
  );
});

test('search index: stored rows are indexed in slices; changes and deletes keep it exact', (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'fts.db') });
  t.after(() => opened.close());
  const db = opened.db;
  const store = createSessionStore(db);
  const manager = new SyntheticManager();
  const s = manager.create();
  store.upsertSession(s);
  const search = openSearchIndex(searchIndexPath(db.name), db);
  t.after(() => search.close());
  const indexer = new SearchIndexer(db, search);
  const history = createHistory(db);
  // Rows written the way a crash leaves them: stored, never indexed.
  store.write(() => {
    for (let i = 1; i <= 40; i++) {
      store.insertOutput({
        session_id: s.session_id,
        seq_start: i,
        seq_end: i,
        raw_bytes: 10,
        data: `needle${i} ${'w'.repeat(8000)}`,
        text: `needle${i} ${'w'.repeat(8000)}`,
        gap: false,
        at: new Date(Date.now() + i).toISOString(),
      });
    }
  });
  assert.equal(indexer.backlog(), 40);
  assert.equal(history.search({ q: 'needle7' }).length, 1, 'found by the scan above the marker');
  const first = indexer.indexSlice(20_000);
  assert.ok(first.rows >= 1 && first.rows < 40 && first.more, 'a slice is bounded');
  while (indexer.indexSlice().more) {}
  assert.equal(indexer.backlog(), 0);
  assert.equal(history.search({ q: 'needle7' }).length, 1, 'found through the index');
  // An indexed row changes (an amended secret): the index follows, the old words are gone from it.
  db.prepare(
    "UPDATE session_output SET text = 'replaced words', data = 'replaced words' WHERE seq_start = 5",
  ).run();
  // Retention removes indexed rows.
  enforceRetention(db, { maxBytesPerSession: 8100 * 2 * 30, maxBytesTotal: null });
  assert.ok(indexer.backlog() > 0, 'the changes are queued');
  while (indexer.indexSlice().more) {}
  search.prepare("INSERT INTO output_fts(output_fts) VALUES ('integrity-check')").run();
  const indexed = search.prepare('SELECT id FROM output_fts_docsize ORDER BY id').pluck().all();
  assert.deepEqual(indexed, db.prepare('SELECT id FROM session_output ORDER BY id').pluck().all());
  assert.deepEqual(
    search.prepare("SELECT rowid FROM output_fts WHERE output_fts MATCH 'needle5'").pluck().all(),
    [],
    'the old text left the index',
  );
  assert.equal(history.search({ q: 'needle40' }).length, 1);
  assert.equal(history.search({ q: 'needle1' }).length, 0);
});

test('off-thread: a dead worker is replaced by the in-process path — nothing is lost, seqs stay contiguous', async (t) => {
  process.env.AUTODEV_TEST_PERSISTENCE_WORKER_CRASH_AFTER = '3';
  const errors: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message: string) => errors.push(message),
  };
  let setupResult: ReturnType<typeof setup>;
  try {
    setupResult = setup(t, { flushMs: 5, logger });
  } finally {
    // A worker gets a copy of process.env when it is constructed: later workers must not see it.
    delete process.env.AUTODEV_TEST_PERSISTENCE_WORKER_CRASH_AFTER;
  }
  const { manager, persistence, history, db } = setupResult;
  const s = manager.create();
  let last = 0;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 5; i++)
      last = manager.print(s.session_id, `r${round} i${i} key=${SECRET} ${'v'.repeat(300)}\r\n`);
    await new Promise((r) => setTimeout(r, 15));
  }
  await waitFor(() => errors.some((e) => /worker failed/.test(e)), 'the worker crash to be noticed');
  assert.equal(persistence.status.ok, true, 'a worker crash does not pause persistence');
  manager.print(s.session_id, 'after the crash\r\n');
  manager.exit(s.session_id, 0);
  persistence.flush();
  const rows = history.output(s.session_id, 0, -1);
  assert.equal(rows[0]?.seq_start, 1);
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1);
  assert.equal(rows.at(-1)?.seq_end, last + 1);
  const data = rows.map((r) => r.data).join('');
  assert.ok(!data.includes(SECRET), 'redacted before the spool, whoever stores it');
  assert.match(data, /after the crash\r\n$/);
  // In-process indexing took over too.
  const index = await searchIndexCaughtUp(t, db);
  assert.deepEqual(index.rowids(), index.expected());
  assert.equal(history.search({ q: 'after the crash' }).length, 1);
});
