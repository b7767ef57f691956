// The store's public surface: what core.ts (the composition root) wires up.
export { stripAnsi } from './ansi.ts';
export {
  applyPragmas,
  type Database,
  defaultDataDir,
  type OpenDatabaseOptions,
  type OpenedDatabase,
  openDatabase,
  PRAGMAS,
  resolveDatabasePath,
} from './database.ts';
export {
  createHistory,
  type History,
  type HistoryFilter,
  type HistoryOptions,
  type PendingOutput,
  type SessionExport,
  type SessionListFilter,
} from './history.ts';
export { loadMigrations, type MigrationResult, migrate, userVersion } from './migrations.ts';
export {
  attachPersistence,
  createPersistence,
  isPausingError,
  type Persistence,
  type PersistenceOptions,
  PersistencePausedError,
  type PersistenceStatus,
  type StreamRedactorLike,
} from './persistence.ts';
export { createPreferenceStore, type PreferenceStore } from './preferences.ts';
export { DEFAULT_RETENTION, enforceRetention, type RetentionLimits } from './retention.ts';
export { createSessionStore, type OutputBatch, SessionStore } from './session-store.ts';
export { createTokenStore, type TokenRecord, type TokenStore } from './tokens.ts';
export { type LoggerLike, silentLogger } from './types.ts';
