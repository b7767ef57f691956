import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence, type createPersistence } from '../../src-main/core/store/persistence.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, tempDir } from './helpers.ts';

function setup(t: { after(fn: () => void): void }, options: Parameters<typeof createPersistence>[1] = {}) {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'p.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, { retention: null, ...options });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  return {
    dir,
    opened,
    db: opened.db,
    store,
    manager,
    persistence,
    history: createHistory(opened.db),
    // What the API serves: stored rows plus output spooled but not stored yet.
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

test('session rows follow create, state changes and exit; state history is kept by triggers', (t) => {
  const { manager, history, db } = setup(t);
  const s = manager.create({ name: 'Claude one', cli_tool: 'claude' });
  assert.equal(history.getSession(s.session_id)?.state, 'starting');
  manager.setState(s.session_id, 'running', 'busy');
  manager.setState(s.session_id, 'waiting_input', 'prompt box');
  manager.setState(s.session_id, 'waiting_input', 'same state again');
  manager.exit(s.session_id, 3);
  const stored = history.getSession(s.session_id)!;
  assert.equal(stored.state, 'completed');
  assert.equal(stored.exit_code, 3);
  assert.ok(stored.ended_at);
  const states = history.stateHistory(s.session_id).map((h) => `${h.from}->${h.to}`);
  assert.deepEqual(states, [
    'null->starting',
    'starting->running',
    'running->waiting_input',
    'waiting_input->completed',
  ]);
  const updated = db
    .prepare('SELECT updated_at FROM cli_sessions WHERE session_id = ?')
    .get(s.session_id) as {
    updated_at: string;
  };
  assert.match(updated.updated_at, /^\d{4}-\d\d-\d\dT/);
});

test('the journal writes a command synchronously, redacted, before returning', (t) => {
  const { manager, persistence, history } = setup(t, {
    redact: (text) => text.replace(/sk-[A-Za-z0-9]+/g, '[REDACTED:key]'),
  });
  const s = manager.create();
  persistence.journal.record({
    session_id: s.session_id,
    kind: 'command',
    text: 'use key sk-abc123 please',
    at: new Date().toISOString(),
    seq: 0,
  });
  // No flush, no await: the row is there as soon as record() returned.
  const page = history.commands(s.session_id);
  assert.equal(page.total, 1);
  assert.equal(page.items[0]?.text, 'use key [REDACTED:key] please');
  assert.deepEqual(history.getSession(s.session_id)?.command_history, ['use key [REDACTED:key] please']);
});

test('a command for a session not yet stored creates its row from the manager first', (t) => {
  const { manager, persistence, history } = setup(t);
  const s = manager.create();
  // Simulate a row that never made it: a second manager session created before attach.
  const late = { ...s, session_id: `${s.session_id}-late` };
  manager.sessions.set(late.session_id, late);
  persistence.journal.record({
    session_id: late.session_id,
    kind: 'input',
    text: 'y',
    at: late.created_at,
    seq: 1,
  });
  assert.equal(history.commands(late.session_id).total, 1);
  assert.ok(history.getSession(late.session_id));
});

test('output is batched off the hot path: nothing written synchronously, one row per flush', async (t) => {
  const { manager, history, persistence } = setup(t, { flushMs: 50 });
  const s = manager.create();
  for (let i = 0; i < 100; i++) manager.print(s.session_id, `line ${i}\r\n`);
  assert.equal(history.output(s.session_id).length, 0, 'nothing written inside onOutput');
  let committed = 0;
  persistence.onDidCommitOutput((batches) => {
    committed += batches.length;
  });
  await waitFor(() => committed > 0, 'a flush');
  const rows = history.output(s.session_id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.seq_start, 1);
  assert.equal(rows[0]?.seq_end, 100);
  assert.match(rows[0]!.text, /line 99\n$/);
  assert.equal(history.getSession(s.session_id)?.last_seq, 100);
});

test('a submitted command splits the stored rows at its seq (held redactor text included); raw keys do not', async (t) => {
  const { createRedactor, createStreamRedactor } = await import('../../src-main/core/security/redact.ts');
  const redactor = createRedactor();
  const { manager, history, persistence } = setup(t, {
    flushMs: 60_000,
    redact: (text) => redactor.redact(text),
    createStreamRedactor: (o) => createStreamRedactor(redactor, o),
  });
  const s = manager.create();
  const command = (kind: 'command' | 'input', text: string) =>
    persistence.journal.record({
      session_id: s.session_id,
      kind,
      text,
      at: new Date().toISOString(),
      seq: manager.get(s.session_id)!.last_seq,
    });
  manager.print(s.session_id, '$ ');
  manager.print(s.session_id, 'first-1\r\n');
  // A tail that could start a secret: the stream redactor holds this chunk back.
  manager.print(s.session_id, '$ export TOKEN=sk-');
  command('input', 'x');
  command('command', 'echo second');
  manager.print(s.session_id, 'second-2\r\n');
  command('input', 'y');
  manager.print(s.session_id, '$ ');
  manager.exit(s.session_id);
  persistence.flush();
  const rows = history.output(s.session_id);
  assert.deepEqual(
    rows.map((r) => [r.seq_start, r.seq_end]),
    [
      [1, 3],
      [4, 5],
    ],
    'one row ends at the command, the next starts after it; keys split nothing',
  );
  assert.match(rows[0]!.text, /first-1\n\$ export TOKEN=/);
  assert.doesNotMatch(rows[0]!.text, /second-2/);
});

test('flushBytes triggers a flush before flushMs', async (t) => {
  const { manager, history } = setup(t, { flushMs: 60_000, flushBytes: 1000 });
  const s = manager.create();
  manager.print(s.session_id, 'x'.repeat(2000));
  await waitFor(() => history.output(s.session_id).length === 1, 'the size-triggered flush');
});

test('stream redaction runs before storage and its tail is flushed at exit', (t) => {
  // A toy stream redactor holding back 8 chars, like the real one holds back ~256 B (the real one
  // is exercised in the crash test).
  const createStreamRedactor = () => {
    let carry = '';
    const scrub = (s: string) => s.replace(/SECRET-[0-9]+/g, '[REDACTED]');
    return {
      push(text: string) {
        const all = scrub(carry + text);
        carry = all.slice(-8);
        return all.slice(0, -8);
      },
      flush() {
        const out = scrub(carry);
        carry = '';
        return out;
      },
    };
  };
  const { manager, history, live, persistence } = setup(t, { createStreamRedactor });
  const s = manager.create();
  manager.print(s.session_id, 'token SECR');
  manager.print(s.session_id, 'ET-12345 done\r\n');
  persistence.flush();
  manager.print(s.session_id, '\x1b[32mbye\x1b[0m');
  manager.exit(s.session_id, 0);
  // At once, from the spool: history shows the tail the exit released.
  assert.equal(
    live
      .output(s.session_id)
      .map((r) => r.data)
      .join(''),
    'token [REDACTED] done\r\n\x1b[32mbye\x1b[0m',
  );
  persistence.flush();
  const rows = history.output(s.session_id);
  const all = rows.map((r) => r.data).join('');
  assert.equal(all, 'token [REDACTED] done\r\n\x1b[32mbye\x1b[0m');
  assert.ok(!all.includes('SECRET'));
  assert.equal(rows.map((r) => r.text).join(''), 'token [REDACTED] done\nbye');
});

test('spawn writes the process ledger; exit releases it', (t) => {
  const { manager, db } = setup(t);
  const s = manager.create();
  manager.spawn({
    session_id: s.session_id,
    pid: 4242,
    pgid: 4242,
    start_ticks: 99,
    boot_id: 'b',
    at: s.created_at,
  });
  const live = db.prepare('SELECT * FROM process_ledger WHERE released_at IS NULL').all();
  assert.equal(live.length, 1);
  manager.exit(s.session_id);
  const left = db.prepare('SELECT count(*) AS n FROM process_ledger WHERE released_at IS NULL').get() as {
    n: number;
  };
  assert.equal(left.n, 0);
});

test('close flushes everything still buffered', (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'c.db') });
  t.after(() => opened.close());
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, { flushMs: 60_000 });
  const s = manager.create();
  manager.print(s.session_id, 'last words');
  persistence.close();
  assert.equal(createHistory(opened.db).output(s.session_id)[0]?.text, 'last words');
});

