import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';

/** `NNN_name.sql`: NNN is the schema version the file brings the database to. */
const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: { version: number; name: string }[];
  /** Files whose content changed after they were applied (logged; never re-applied). */
  changed: string[];
}

/** Reads `schema/` (the packaged app passes its own copy): every NNN_name.sql, sorted, no gaps. */
export function loadMigrations(schemaDir: string): MigrationFile[] {
  const files = readdirSync(schemaDir)
    .map((file) => ({ file, match: MIGRATION_FILE.exec(file) }))
    .filter((f): f is { file: string; match: RegExpExecArray } => f.match !== null)
    .map(({ file, match }) => {
      const sql = readFileSync(path.join(schemaDir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2]!,
        file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  files.forEach((m, i) => {
    // A gap or a duplicate number means two branches picked the same slot: refuse rather than guess.
    if (m.version !== i + 1) throw new Error(`schema: expected migration ${i + 1}, found ${m.file}`);
  });
  return files;
}

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT`;

/**
 * Brings the database to the newest version (or `targetVersion`). Each file runs in its own
 * BEGIN IMMEDIATE transaction together with its user_version bump, so a crash mid-migration leaves
 * the previous version intact, and two processes starting at once serialise instead of both applying.
 * Re-running is a no-op. A database newer than the files (a downgrade) is refused.
 */
export function migrate(db: Database, schemaDir: string, targetVersion?: number): MigrationResult {
  const migrations = loadMigrations(schemaDir);
  const latest = migrations.length;
  const target = targetVersion ?? latest;
  if (target > latest) throw new Error(`schema: no migration ${target} in ${schemaDir}`);
  const from = userVersion(db);
  if (from > latest) {
    throw new Error(
      `schema: database is at version ${from}, this build knows up to ${latest}; refusing to downgrade`,
    );
  }
  const applied: MigrationResult['applied'] = [];
  for (const m of migrations) {
    if (m.version > target) break;
    const step = db.transaction(() => {
      // Re-read inside the write lock: another process may have applied it meanwhile.
      if (userVersion(db) >= m.version) return false;
      db.exec(BOOKKEEPING);
      db.exec(m.sql);
      db.prepare(
        'INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
      ).run(m.version, m.name, m.checksum, new Date().toISOString());
      // PRAGMA takes no bound parameters; the value is an integer we produced.
      db.pragma(`user_version = ${Math.trunc(m.version)}`);
      return true;
    });
    if (step.immediate()) applied.push({ version: m.version, name: m.name });
  }
  const changed = changedMigrations(db, migrations);
  return { from, to: userVersion(db), applied, changed };
}

export function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function changedMigrations(db: Database, migrations: MigrationFile[]): string[] {
  const exists = db.prepare(
    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
  );
  if (!exists.get()) return [];
  const rows = db.prepare('SELECT version, checksum FROM schema_migrations').all() as {
    version: number;
    checksum: string;
  }[];
  const byVersion = new Map(rows.map((r) => [r.version, r.checksum]));
  return migrations
    .filter((m) => byVersion.has(m.version) && byVersion.get(m.version) !== m.checksum)
    .map((m) => m.file);
}
