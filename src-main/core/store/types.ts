/**
 * The logging surface the store, Redis bus and recovery need. Structural, so the core logger
 * (src-main/core/log/logger.ts) or a test double fits without an import cycle.
 */
export interface LoggerLike {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: LoggerLike = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** ISO-8601 UTC with milliseconds: the one timestamp format of the database (sorts as text). */
export function isoNow(): string {
  return new Date().toISOString();
}
