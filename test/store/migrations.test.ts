import assert from 'node:assert/strict';
import { cpSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase, resolveDatabasePath } from '../../src-main/core/store/database.ts';
import { loadMigrations, migrate, userVersion } from '../../src-main/core/store/migrations.ts';
import { schemaDir, tempDir } from './helpers.ts';

/** Everything the schema defines, comparable across databases (names and SQL of every object). */
function schemaOf(file: string): string[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (
      db
        .prepare(
          "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .all() as { type: string; name: string; sql: string | null }[]
    ).map((r) => `${r.type} ${r.name}: ${r.sql}`);
  } finally {
    db.close();
  }
}

test('migrations from an empty database reach the latest version and are idempotent', (t) => {
  const dir = tempDir(t);
  const latest = loadMigrations(schemaDir).length;
  assert.ok(latest >= 1);
  const first = openDatabase({ schemaDir, path: path.join(dir, 'a.db') });
  assert.equal(first.migration.from, 0);
  assert.equal(first.migration.to, latest);
  assert.equal(first.migration.applied.length, latest);
  assert.equal(userVersion(first.db), latest);
  first.close();

  const again = openDatabase({ schemaDir, path: path.join(dir, 'a.db') });
  assert.equal(again.migration.applied.length, 0, 're-running applies nothing');
  assert.equal(again.migration.to, latest);
  const recorded = again.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
  assert.deepEqual(
    recorded.map((r) => (r as { version: number }).version),
    Array.from({ length: latest }, (_, i) => i + 1),
  );
  again.close();
});

test('migrations from each earlier version end in the same schema as a fresh database', (t) => {
  const dir = tempDir(t);
  const latest = loadMigrations(schemaDir).length;
  const fresh = path.join(dir, 'fresh.db');
  openDatabase({ schemaDir, path: fresh }).close();
  const expected = schemaOf(fresh);
  assert.ok(expected.some((l) => l.startsWith('table cli_sessions')));

  for (let version = 0; version < latest; version++) {
    const file = path.join(dir, `from-${version}.db`);
    const old = openDatabase({ schemaDir, path: file, targetVersion: version });
    assert.equal(userVersion(old.db), version);
    old.close();
    const upgraded = openDatabase({ schemaDir, path: file });
    assert.equal(upgraded.migration.from, version);
    assert.equal(upgraded.migration.to, latest);
    const check = upgraded.db.pragma('integrity_check', { simple: true });
    upgraded.close();
    assert.equal(check, 'ok');
    assert.deepEqual(schemaOf(file), expected, `schema after upgrading from version ${version}`);
  }
});

test('a failing migration rolls back entirely and keeps the previous version', (t) => {
  const dir = tempDir(t);
  const schema = path.join(dir, 'schema');
  mkdirSync(schema);
  cpSync(path.join(schemaDir, '001_core.sql'), path.join(schema, '001_core.sql'));
  const latest = loadMigrations(schema).length;
  writeFileSync(
    path.join(schema, `${String(latest + 1).padStart(3, '0')}_broken.sql`),
    'CREATE TABLE half_done (x INTEGER);\nSELECT no_such_function();\n',
  );
  const file = path.join(dir, 'b.db');
  assert.throws(() => openDatabase({ schemaDir: schema, path: file }), /no such function/);
  const db = new BetterSqlite3(file);
  assert.equal(userVersion(db), latest);
  assert.equal(db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'half_done'").get(), undefined);
  db.close();
});

test('a database newer than the schema files is refused, not downgraded', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'c.db');
  openDatabase({ schemaDir, path: file }).close();
  const db = new BetterSqlite3(file);
  db.pragma('user_version = 99');
  db.close();
  assert.throws(() => openDatabase({ schemaDir, path: file }), /refusing to downgrade/);
});

test('gaps in migration numbering are refused', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, '001_a.sql'), 'CREATE TABLE a (x);');
  writeFileSync(path.join(dir, '003_c.sql'), 'CREATE TABLE c (x);');
  assert.throws(() => loadMigrations(dir), /expected migration 2/);
  const db = new BetterSqlite3(':memory:');
  assert.throws(() => migrate(db, dir));
  db.close();
});

test('pragmas, file modes and DATABASE_PATH', (t) => {
  const dir = tempDir(t);
  const dataDir = path.join(dir, '.autodev');
  const opened = openDatabase({ schemaDir, dataDir, env: {} });
  t.after(() => opened.close());
  assert.equal(opened.path, path.join(dataDir, 'autodev.db'));
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(opened.path).mode & 0o777, 0o600);
  opened.db.prepare("INSERT INTO app_meta(key, value) VALUES ('k', 'v')").run();
  assert.equal(statSync(`${opened.path}-wal`).mode & 0o777, 0o600);
  assert.equal(opened.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(opened.db.pragma('synchronous', { simple: true }), 2, 'FULL');
  assert.equal(opened.db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(opened.db.pragma('busy_timeout', { simple: true }), 5000);
  assert.equal(opened.db.pragma('journal_size_limit', { simple: true }), 64 * 1024 * 1024);
  assert.equal(
    resolveDatabasePath({ dataDir, env: { DATABASE_PATH: path.join(dir, 'x.db') } }),
    path.join(dir, 'x.db'),
  );
});

test('the schema has the documented objects: 15+ indexes, FTS5 tables, views, triggers', (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'd.db') });
  t.after(() => opened.close());
  const count = (type: string) =>
    (
      opened.db
        .prepare(
          `SELECT count(*) AS n FROM sqlite_schema WHERE type = ? AND name NOT LIKE 'sqlite_autoindex%'`,
        )
        .get(type) as { n: number }
    ).n;
  assert.ok(count('index') >= 15, `indexes: ${count('index')}`);
  for (const name of ['active_sessions', 'session_stats']) {
    assert.ok(
      opened.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'view' AND name = ?").get(name),
      name,
    );
  }
  for (const name of ['command_fts', 'output_spool_progress', 'output_index_queue']) {
    assert.ok(
      opened.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name),
      name,
    );
  }
  // The output index lives in its own file since schema 006 (search-index.ts).
  assert.equal(
    opened.db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'session_output_fts'").get(),
    undefined,
  );
  assert.ok(count('trigger') >= 4);
});