test('with the core redactor: secrets split across chunks and wrapped in ANSI never reach SQLite', async (t) => {
  const { createRedactor, createStreamRedactor } = await import('../../src-main/core/security/redact.ts');
  const redactor = createRedactor({ secrets: ['my-own-exact-key-value-123'] });
  const { manager, history, persistence, db } = setup(t, {
    redact: (text) => redactor.redact(text),
    createStreamRedactor: (o) => createStreamRedactor(redactor, o),
  });
  const s = manager.create();
  const key = `sk-ant-api03-${'Z'.repeat(40)}`;
  // Cut the key over three chunks and three flushes, with colour codes around it.
  manager.print(s.session_id, `${'filler '.repeat(100)}export KEY=\x1b[33m${key.slice(0, 10)}`);
  persistence.flush();
  manager.print(s.session_id, key.slice(10, 30));
  persistence.flush();
  manager.print(s.session_id, `${key.slice(30)}\x1b[0m and my-own-exact-key-value-123 done\r\n`);
  persistence.journal.record({
    session_id: s.session_id,
    kind: 'command',
    text: `use ${key}`,
    at: new Date().toISOString(),
    seq: 3,
  });
  manager.exit(s.session_id);
  persistence.flush();
  const dump =
    JSON.stringify(db.prepare('SELECT data, text FROM session_output').all()) +
    JSON.stringify(db.prepare('SELECT text FROM cli_session_commands').all());
  assert.ok(!dump.includes('ZZZZZZZZZZ'), 'no piece of the key is stored');
  assert.ok(!dump.includes('my-own-exact-key-value-123'));
  assert.match(dump, /REDACTED/);
  assert.match(history.exportTranscript(s.session_id)!, /done/);
  assert.deepEqual(history.search({ q: 'ZZZZZZZZZZ' }), []);
});

