import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/** Shortest signing secret we accept (HS256 needs at least the hash size). */
export const MIN_SECRET_BYTES = 32;
export const SECRET_FILE_NAME = 'jwt-secret';

export class SigningSecretError extends Error {
  override readonly name = 'SigningSecretError';
}

export interface SigningSecret {
  key: Uint8Array;
  /** Where it came from, for the start-up log line (never the value). */
  source: 'env' | 'file' | 'generated';
}

/**
 * The HMAC key that signs every token: `JWT_SECRET` when set (refused when shorter than 32 bytes), else
 * 32 random bytes generated once into `<dataDir>/jwt-secret` (0600). Deleting or rotating the file
 * invalidates every token ever issued: that is the "revoke all" lever.
 */
export function loadSigningSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): SigningSecret {
  const fromEnv = env['JWT_SECRET'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = new TextEncoder().encode(fromEnv);
    if (key.byteLength < MIN_SECRET_BYTES) {
      throw new SigningSecretError(
        `JWT_SECRET is ${key.byteLength} bytes; at least ${MIN_SECRET_BYTES} are required (e.g. \`openssl rand -hex 32\`)`,
      );
    }
    return { key, source: 'env' };
  }
  const file = path.join(dataDir, SECRET_FILE_NAME);
  try {
    const stat = statSync(file);
    // Someone loosened the mode: tighten it again rather than keep serving a world-readable key.
    if ((stat.mode & 0o077) !== 0) chmodSync(file, 0o600);
    const key = new Uint8Array(readFileSync(file));
    if (key.byteLength < MIN_SECRET_BYTES) {
      throw new SigningSecretError(
        `${file} holds ${key.byteLength} bytes; delete it to generate a new secret`,
      );
    }
    return { key, source: 'file' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { key: writeNewSecret(dataDir), source: 'generated' };
}

/** Replace the secret file with fresh random bytes: every previously issued token stops verifying. */
export function rotateSigningSecret(dataDir: string): Uint8Array {
  return writeNewSecret(dataDir);
}

function writeNewSecret(dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SECRET_FILE_NAME);
  const key = new Uint8Array(randomBytes(MIN_SECRET_BYTES));
  // Atomic: write a 0600 temp file, fsync, rename over; a crash never leaves a short or empty secret.
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return key;
}
