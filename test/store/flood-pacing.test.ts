// The persistence worker paces itself while output floods in (flood-pacer.ts): the live path keeps
// the machine, history stays complete from the spool, and the backlog is stored once the flood stops.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { createRedactor } from '../../src-main/core/security/redact.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence } from '../../src-main/core/store/persistence.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, tempDir } from './helpers.ts';

test('off-thread: a paced flood: history is complete throughout, and SQLite has every byte once the flood stops, without flush()', async (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'p.db') });
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, createSessionStore(opened.db), {
    retention: null,
    offThread: true,
    redactor: createRedactor({ secrets: [] }),
    spillDir: path.join(dir, 'spill'),
  });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  const stored = createHistory(opened.db);
  const live = createHistory(opened.db, { pending: persistence.pending });
  const s = manager.create();
  const sha = createHash('sha256');
  let last = 0;
  // ~16 MB/s for 2 s: a flood by any measure (the pacer's threshold is 2 MB/s).
  const started = performance.now();
  for (let tick = 0; performance.now() - started < 2000; tick++) {
    for (let i = 0; i < 40; i++) {
      const text = `${tick}.${i} ${'f'.repeat(400)}\r\n`;
      sha.update(text);
      last = manager.print(s.session_id, text);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const storedAtEnd = stored.output(s.session_id, 0, -1).at(-1)?.seq_end ?? 0;
  const liveRows = live.output(s.session_id, 0, -1);
  assert.equal(liveRows[0]?.seq_start, 1);
  for (let i = 1; i < liveRows.length; i++)
    assert.equal(liveRows[i]!.seq_start, liveRows[i - 1]!.seq_end + 1);
  t.diagnostic(`stored through seq ${storedAtEnd} of ${last} when the flood stopped`);
  // Once it stops, the backlog is stored without flush().
  const deadline = Date.now() + 30_000;
  while ((stored.output(s.session_id, 0, -1).at(-1)?.seq_end ?? 0) < last - 1 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  // (The last chunk may still be in the redactor's hold, released by the exit.)
  assert.ok(
    (stored.output(s.session_id, 0, -1).at(-1)?.seq_end ?? 0) >= last - 1,
    'the backlog was stored after the flood, by the worker on its own',
  );
  manager.exit(s.session_id, 0);
  assert.equal(persistence.flush(), true);
  const hash = createHash('sha256')
    .update(
      stored
        .output(s.session_id, 0, -1)
        .map((r) => r.data)
        .join(''),
    )
    .digest('hex');
  assert.equal(hash, sha.digest('hex'), 'SQLite holds every byte');
});
