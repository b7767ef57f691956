import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence } from '../../src-main/core/store/persistence.ts';
import { enforceRetention } from '../../src-main/core/store/retention.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, searchIndexCaughtUp, tempDir } from './helpers.ts';

function setup(t: { after(fn: () => void): void }) {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'h.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, { retention: null, flushMs: 60_000 });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  // The API's view: stored rows plus output spooled but not stored yet.
  return {
    db: opened.db,
    manager,
    persistence,
    history: createHistory(opened.db, { pending: persistence.pending }),
  };
}

test('session list filters by state, active/ended, provider, user and time, with paging and totals', (t) => {
  const { manager, history } = setup(t);
  const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString();
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const s = manager.create({
      cli_tool: i % 3 === 0 ? 'claude' : 'codex',
      user_id: i % 2 === 0 ? 'alice' : 'bob',
      created_at: at(i),
    });
    ids.push(s.session_id);
    if (i < 4) manager.exit(s.session_id);
    else if (i < 6) manager.setState(s.session_id, 'waiting_input');
  }
  assert.equal(history.listSessions({}).total, 12);
  assert.equal(history.listSessions({ status: 'ended' }).total, 4);
  assert.equal(history.listSessions({ status: 'active' }).total, 8);
  assert.equal(history.listSessions({ status: 'waiting_input' }).total, 2);
  assert.equal(history.listSessions({ cli_tool: 'claude' }).total, 4);
  assert.equal(history.listSessions({ user_id: 'bob', cli_tool: 'codex' }).total, 4);
  const range = history.listSessions({ since: at(3), until: at(7) });
  assert.equal(range.total, 4);
  assert.deepEqual(
    range.items.map((s) => s.session_id),
    [ids[6], ids[5], ids[4], ids[3]],
    'newest first',
  );
  const page2 = history.listSessions({ limit: 5, offset: 5 });
  assert.equal(page2.items.length, 5);
  assert.equal(page2.total, 12);
  assert.equal(page2.items[0]?.session_id, ids[6]);
  assert.throws(() => history.listSessions({ since: 'yesterday-ish' }), /not a date/);
});

test('history entries merge commands, output and state by time and page', async (t) => {
  const { manager, persistence, history } = setup(t);
  // Distinct milliseconds, so the expected order is well defined.
  const tick = () => new Promise((r) => setTimeout(r, 3));
  const s = manager.create();
  await tick();
  manager.setState(s.session_id, 'waiting_input');
  await tick();
  persistence.journal.record({
    session_id: s.session_id,
    kind: 'command',
    text: 'ls',
    at: new Date().toISOString(),
    seq: 0,
  });
  await tick();
  manager.print(s.session_id, 'file-a\r\nfile-b\r\n');
  persistence.flush();
  const all = history.entries(s.session_id);
  assert.deepEqual(
    all.items.map((e) => e.message_type),
    ['state', 'state', 'command', 'output'],
  );
  const out = all.items[3];
  assert.ok(out?.message_type === 'output' && out.output === 'file-a\nfile-b\n');
  assert.equal(history.entries(s.session_id, { message_type: 'command' }).total, 1);
  const paged = history.entries(s.session_id, { limit: 2, offset: 2 });
  assert.equal(paged.total, 4);
  assert.deepEqual(
    paged.items.map((e) => e.message_type),
    ['command', 'output'],
  );
  const raw = history.entries(s.session_id, { message_type: 'output', raw: true });
  assert.ok(raw.items[0]?.message_type === 'output' && raw.items[0].output.includes('\r\n'));
});

test('output paging by seq returns batches after a given seq', (t) => {
  const { manager, persistence, history } = setup(t);
  const s = manager.create();
  for (let batch = 0; batch < 5; batch++) {
    for (let i = 0; i < 3; i++) manager.print(s.session_id, `b${batch}c${i} `);
    persistence.flush();
  }
  const rows = history.output(s.session_id, 6);
  assert.deepEqual(
    rows.map((r) => [r.seq_start, r.seq_end]),
    [
      [7, 9],
      [10, 12],
      [13, 15],
    ],
  );
  assert.equal(history.output(s.session_id, 0, 2).length, 2);
});

test('full-text search finds output and commands across sessions with « » snippets', (t) => {
  const { manager, persistence, history } = setup(t);
  const a = manager.create({ name: 'Alpha', cli_tool: 'claude' });
  const b = manager.create({ name: 'Beta', cli_tool: 'codex' });
  manager.print(a.session_id, '\x1b[31mError: ECONNREFUSED 127.0.0.1:5432\x1b[0m while migrating\r\n');
  manager.print(b.session_id, 'all good here\r\n');
  persistence.flush();
  persistence.journal.record({
    session_id: b.session_id,
    kind: 'command',
    text: 'why ECONNREFUSED on postgres?',
    at: new Date().toISOString(),
    seq: 1,
  });
  const hits = history.search({ q: 'ECONNREFUSED' });
  assert.equal(hits.length, 2);
  const kinds = hits.map((h) => `${h.session_name}:${h.kind}`).sort();
  assert.deepEqual(kinds, ['Alpha:output', 'Beta:command']);
  const outHit = hits.find((h) => h.kind === 'output')!;
  assert.match(outHit.snippet, /«ECONNREFUSED»/);
  assert.ok(!outHit.snippet.includes('\x1b'), 'ANSI never reaches the index');
  assert.equal(outHit.seq, 1);
  assert.equal(history.search({ q: 'ECONNREFUSED', session_id: a.session_id }).length, 1);
  // Phrases, and FTS syntax in user text is literal, never an error.
  assert.equal(history.search({ q: 'while migrating' }).length, 1);
  assert.equal(history.search({ q: 'migrating while' }).length, 0);
  assert.deepEqual(history.search({ q: 'AND OR "NEAR(' }), []);
});

