// Issue 10.5: every byte an agent printed is in SQLite-backed history within 1 s, whether or not more
// output follows — the stream redactor's hold is bounded in time — and a secret completed after its
// start was released is still redacted in the stored rows and the search index (amended).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../src-main/core/config.ts';
import { createCore } from '../../src-main/core/core.ts';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { createRedactor } from '../../src-main/core/security/redact.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { attachPersistence } from '../../src-main/core/store/persistence.ts';
import { searchIndexPath } from '../../src-main/core/store/search-index.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, searchIndexCaughtUp, tempDir } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  fn: () => T | undefined | null | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** What SQLite alone has of a session (no spooled tail). */
function storedText(db: BetterSqlite3.Database, sessionId: string): string {
  return (
    db
      .prepare('SELECT text FROM session_output WHERE session_id = ? ORDER BY seq_start')
      .pluck()
      .all(sessionId) as string[]
  ).join('');
}

for (const mode of ['offthread', 'in-process'] as const) {
  test(`${mode}: an agent's quiet last line is in SQLite 1 s after it was printed (the redactor's hold is bounded in time)`, async (t) => {
    const dir = tempDir(t);
    const opened = openDatabase({ schemaDir, path: path.join(dir, 'q.db') });
    const manager = new SyntheticManager();
    const persistence = attachPersistence(manager, createSessionStore(opened.db), {
      retention: null,
      redactor: createRedactor(),
      offThread: mode === 'offthread',
      spillDir: path.join(dir, 'spill'),
    });
    t.after(() => {
      persistence.close();
      opened.close();
    });
    const s = manager.create();
    for (let i = 0; i < 20; i++) manager.print(s.session_id, `\x1b[2mworking ${i}\x1b[0m\r\n`);
    manager.print(s.session_id, 'Apply these 3 edits to src/app.ts? [y/N] ');
    const printedAt = Date.now();
    await sleep(printedAt + 1000 - Date.now());
    assert.match(storedText(opened.db, s.session_id), /Apply these 3 edits to src\/app\.ts\? \[y\/N\] $/);
  });
}

test('real PTY through createCore: a question printed by a shell is in SQLite 1 s later, with no more output', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-quiet-core-'));
  const env = {
    PATH: process.env.PATH,
    HOME: dataDir,
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TERM: 'xterm-256color',
  };
  const core = await createCore(loadConfig({ dataDir, env }), {
    env,
    tasks: false,
    logger: createLogger({ level: 'error', sink: () => {} }),
    manager: { loginPath: async () => env.PATH ?? '' },
  });
  // After the core has closed (t.after hooks run in registration order).
  t.after(async () => {
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const session = await core.sessions.create({
    cli_tool: 'shell',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    metadata: {},
    cols: 100,
    rows: 30,
    env: {},
  });
  const id = session.session_id;
  let seen = '';
  let printedAt = 0;
  const question = 'Overwrite the lockfile? [y/N] ';
  core.sessions.onOutput((chunk) => {
    if (chunk.session_id !== id) return;
    seen += chunk.data;
    if (!printedAt && seen.includes(question)) printedAt = Date.now();
  });
  await waitFor(() => seen.length > 0, 'the shell to start', 60_000);
  await sleep(500);
  // printf assembles the question: the echoed command line never holds it.
  core.sessions.input(id, `printf '%s the lockfile? [y/N] ' Overwrite; read -r answer\r`);
  await waitFor(() => printedAt, 'the question on the terminal');
  await sleep(printedAt + 1000 - Date.now());
  assert.ok(
    storedText(core.database!.db, id).includes(question),
    `SQLite lacks the question: ${JSON.stringify(storedText(core.database!.db, id).slice(-200))}`,
  );
});

interface Child {
  proc: ChildProcess;
  ready: Promise<string>;
  seen: Promise<number>;
  exited: Promise<void>;
}

function startQuietChild(dbPath: string, mode: string, question: string): Child {
  const proc = spawn(
    process.execPath,
    [path.join(here, 'fixtures', 'quiet-child.ts'), dbPath, schemaDir, mode, question],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  const lines = readline.createInterface({ input: proc.stdout! });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const ready = new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => l.startsWith('READY ') && resolve(l.slice(6)));
    void exited.then(() => reject(new Error(`child exited: ${stderr}`)));
  });
  const seen = new Promise<number>((resolve, reject) => {
    lines.on('line', (l) => l.startsWith('SEEN ') && resolve(Number(l.split(' ')[2])));
    void exited.then(() => reject(new Error(`child exited: ${stderr}`)));
  });
  return { proc, ready, seen, exited };
}

