import type { Database } from 'better-sqlite3';
import { isoNow } from './types.ts';

export interface TokenRecord {
  jti: string;
  subject: string;
  scope: string;
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/**
 * Issued tokens, for revocation: a deny-list keyed by jti. The signature (pinned HS256, issuer,
 * audience, expiry) is what admits a token; this table only takes tokens back. An unknown jti is not
 * revoked: tokens minted by another instance sharing JWT_SECRET, or before the table existed, keep
 * working until they expire. Revoking an unknown jti records it, so the revocation still holds.
 * "Revoke everything" is rotating the signing secret.
 */
export interface TokenStore {
  record(token: Omit<TokenRecord, 'revoked_at'>): void;
  isRevoked(jti: string): boolean;
  /** True when a live recorded token was revoked; an unknown jti is recorded as revoked (false). */
  revoke(jti: string): boolean;
  /** "Revoke all" for one device/user; returns how many were live. */
  revokeSubject(subject: string): number;
  revokeAll(): number;
  /** Drop rows expired before `before` (default now). */
  purgeExpired(before?: string): number;
  list(subject?: string): TokenRecord[];
}

export function createTokenStore(db: Database): TokenStore {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO auth_tokens (jti, subject, scope, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  const insertRevoked = db.prepare(
    "INSERT OR IGNORE INTO auth_tokens (jti, subject, scope, issued_at, expires_at, revoked_at) VALUES (?, 'unknown', 'unknown', ?, ?, ?)",
  );
  const get = db.prepare('SELECT revoked_at FROM auth_tokens WHERE jti = ?');
  const revoke = db.prepare('UPDATE auth_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL');
  const revokeSubject = db.prepare(
    'UPDATE auth_tokens SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL',
  );
  const revokeAll = db.prepare('UPDATE auth_tokens SET revoked_at = ? WHERE revoked_at IS NULL');
  const purge = db.prepare('DELETE FROM auth_tokens WHERE expires_at < ?');
  const listAll = db.prepare('SELECT * FROM auth_tokens ORDER BY issued_at DESC');
  const listSubject = db.prepare('SELECT * FROM auth_tokens WHERE subject = ? ORDER BY issued_at DESC');
  return {
    record(t) {
      insert.run(t.jti, t.subject, t.scope, t.issued_at, t.expires_at);
    },
    isRevoked(jti) {
      const row = get.get(jti) as { revoked_at: string | null } | undefined;
      return row !== undefined && row.revoked_at !== null;
    },
    revoke(jti) {
      const now = isoNow();
      if (revoke.run(now, jti).changes > 0) return true;
      // Unknown here (issued elsewhere): remember it as revoked. Kept until the purge of a far date.
      insertRevoked.run(jti, now, '9999-12-31T00:00:00.000Z', now);
      return false;
    },
    revokeSubject: (subject) => revokeSubject.run(isoNow(), subject).changes,
    revokeAll: () => revokeAll.run(isoNow()).changes,
    purgeExpired: (before = isoNow()) => purge.run(before).changes,
    list: (subject) => (subject ? listSubject.all(subject) : listAll.all()) as TokenRecord[],
  };
}
