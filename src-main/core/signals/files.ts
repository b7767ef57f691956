import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The signal folder in the data dir (0700), and what lives there:
 * - `secret` (0600): 32 random bytes, created once. A session's credential is HMAC-SHA256(secret,
 *   session id): it survives an app restart (sessions outlive the app once PTYs live in a PTY host), and
 *   it can be checked without remembering anything per session.
 * - `endpoint.json` (0600): the CURRENT endpoint (URL + a random per-start token), rewritten at every
 *   start (a stale URL is how superset-sh/superset#3931 lost its hooks). The relay reads it each time.
 * - `relay-v1.cjs`: the relay script (relay-script.ts), rewritten at every start.
 * - `sessions/<id>/`: files a provider's wiring writes for one session (e.g. Claude's `--settings`).
 */
export interface SignalPaths {
  dir: string;
  secret: string;
  manifest: string;
  relay: string;
  sessions: string;
}

export function signalPaths(dataDir: string): SignalPaths {
  const dir = path.join(dataDir, 'signals');
  return {
    dir,
    secret: path.join(dir, 'secret'),
    manifest: path.join(dir, 'endpoint.json'),
    relay: path.join(dir, 'relay-v1.cjs'),
    sessions: path.join(dir, 'sessions'),
  };
}

export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Write atomically (temp file + rename) with the given mode, so a reader never sees half a file. */
export function writePrivateFile(file: string, content: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** The persistent secret: read it, or create it once. A malformed file is replaced (every earlier
 *  session credential then stops working; their relays fail quietly and the screen rules decide). */
export function loadOrCreateSecret(file: string): Buffer {
  try {
    const hex = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  } catch {
    // first start: create it below
  }
  const secret = randomBytes(32);
  writePrivateFile(file, `${secret.toString('hex')}\n`);
  return secret;
}

export function sessionMac(secret: Buffer, sessionId: string): string {
  return createHmac('sha256', secret).update(`autodev-signal:v1:${sessionId}`).digest('hex');
}

/** Constant-time comparison of two strings (false for different lengths, without leaking where). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

export interface EndpointManifest {
  version: 1;
  url: string;
  token: string;
  pid: number;
  started_at: string;
}