test('export as JSON and as a plain-text transcript', (t) => {
  const { manager, persistence, history } = setup(t);
  const s = manager.create({ name: 'Export me' });
  persistence.journal.record({
    session_id: s.session_id,
    kind: 'command',
    text: 'echo hi',
    at: new Date().toISOString(),
    seq: 0,
  });
  manager.print(s.session_id, '\x1b[1mhi\x1b[0m\r\n');
  manager.exit(s.session_id, 0);
  const json = history.exportJson(s.session_id)!;
  assert.equal(json.format, 'autodev.session.v1');
  assert.equal(json.session.name, 'Export me');
  assert.equal(json.commands.length, 1);
  assert.equal(json.output[0]?.data, '\x1b[1mhi\x1b[0m\r\n');
  assert.deepEqual(
    json.state_history.map((h) => h.to),
    ['starting', 'completed'],
  );
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(json)));
  const text = history.exportTranscript(s.session_id)!;
  assert.match(text, /^# AutoDev session .* Export me \(shell\)/);
  assert.match(text, /» echo hi\nhi\n/);
  assert.ok(!text.includes('\x1b'));
  assert.match(text, /# ended .* state completed · exit 0/);
  assert.equal(history.exportJson('nope'), undefined);
});

test('retention removes the oldest output per session and in total, search index and counters in step', async (t) => {
  const { manager, persistence, history, db } = setup(t);
  const a = manager.create();
  const b = manager.create();
  for (let i = 0; i < 20; i++) {
    manager.print(a.session_id, `alpha-${i} ${'x'.repeat(1000)}`);
    persistence.flush();
    manager.print(b.session_id, `beta-${i} ${'y'.repeat(1000)}`);
    persistence.flush();
  }
  const bytes = (id: string) =>
    (
      db.prepare('SELECT stored_output_bytes AS n FROM cli_sessions WHERE session_id = ?').get(id) as {
        n: number;
      }
    ).n;
  assert.ok(bytes(a.session_id) > 30_000);
  const perSession = enforceRetention(db, { maxBytesPerSession: 10_000, maxBytesTotal: null });
  assert.ok(perSession.deletedRows > 0);
  assert.ok(bytes(a.session_id) <= 10_000 && bytes(b.session_id) <= 10_000);
  // Newest kept, oldest gone — from the table and from the search index.
  assert.equal(history.search({ q: 'alpha-19' }).length, 1);
  assert.equal(history.search({ q: 'alpha-0' }).length, 0);
  const trimmed = history.exportJson(a.session_id)!;
  assert.ok(trimmed.output_trimmed_seq > 0);
  assert.equal(trimmed.output[0]?.seq_start, trimmed.output_trimmed_seq + 1, 'no hole after the cut');
  const sum = (db.prepare('SELECT sum(stored_bytes) AS n FROM session_output').get() as { n: number }).n;
  assert.equal(sum, bytes(a.session_id) + bytes(b.session_id), 'counters match the rows');

  const total = enforceRetention(db, { maxBytesPerSession: null, maxBytesTotal: 8_000 });
  assert.ok(total.deletedRows > 0);
  assert.ok(bytes(a.session_id) + bytes(b.session_id) <= 8_000);
  assert.equal(history.search({ q: 'beta-19' }).length, 1, 'the newest batch survives');
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  // The index (its own file) follows the deletions and reaches the rows left: searches answered from
  // it give the same results, and it holds exactly the rows session_output has.
  const index = await searchIndexCaughtUp(t, db);
  assert.equal(history.search({ q: 'beta-19' }).length, 1);
  assert.equal(history.search({ q: 'alpha-0' }).length, 0);
  assert.deepEqual(index.rowids(), index.expected());
});

test('views: active_sessions and session_stats', (t) => {
  const { manager, db } = setup(t);
  const a = manager.create({ cli_tool: 'claude' });
  manager.create({ cli_tool: 'claude' });
  manager.exit(a.session_id);
  const active = db.prepare('SELECT session_id FROM active_sessions').all();
  assert.equal(active.length, 1);
  const stats = db.prepare("SELECT * FROM session_stats WHERE cli_tool = 'claude'").get() as Record<
    string,
    number
  >;
  assert.equal(stats.total_sessions, 2);
  assert.equal(stats.active_sessions, 1);
  assert.equal(stats.completed_sessions, 1);
});
