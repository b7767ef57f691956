// Issue 10.3: command history and command search are what a person submitted. The raw key journal
// (kind 'input') stays for durability and replay, but it is neither listed by default nor searched, and
// a secret typed one key at a time — recognisable only in the whole line — leaves no trace in it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createRedactor } from '../../src-main/core/security/redact.ts';
import { ControlWriter } from '../../src-main/core/store/control-writer.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { createPersistence } from '../../src-main/core/store/persistence.ts';
import { createSessionStore, SCRUBBED_KEYS } from '../../src-main/core/store/session-store.ts';
import { collect, nodeProvider, testManager, waitFor } from '../core/sessions/helpers.ts';
import { SyntheticManager, schemaDir, tempDir } from './helpers.ts';

const SECRET = `sk-ant-api03-${'Q7x'.repeat(14)}`;

test('a secret typed one key at a time: the line is redacted, its keys scrubbed; history and search list lines, not keys', async (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'typed.db') });
  const redactor = createRedactor();
  const prompt = {
    id: 'test.prompt',
    pattern: '^>\\s*$',
    region: { kind: 'last-lines' as const, count: 1 },
    state: 'waiting_input' as const,
  };
  const persistence = createPersistence(createSessionStore(opened.db), {
    retention: null,
    redactor,
    offThread: false,
    spillDir: path.join(dir, 'spill'),
  });
  const { manager } = testManager(
    [nodeProvider('prompt', 'proc-prompt.mjs', [], { screen_rules: [prompt], stability_ms: 300 })],
    { journal: persistence.journal, redactLine: (line) => redactor.redact(line) },
  );
  persistence.attach(manager);
  t.after(async () => {
    await manager.shutdown();
    persistence.close();
    opened.close();
  });
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'prompt' })).session_id;
  await waitFor('prompt', () => out.text().includes('> '));

  manager.input(id, 'grep needle src\r'); // one write: a paste, or a fast typist
  await waitFor('grep done', () => out.text().includes('done: grep needle src'));
  for (const key of `export ANTHROPIC_API_KEY=${SECRET}\r`) manager.input(id, key);
  await waitFor('export done', () => out.text().includes('done: export'));
  manager.input(id, 'pwd\r');
  await waitFor('pwd done', () => out.text().includes('done: pwd'));
  persistence.flush();

  const rows = opened.db
    .prepare('SELECT kind, text FROM cli_session_commands WHERE session_id = ? ORDER BY id')
    .all(id) as { kind: string; text: string }[];
  const everything = JSON.stringify(rows);
  // Any run of 3 characters of the secret's random part, joined across rows, must be gone.
  const keys = rows.filter((r) => r.kind === 'input');
  assert.ok(
    !keys
      .map((r) => r.text)
      .join('')
      .includes('Q7xQ7x'),
    'the secret is not in the key rows',
  );
  assert.ok(!everything.includes('Q7x'), `no piece of the secret is stored: ${everything}`);
  const scrubbed = keys.filter((r) => r.text === SCRUBBED_KEYS).length;
  assert.equal(scrubbed, `export ANTHROPIC_API_KEY=${SECRET}\r`.length, 'every key of that line is scrubbed');
  // The keys of the lines before and after it are kept as typed.
  assert.deepEqual(
    keys.filter((r) => r.text !== SCRUBBED_KEYS).map((r) => r.text),
    ['grep needle src\r', 'pwd\r'],
  );
  const lines = rows.filter((r) => r.kind === 'command').map((r) => r.text);
  assert.equal(lines.length, 3);
  assert.equal(lines[0], 'grep needle src');
  assert.match(lines[1]!, /^export ANTHROPIC_API_KEY=\[REDACTED/);
  assert.equal(lines[2], 'pwd');
  // What viewers see of the live session is redacted too.
  const live = manager.get(id)!.command_history;
  assert.equal(live.length, 3);
  assert.match(live[1]!, /REDACTED/);
  assert.ok(!live.join('').includes('Q7x'));

  const history = createHistory(opened.db, { pending: persistence.pending });
  const listed = history.entries(id, { message_type: 'command' }).items;
  assert.deepEqual(
    listed.map((e) => (e.message_type === 'command' ? e.kind : e.message_type)),
    ['command', 'command', 'command'],
    'history lists the submitted lines',
  );
  const withKeys = history.entries(id, { message_type: 'command', keys: true, limit: 500 }).items;
  assert.equal(withKeys.length, rows.length, 'keys: true adds the key journal');
  // One hit for a line, not a second one for the keys that typed it.
  const hits = history.search({ q: 'needle' }).filter((h) => h.kind !== 'output');
  assert.deepEqual(
    hits.map((h) => h.kind),
    ['command'],
  );
});

