// What persistence reports about itself (the UI's warning, /health) and which errors pause it.

export interface PersistenceStatus {
  ok: boolean;
  /** "disk full (SQLITE_FULL)", "I/O error (SQLITE_IOERR_WRITE)"… null when writing. */
  paused_reason: string | null;
  paused_since: string | null;
  error_code: string | null;
  /** Output bytes (approx.) held in memory, waiting to be written to the spool. */
  buffered_bytes: number;
  /** Commands held (in memory and in the spill file), waiting for the database. */
  buffered_commands: number;
  /** Output dropped while paused (recorded as gap rows), since start. */
  dropped_chunks: number;
  dropped_bytes: number;
  retries: number;
}

/** Thrown by the journal when a command could not be made durable in the database yet (it is kept, in
 *  memory and in the spill file when one is writable, and journaled first when writing resumes). */
export class PersistencePausedError extends Error {
  readonly error_code = 'PERSISTENCE_PAUSED';
}

const PAUSING_SQLITE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;
const PAUSING_ERRNO = /^(ENOSPC|EDQUOT|EIO|EROFS|EACCES|EPERM|EMFILE|ENFILE|ENOMEM)$/;

/** Errors of the medium (disk full, I/O, lock held too long, read-only) pause persistence; others are bugs. */
export function isPausingError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (PAUSING_SQLITE.test(code) || PAUSING_ERRNO.test(code));
}

export function describePause(error: unknown): { reason: string; code: string } {
  const code = String((error as { code?: unknown })?.code ?? 'UNKNOWN');
  const what =
    code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT'
      ? 'disk full'
      : code.startsWith('SQLITE_IOERR') || code === 'EIO'
        ? 'I/O error'
        : code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
          ? 'database locked'
          : code.startsWith('SQLITE_READONLY') || code === 'EROFS'
            ? 'read-only'
            : 'write failed';
  return { reason: `${what} (${code}): persistence paused, sessions keep running`, code };
}