for (const mode of ['offthread', 'inline'] as const) {
  test(`kill -9 (${mode}) at least 1 s after the agent's last line: the line is in the database file`, async (t) => {
    const dir = tempDir(t, 'autodev-quiet-kill-');
    const dbPath = path.join(dir, 'kill.db');
    const question = `Deploy build ${process.pid} to production`;
    const child = startQuietChild(dbPath, mode, question);
    t.after(() => {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
    });
    const sessionId = await child.ready;
    const seenAt = await child.seen;
    await sleep(seenAt + 1000 - Date.now());
    child.proc.kill('SIGKILL');
    await child.exited;
    // The database file as the killed process left it: no ingestion of its spool, no recovery.
    const db = new BetterSqlite3(dbPath, { readonly: true });
    try {
      const text = storedText(db, sessionId);
      assert.ok(
        text.includes(`${question}? [y/N] `),
        `the last line is missing: ${JSON.stringify(text.slice(-200))}`,
      );
      assert.match(text, /working 1\nworking 2\nworking 3\n/);
    } finally {
      db.close();
    }
  });
}

test('a secret completed after its start was released is redacted in the stored rows and the search index (amended)', async (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'amend.db') });
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, createSessionStore(opened.db), {
    retention: null,
    redactor: createRedactor(),
    offThread: true,
    holdMs: 200,
    spillDir: path.join(dir, 'spill'),
  });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  const history = createHistory(opened.db, { pending: persistence.pending });
  const s = manager.create();
  // An AWS secret key printed in two parts with a quiet moment between them: the first 20 characters
  // alone match nothing, so they are released (and stored) as they are…
  const key = 'wJalrXUtnFEMI0K7MDENGabPxRfiCYEXAMPLEKEY';
  manager.print(s.session_id, `$ aws configure\r\nAWS Secret Access Key [None]: \x1b[1m${key.slice(0, 20)}`);
  await waitFor(
    () => storedText(opened.db, s.session_id).includes(key.slice(0, 20)),
    'the released prefix stored',
    5000,
  );
  // …and when the rest arrives the stored rows are amended.
  manager.print(s.session_id, `${key.slice(20)}\x1b[0m\r\nDefault region name [None]: `);
  // An exact secret of the environment, cut the same way.
  manager.print(s.session_id, '\r\nsk-ant-a');
  await sleep(600);
  manager.print(s.session_id, `pi03-${'Q'.repeat(30)} ok\r\n`);
  assert.equal(persistence.flush(), true);
  // The tail after the secret is released after a quiet moment too.
  await waitFor(() => storedText(opened.db, s.session_id).endsWith(' ok\n'), 'the last line stored', 5000);
  const dump = JSON.stringify(
    opened.db.prepare('SELECT data, text FROM session_output WHERE session_id = ?').all(s.session_id),
  );
  for (const piece of [key.slice(0, 20), key.slice(0, 10), key.slice(20), 'sk-ant-a', 'QQQQQQQQ'])
    assert.ok(!dump.includes(piece), `${piece} is stored: ${dump.slice(0, 400)}`);
  assert.match(
    storedText(opened.db, s.session_id),
    /AWS Secret Access Key \[None\]: \[REDACTED:aws-secret-key\]\nDefault region/,
  );
  assert.match(storedText(opened.db, s.session_id), /\n\[REDACTED:anthropic-key\] ok\n/);
  // The search index followed the amendments: the released words are not in it.
  const index = await searchIndexCaughtUp(t, opened.db);
  assert.deepEqual(index.rowids(), index.expected());
  const search = new BetterSqlite3(searchIndexPath(opened.db.name), { readonly: true });
  t.after(() => search.close());
  for (const token of [key.slice(0, 20), 'api03', 'sk'])
    assert.deepEqual(
      search.prepare('SELECT rowid FROM output_fts WHERE output_fts MATCH ?').pluck().all(`"${token}"`),
      [],
      `"${token}" is still in the index`,
    );
  assert.deepEqual(history.search({ q: key.slice(0, 20) }), []);
  assert.equal(history.search({ q: 'Default region name' }).length, 1);
});

