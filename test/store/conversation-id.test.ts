// The agent's conversation id (schema 007): stored with the session, kept when a later write does not
// know it, read back by history, and added to a database of an older version without losing rows.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence } from '../../src-main/core/store/persistence.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { fakeSession, SyntheticManager, schemaDir, tempDir } from './helpers.ts';

test('conversation_id: written when the manager reports it, never erased by a write that lacks it', (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'c.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, { retention: null });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  const history = createHistory(opened.db);
  const s = manager.create({ cli_tool: 'claude', conversation_id: null });
  assert.equal(history.getSession(s.session_id)?.conversation_id, null);
  // What the manager fires when the agent reports its id: same state, new field.
  const reported = manager.update(s.session_id, { conversation_id: '7b8a9c0d-4306-4019-9775-6bc8d11f8591' });
  assert.equal(history.getSession(s.session_id)?.conversation_id, '7b8a9c0d-4306-4019-9775-6bc8d11f8591');
  // A later write from something that does not carry it (an older peer, recovery) keeps it.
  store.upsertSession({ ...reported, conversation_id: null, state: 'terminated' });
  const back = store.getSession(s.session_id);
  assert.equal(back?.state, 'terminated');
  assert.equal(back?.conversation_id, '7b8a9c0d-4306-4019-9775-6bc8d11f8591');
});

test('schema 007 adds the column to an older database; its sessions read back with conversation_id null', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'old.db');
  const old = openDatabase({ schemaDir, path: file, targetVersion: 6 });
  const columns = (db: typeof old.db) =>
    (db.prepare('PRAGMA table_info(cli_sessions)').all() as { name: string }[]).map((c) => c.name);
  assert.ok(!columns(old.db).includes('conversation_id'));
  const session = fakeSession({ cli_tool: 'codex' });
  old.db
    .prepare(
      `INSERT INTO cli_sessions (session_id, name, cli_tool, state, state_reason, created_at, last_activity)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      session.session_id,
      session.name,
      'codex',
      'completed',
      '{}',
      session.created_at,
      session.last_activity,
    );
  old.close();
  const upgraded = openDatabase({ schemaDir, path: file });
  t.after(() => upgraded.close());
  assert.ok(columns(upgraded.db).includes('conversation_id'));
  assert.equal(createSessionStore(upgraded.db).getSession(session.session_id)?.conversation_id, null);
});
