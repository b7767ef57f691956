import type { Database } from 'better-sqlite3';
import type { RevocationStore } from './revocation.ts';
import type { TokenClaims } from './tokens.ts';

/**
 * Issued tokens in the store's `auth_tokens` table, so a token can be revoked by id (`autodev token
 * --revoke JTI`) from another process; the server sees it at the next verify and in its 1 s sweep of
 * open sockets. Tokens never stored here (minted elsewhere with the same secret) are not revoked.
 */
export class TokenRegistry implements RevocationStore {
  private readonly _db: Database;

  constructor(db: Database) {
    this._db = db;
  }

  record(claims: TokenClaims): void {
    this._db
      .prepare(
        'INSERT OR IGNORE INTO auth_tokens (jti, subject, scope, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(claims.jti, claims.sub, claims.scope, iso(claims.iat), iso(claims.exp));
  }

  isTokenRevoked(jti: string): boolean {
    const row = this._db.prepare('SELECT revoked_at FROM auth_tokens WHERE jti = ?').get(jti) as
      | { revoked_at: string | null }
      | undefined;
    return row !== undefined && row.revoked_at !== null;
  }

  revokeToken(jti: string): void {
    const now = new Date().toISOString();
    const updated = this._db
      .prepare('UPDATE auth_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL')
      .run(now, jti);
    if (updated.changes === 0) {
      // Unknown id (issued before the registry existed): remember it as revoked anyway.
      this._db
        .prepare(
          "INSERT OR IGNORE INTO auth_tokens (jti, subject, scope, issued_at, expires_at, revoked_at) VALUES (?, 'unknown', 'unknown', ?, ?, ?)",
        )
        .run(jti, now, now, now);
    }
  }

  /** Revoke every live token of a subject; returns how many. */
  revokeSubject(subject: string): number {
    return this._db
      .prepare('UPDATE auth_tokens SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL')
      .run(new Date().toISOString(), subject).changes;
  }

  list(): {
    jti: string;
    subject: string;
    scope: string;
    issued_at: string;
    expires_at: string;
    revoked_at: string | null;
  }[] {
    return this._db
      .prepare(
        'SELECT jti, subject, scope, issued_at, expires_at, revoked_at FROM auth_tokens ORDER BY issued_at DESC',
      )
      .all() as ReturnType<TokenRegistry['list']>;
  }
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}
