import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { type MigrationResult, migrate } from './migrations.ts';
import { type LoggerLike, silentLogger } from './types.ts';

export type { Database };

export interface OpenDatabaseOptions {
  /** Directory of NNN_name.sql migrations (the repo's or the packaged app's `schema/`). */
  schemaDir: string;
  /** Explicit file; otherwise DATABASE_PATH from `env`, otherwise `<dataDir>/autodev.db`. */
  path?: string;
  /** Defaults to ~/.autodev (headless); the Electron shell passes app.getPath('userData'). */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  logger?: LoggerLike;
  /** Stop at this schema version (tests of upgrades from older versions). */
  targetVersion?: number;
}

export interface OpenedDatabase {
  db: Database;
  path: string;
  migration: MigrationResult;
  /** wal_checkpoint(TRUNCATE) then close; safe to call twice. */
  close(): void;
}

export function defaultDataDir(): string {
  return path.join(os.homedir(), '.autodev');
}

export function resolveDatabasePath(
  options: { path?: string; dataDir?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  if (options.path) return path.resolve(options.path);
  const fromEnv = (options.env ?? process.env).DATABASE_PATH;
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(options.dataDir ?? defaultDataDir(), 'autodev.db');
}

/**
 * `synchronous = FULL` (deliberate, see field notes §5.1): in WAL mode every commit fsyncs the WAL,
 * so a commit that returned survives an OS crash or power cut, not only a `kill -9`. NORMAL would be
 * consistent too but could roll back the last commits on power loss — and a journaled command is
 * "acknowledged" the moment its INSERT returns, so it must be on disk by then. This connection (the
 * main thread's) writes only the small, ordered rows: commands, session rows, the process ledger;
 * measured in bench/store-write.bench.ts.
 *
 * Output takes another way (store/persistence.ts): the live path appends it to the output spool
 * (`<db>-spool/`, in the OS's page cache: a kill -9 keeps it, a power cut can lose its last moments)
 * and the persistence worker stores it in session_output on its own connection at synchronous=NORMAL
 * — output rows are re-derived from the spool until their progress row commits, and the next command
 * fsyncs the WAL and every frame before it. The search index lives in `<db>-search` at synchronous=OFF
 * (derived data, rebuilt if damaged). With the worker running, this connection's wal_autocheckpoint is 0:
 * the worker checkpoints (PASSIVE) so no command pays for a checkpoint.
 */
export const PRAGMAS = {
  journal_mode: 'WAL',
  synchronous: 'FULL',
  busy_timeout: 5000,
  foreign_keys: 'ON',
  /** Truncate the WAL back to this size after checkpoints (long readers can make it grow). */
  journal_size_limit: 64 * 1024 * 1024,
} as const;

export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  const logger = options.logger ?? silentLogger;
  const file = resolveDatabasePath(options);
  ensurePrivateDir(path.dirname(file));
  ensurePrivateFile(file);

  const db = new BetterSqlite3(file);
  try {
    applyPragmas(db);
    // WAL and SHM files inherit the main file's mode in SQLite's unix VFS; tighten anyway (umask).
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
    }
    const migration = migrate(db, options.schemaDir, options.targetVersion);
    if (migration.applied.length > 0) {
      logger.info('database migrated', { path: file, from: migration.from, to: migration.to });
    }
    if (migration.changed.length > 0) {
      logger.warn('applied migrations changed on disk since they ran', { files: migration.changed });
    }
    let closed = false;
    return {
      db,
      path: file,
      migration,
      close() {
        if (closed) return;
        closed = true;
        try {
          db.pragma('wal_checkpoint(TRUNCATE)');
        } catch (error) {
          logger.warn('checkpoint on close failed', { error: String(error) });
        }
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

export function applyPragmas(db: Database): void {
  db.pragma(`journal_mode = ${PRAGMAS.journal_mode}`);
  db.pragma(`synchronous = ${PRAGMAS.synchronous}`);
  db.pragma(`busy_timeout = ${PRAGMAS.busy_timeout}`);
  db.pragma(`foreign_keys = ${PRAGMAS.foreign_keys}`);
  db.pragma(`journal_size_limit = ${PRAGMAS.journal_size_limit}`);
}

function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Only tighten a directory we own and that is ours alone (~/.autodev), never e.g. /tmp.
  if (path.basename(dir) === '.autodev') chmodSync(dir, 0o700);
}

function ensurePrivateFile(file: string): void {
  // Create it 0600 before SQLite does (SQLite would use 0644 minus umask).
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}