test('an upgraded database stops finding keys in command search; its lines are still found', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'old.db');
  const old = openDatabase({ schemaDir, path: file, targetVersion: 10 });
  const store = createSessionStore(old.db);
  const manager = new SyntheticManager();
  const s = manager.create();
  store.upsertSession(s);
  const at = new Date().toISOString();
  store.insertCommand({ session_id: s.session_id, kind: 'input', text: 'deploy haystack\r', at, seq: 0 });
  store.insertCommand({ session_id: s.session_id, kind: 'command', text: 'deploy haystack', at, seq: 0 });
  assert.equal(createHistory(old.db).search({ q: 'haystack' }).length, 2, 'version 10 indexed the keys');
  old.close();

  const upgraded = openDatabase({ schemaDir, path: file });
  t.after(() => upgraded.close());
  const history = createHistory(upgraded.db);
  const hits = history.search({ q: 'haystack' });
  assert.deepEqual(
    hits.map((h) => h.kind),
    ['command'],
  );
  // The index and its content (the lines) agree: an FTS5 integrity check against the content passes.
  upgraded.db.prepare("INSERT INTO command_fts(command_fts, rank) VALUES ('integrity-check', 1)").run();
  // Later keys are not indexed, later lines are; deleting rows keeps the index consistent.
  const store2 = createSessionStore(upgraded.db);
  store2.insertCommand({ session_id: s.session_id, kind: 'input', text: 'rollback haystack\r', at, seq: 0 });
  store2.insertCommand({ session_id: s.session_id, kind: 'command', text: 'rollback haystack', at, seq: 0 });
  assert.equal(history.search({ q: 'rollback' }).length, 1);
  upgraded.db.prepare('DELETE FROM cli_session_commands WHERE session_id = ?').run(s.session_id);
  assert.equal(history.search({ q: 'haystack' }).length, 0);
  upgraded.db.prepare("INSERT INTO command_fts(command_fts, rank) VALUES ('integrity-check', 1)").run();
});

test('a submitted line is fsynced before it returns; the keys that typed it are journaled without an fsync each', (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'sync.db') });
  t.after(() => opened.close());
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const info = manager.create();
  const writer = new ControlWriter(store, {
    spill: null,
    liveSession: (id) => (id === info.session_id ? info : undefined),
    onPause: () => {},
  });
  // The synchronous setting each journal transaction commits under (2 = FULL: fsync; 1 = NORMAL).
  const seen: number[] = [];
  const write = store.write.bind(store);
  store.write = (fn) => {
    seen.push(opened.db.pragma('synchronous', { simple: true }) as number);
    return write(fn);
  };
  const at = new Date().toISOString();
  writer.command({ session_id: info.session_id, kind: 'input', text: 'l', at, seq: 1 });
  const keysAt = seen.length - 1;
  writer.command({ session_id: info.session_id, kind: 'command', text: 'ls', at, seq: 1 });
  assert.equal(seen[keysAt], 1, 'a key: NORMAL (a kill -9 keeps it; no fsync per keystroke)');
  assert.equal(seen.at(-1), 2, 'a line: FULL (on disk before the agent sees its Enter)');
  assert.equal(opened.db.pragma('synchronous', { simple: true }), 2, 'FULL again afterwards');
  const rows = opened.db
    .prepare('SELECT kind, text FROM cli_session_commands WHERE session_id = ? ORDER BY id')
    .all(info.session_id) as { kind: string; text: string }[];
  assert.deepEqual(
    rows.map((r) => `${r.kind}:${r.text}`),
    ['input:l', 'command:ls'],
  );
});
