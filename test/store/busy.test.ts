import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence, PersistencePausedError } from '../../src-main/core/store/persistence.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { repoRoot, SyntheticManager, schemaDir, tempDir } from './helpers.ts';

/** Another process holds the write lock (BEGIN IMMEDIATE) for `ms`; resolves once it holds it. */
async function holdWriteLock(t: { after(fn: () => void): void }, file: string, ms: number) {
  const script = `
    const Database = require(${JSON.stringify(path.join(repoRoot, 'node_modules', 'better-sqlite3'))});
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO app_meta(key, value) VALUES ('lock-holder', 'x') ON CONFLICT(key) DO UPDATE SET value = 'y'").run();
    console.log('LOCKED');
    setTimeout(() => { db.exec('COMMIT'); db.close(); console.log('RELEASED'); }, Number(process.argv[2]));`;
  const child = spawn(process.execPath, ['-e', script, file, String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const events: string[] = [];
  lines.on('line', (l) => events.push(l));
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => l === 'LOCKED' && resolve());
    child.once('exit', () => reject(new Error('lock holder exited early')));
  });
  return { released: new Promise<void>((resolve) => child.once('exit', () => resolve())), events };
}

test('a write lock held briefly is waited out; held past busy_timeout pauses persistence, which then resumes', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'busy.db');
  const opened = openDatabase({ schemaDir, path: file });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, { retention: null, retryMinMs: 50, retryMaxMs: 200 });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  const s = manager.create();
  const history = createHistory(opened.db);
  const entry = (text: string) => ({
    session_id: s.session_id,
    kind: 'command' as const,
    text,
    at: new Date().toISOString(),
    seq: 0,
  });

  // 1. Held ~1 s (< busy_timeout 5 s): the journal waits and succeeds.
  const short = await holdWriteLock(t, file, 1000);
  persistence.journal.record(entry('after a short lock'));
  assert.equal(persistence.status.ok, true);
  await short.released;

  // 2. Held ~8 s (> busy_timeout): SQLITE_BUSY pauses persistence; the command is kept, not lost.
  const long = await holdWriteLock(t, file, 8000);
  assert.throws(() => persistence.journal.record(entry('during a long lock')), PersistencePausedError);
  assert.equal(persistence.status.ok, false);
  assert.match(persistence.status.error_code!, /^SQLITE_BUSY/);
  await long.released;
  const deadline = Date.now() + 20_000;
  while (!persistence.status.ok && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(persistence.status.ok, true, 'resumed after the lock was released');
  assert.deepEqual(
    history.commands(s.session_id).items.map((c) => c.text),
    ['after a short lock', 'during a long lock'],
  );
});