test('retention limits are applied as output is written', (t) => {
  const { manager, persistence, history, db } = setup(t, {
    retention: { maxBytesPerSession: 20_000, maxBytesTotal: null },
  });
  const s = manager.create();
  for (let i = 0; i < 100; i++) {
    manager.print(s.session_id, `batch-${i} ${'r'.repeat(1000)}\r\n`);
    persistence.flush();
  }
  const bytes = db.prepare('SELECT stored_output_bytes AS n FROM cli_sessions').get() as { n: number };
  assert.ok(bytes.n <= 20_000, `stored ${bytes.n}`);
  assert.equal(history.search({ q: 'batch-99' }).length, 1);
  assert.equal(history.search({ q: 'batch-0' }).length, 0);
  assert.ok(history.exportJson(s.session_id)!.output_trimmed_seq > 0);
});

test('a row that cannot be stored (not a medium error) is dropped alone; the journal says so', (t) => {
  const { manager, persistence, history } = setup(t);
  const s = manager.create();
  // A session nobody knows: its command violates the foreign key.
  assert.throws(
    () =>
      persistence.journal.record({
        session_id: 'ghost',
        kind: 'command',
        text: 'x',
        at: new Date().toISOString(),
        seq: 0,
      }),
    /could not be stored/,
  );
  // The same round's other rows are stored; persistence is not paused.
  manager.print(s.session_id, 'still fine');
  persistence.flush();
  assert.equal(persistence.status.ok, true);
  assert.equal(history.output(s.session_id)[0]?.text, 'still fine');
  persistence.journal.record({
    session_id: s.session_id,
    kind: 'command',
    text: 'ok',
    at: new Date().toISOString(),
    seq: 1,
  });
  assert.equal(history.commands(s.session_id).total, 1);
});
