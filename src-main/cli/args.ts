export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `1h`, `30m`, `7d`, `45s` or plain seconds → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid duration "${text}" (use e.g. 30m, 1h, 7d)`);
  const n = Number(m[1]);
  const unit = m[2] || 's';
  const seconds = n * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'];
  if (!(seconds >= 1)) throw new UsageError(`duration "${text}" is too short`);
  return Math.floor(seconds);
}

export function parsePort(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`invalid port "${text}"`);
  const port = Number(text);
  if (port > 65535) throw new UsageError(`invalid port "${text}"`);
  return port;
}
