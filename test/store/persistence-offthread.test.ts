// Off-thread persistence (offThread option, the core's mode): redaction, ANSI stripping and FTS
// indexing in a worker thread, the INSERTs and every guarantee on the main connection.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createFtsIndexer } from '../../src-main/core/store/fts-indexer.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence, type createPersistence } from '../../src-main/core/store/persistence.ts';
import { enforceRetention } from '../../src-main/core/store/retention.ts';
import type { OutputBatch } from '../../src-main/core/store/session-store.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, tempDir } from './helpers.ts';

const SECRET = 'sk-live-0123456789abcdefSECRET';

function setup(t: { after(fn: () => void): void }, options: Parameters<typeof createPersistence>[1] = {}) {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'p.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, {
    retention: null,
    offThread: { secrets: [SECRET] },
    ...options,
  });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  return { opened, db: opened.db, store, manager, persistence, history: createHistory(opened.db) };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ftsIntegrity(db: ReturnType<typeof openDatabase>['db']): void {
  // rank 1: also checks that the index matches the external content table exactly (without it only
  // the index's own structure is checked).
  db.prepare("INSERT INTO session_output_fts(session_output_fts, rank) VALUES ('integrity-check', 1)").run();
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
  const fts = createFtsIndexer(db);
  await waitFor(() => fts.backlog() === 0, 'the FTS backlog to drain');
  ftsIntegrity(db);
  assert.equal(history.search({ q: 'ECONNREFUSED while' }).length, 1);
});

test('off-thread: output is committed without flush() and before the exit row; the redactor tail is kept', async (t) => {
  const { manager, persistence, history } = setup(t, { flushMs: 20 });
  let committedSeq = 0;
  persistence.onDidCommitOutput((batches) => {
    for (const b of batches) committedSeq = Math.max(committedSeq, b.seq_end);
  });
  const s = manager.create();
  let last = 0;
  for (let i = 0; i < 50; i++) last = manager.print(s.session_id, `async ${i}\r\n`);
  await waitFor(() => committedSeq === last, 'the timed flush to commit through the worker');
  assert.equal(history.output(s.session_id, 0, -1).at(-1)?.seq_end, last);
  // A short final line sits in the redactor's look-behind until exit: exit releases it synchronously.
  const end = manager.print(s.session_id, 'bye\r\n');
  manager.exit(s.session_id, 0);
  const rows = history.output(s.session_id, 0, -1);
  assert.equal(rows.at(-1)?.seq_end, end);
  assert.match(rows.map((r) => r.data).join(''), /async 49\r\nbye\r\n$/);
  assert.equal(history.getSession(s.session_id)?.state, 'completed');
});

test('off-thread: the journal stays synchronous and durable while output streams', (t) => {
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
  }
  persistence.flush();
  assert.equal(history.output(s.session_id, 0, -1).at(-1)?.seq_end, 20);
});

test('off-thread: more output in flight than maxInflightBytes waits for the worker (bounded memory)', (t) => {
  const { manager, persistence, history } = setup(t, { flushBytes: 16 * 1024, maxInflightBytes: 64 * 1024 });
  const s = manager.create();
  let peak = 0;
  let last = 0;
  for (let i = 0; i < 400; i++) {
    last = manager.print(s.session_id, `${i} ${'z'.repeat(4000)}\r\n`);
    peak = Math.max(peak, persistence.status.buffered_bytes);
  }
  persistence.flush();
  assert.equal(history.output(s.session_id, 0, -1).at(-1)?.seq_end, last);
  assert.ok(peak < 4 * 1024 * 1024, `buffered peaked at ${peak}`);
});

test('deferred FTS: unindexed rows are searchable, indexed in slices, and deletes keep the index exact', (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'fts.db') });
  t.after(() => opened.close());
  const db = opened.db;
  const store = createSessionStore(db);
  const manager = new SyntheticManager();
  const s = manager.create();
  store.upsertSession(s);
  const fts = createFtsIndexer(db);
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
  assert.equal(fts.backlog(), 40);
  assert.equal(history.search({ q: 'needle7' }).length, 1, 'found by the scan above the marker');
  const first = fts.indexSlice(20_000);
  assert.ok(first.rows >= 1 && first.rows < 40 && first.more, 'a slice is bounded');
  // Retention removes indexed and unindexed rows alike without corrupting the index.
  enforceRetention(db, { maxBytesPerSession: 8100 * 2 * 30, maxBytesTotal: null });
  while (fts.indexSlice().more) {}
  assert.equal(fts.backlog(), 0);
  ftsIntegrity(db);
  const left = db.prepare('SELECT count(*) FROM session_output').pluck().get() as number;
  assert.ok(left < 40);
  assert.equal(history.search({ q: 'needle40' }).length, 1);
  assert.equal(history.search({ q: 'needle1' }).length, 0);
});

test('off-thread: a dead worker is replaced by the in-process path — nothing committed is lost, seqs stay contiguous', async (t) => {
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
  const rows = history.output(s.session_id, 0, -1);
  assert.equal(rows[0]?.seq_start, 1);
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1);
  assert.equal(rows.at(-1)?.seq_end, last + 1);
  const data = rows.map((r) => r.data).join('');
  assert.ok(!data.includes(SECRET), 'still redacted in-process');
  assert.match(data, /after the crash\r\n$/);
  // In-process indexing took over the backlog too.
  assert.equal(createFtsIndexer(db).backlog(), 0);
  ftsIntegrity(db);
  assert.equal(history.search({ q: 'after the crash' }).length, 1);
});

test('off-thread: SQLITE_FULL (max_page_count on the main connection) pauses and resumes as in-process', async (t) => {
  const { manager, persistence, history, opened } = setup(t, {
    flushMs: 10,
    retryMinMs: 20,
    retryMaxMs: 100,
  });
  const s = manager.create();
  const pages = opened.db.pragma('page_count', { simple: true }) as number;
  opened.db.pragma(`max_page_count = ${pages + 40}`);
  let n = 0;
  while (persistence.status.ok) {
    manager.print(s.session_id, `row ${n++} ${'w'.repeat(4000)}`);
    await new Promise((r) => setTimeout(r, 2));
    if (n > 10_000) assert.fail('never full');
  }
  assert.equal(persistence.status.error_code, 'SQLITE_FULL');
  assert.throws(() =>
    persistence.journal.record({
      session_id: s.session_id,
      kind: 'command',
      text: 'while full',
      at: new Date().toISOString(),
      seq: n,
    }),
  );
  opened.db.pragma('max_page_count = 1073741823');
  await waitFor(() => persistence.status.ok, 'resume');
  persistence.flush();
  const rows = history.output(s.session_id, 0, -1);
  assert.equal(rows.at(-1)?.seq_end, n);
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1);
  assert.equal(history.commands(s.session_id).items.at(-1)?.text, 'while full');
});