test('a known secret echoed one key at a time, each key released in a quiet moment, ends fully redacted in SQLite', async (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'typed.db') });
  const manager = new SyntheticManager();
  const secret = 'hunter2-typed-slowly-9';
  const persistence = attachPersistence(manager, createSessionStore(opened.db), {
    retention: null,
    redactor: createRedactor({ env: { DEPLOY_PASSWORD: secret } }),
    offThread: true,
    holdMs: 40,
    spillDir: path.join(dir, 'spill'),
  });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  const s = manager.create();
  manager.print(s.session_id, '$ deploy --password ');
  for (const ch of secret) {
    manager.print(s.session_id, ch);
    await sleep(90); // longer than holdMs: every key is released (and stored) before the next
  }
  manager.print(s.session_id, '\r\ndeployed\r\n');
  await waitFor(
    () => storedText(opened.db, s.session_id).endsWith('deployed\n'),
    'the last line stored',
    5000,
  );
  const text = storedText(opened.db, s.session_id);
  assert.equal(text, '$ deploy --password [REDACTED:secret]\ndeployed\n');
  const data = (
    opened.db
      .prepare('SELECT data FROM session_output WHERE session_id = ?')
      .pluck()
      .all(s.session_id) as string[]
  ).join('');
  assert.ok(!data.includes('hunter2'), data);
});

test('a stream that never goes quiet (a line every 100 ms): each line is in SQLite within 1 s, and a stored seq has every byte through it', async (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'slow.db') });
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, createSessionStore(opened.db), {
    retention: null,
    redactor: createRedactor(),
    offThread: true,
    spillDir: path.join(dir, 'spill'),
  });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  const s = manager.create();
  const printed: { seq: number; data: string; at: number }[] = [];
  let late = 0;
  for (let i = 1; i <= 30; i++) {
    const data = `count-${i}\r\n`;
    printed.push({ seq: manager.print(s.session_id, data), data, at: Date.now() });
    await sleep(100);
    const text = storedText(opened.db, s.session_id);
    for (const p of printed)
      if (Date.now() - p.at >= 1000 && !text.includes(p.data.replace('\r\n', '\n'))) late++;
  }
  assert.equal(late, 0, 'a line printed 1 s ago or more was missing from SQLite');
  // The stored seq is exact: rows through seq N hold chunks 1..N, nothing more, nothing less (what a
  // PTY host is asked to replay after on reattach).
  const rows = opened.db
    .prepare('SELECT seq_start, seq_end, data FROM session_output WHERE session_id = ? ORDER BY seq_start')
    .all(s.session_id) as { seq_start: number; seq_end: number; data: string }[];
  const through = rows.at(-1)!.seq_end;
  assert.ok(through >= 25, `stored through ${through}`);
  assert.equal(
    rows.map((r) => r.data).join(''),
    printed
      .filter((p) => p.seq <= through)
      .map((p) => p.data)
      .join(''),
  );
});
