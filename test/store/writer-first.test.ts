// A journal write on the main thread goes before the persistence worker's next transaction: while the
// main thread waits to write (or writes), the worker starts none, so a command never loses the race for
// the write lock into SQLite's busy back-off while the worker stores a backlog.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { type Committed, startIngest } from '../../src-main/core/store/ingest-driver.ts';
import { OutputSpool } from '../../src-main/core/store/output-spool.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, tempDir } from './helpers.ts';

test('off-thread: while the main thread waits to write, the worker stores nothing; then it goes on', async (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'w.db') });
  const store = createSessionStore(opened.db);
  const info = new SyntheticManager().create();
  store.upsertSession(info);
  const committed: Committed[] = [];
  const driver = startIngest(
    opened.db,
    {
      worker: true,
      spoolDir: path.join(dir, 'spool'),
      run: 'run-test',
      searchPath: null,
      rowChars: 32 * 1024,
      sliceBytes: 128 * 1024,
      retention: null,
    },
    {
      onCommitted: (c) => committed.push(c),
      onPaused: () => {},
      onResumed: () => {},
      onLog: () => {},
      onCrash: (error) => assert.fail(String(error)),
    },
  );
  const spool = new OutputSpool({
    dir: path.join(dir, 'spool'),
    run: 'run-test',
    onWritten: (segment, offset) => driver.noteWritten(segment, offset),
    onError: (error) => assert.fail(String(error)),
  });
  t.after(() => {
    spool.close();
    driver.close();
    opened.close();
  });
  const rows = () => committed.reduce((n, c) => n + c.rows, 0);
  const print = (a: number) =>
    spool.enqueue({ k: 'o', s: info.session_id, a, b: a, r: 5, t: Date.now(), data: `out${a}\r\n` });
  // The worker stores what is written at once…
  print(1);
  spool.write();
  const deadline = Date.now() + 10_000;
  while (rows() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(rows(), 1);
  // …but not while the main thread is about to write (nothing holds the lock: no wait here).
  driver.waitForWriteLock(50);
  print(2);
  spool.write();
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(rows(), 1, 'nothing stored while the main thread was writing');
  driver.writeDone();
  while (rows() === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(rows(), 2, 'stored once the write was done');
});
