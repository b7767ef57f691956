import { createRedactor, type Redactor } from '../security/redact.ts';

/**
 * Structured JSON-lines logger. Every line passes through the redactor after serialisation, so a
 * secret can hide in the message, a field or a nested error and still never reach the sink. Fields
 * whose name says they hold a credential are replaced outright.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `bindings` (e.g. `{ component: 'sessions', session_id }`). */
  child(bindings: LogFields): Logger;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Receives one complete JSON line (with trailing newline). Default: stderr. */
  sink?: (line: string) => void;
  redactor?: Redactor;
  bindings?: LogFields;
  now?: () => Date;
}

const SENSITIVE_FIELD =
  /(^|_|-)(token|secret|password|passwd|authorization|api[_-]?key|cookie|credential)s?$/i;

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const sink = options.sink ?? ((line: string) => process.stderr.write(line));
  const redactor = options.redactor ?? createRedactor();
  const now = options.now ?? (() => new Date());
  return makeLogger(level, sink, redactor, now, options.bindings ?? {});
}

function makeLogger(
  level: LogLevel,
  sink: (line: string) => void,
  redactor: Redactor,
  now: () => Date,
  bindings: LogFields,
): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    let line: string;
    try {
      line = JSON.stringify({ t: now().toISOString(), level: lvl, msg, ...bindings, ...fields }, replacer);
    } catch (error) {
      line = JSON.stringify({ t: now().toISOString(), level: lvl, msg, log_error: String(error) });
    }
    try {
      sink(`${redactor.redact(line)}\n`);
    } catch {
      // A broken sink must never take the caller down.
    }
  };
  return {
    level,
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (extra) => makeLogger(level, sink, redactor, now, { ...bindings, ...extra }),
  };
}

function replacer(key: string, value: unknown): unknown {
  if (key && SENSITIVE_FIELD.test(key) && value !== null && value !== undefined && value !== '')
    return typeof value === 'boolean' ? value : '[REDACTED:field]';
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code =
      (value as { error_code?: unknown; code?: unknown }).error_code ?? (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.stack) out.stack = value.stack.split('\n').slice(0, 6).join('\n');
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A logger that drops everything (tests, benches). */
export const nullLogger: Logger = {
  level: 'error',
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => nullLogger,
};
