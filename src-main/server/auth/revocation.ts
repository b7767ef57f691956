import { Emitter } from '../../core/util/event.ts';

/** The persistent side of revocation (the store's auth_tokens table). Optional: without it, only in-process revokes count. */
export interface RevocationStore {
  isTokenRevoked(jti: string): boolean;
  revokeToken?(jti: string, reason?: string): void;
}

/**
 * Which token ids are revoked. `revoke()` is instant for this process (open sockets listen to
 * onDidRevoke and close); tokens revoked in the store by another process (`autodev token --revoke`)
 * are found by `isRevoked()` at authentication and by the server's periodic sweep of open sockets.
 */
export class TokenRevocations {
  private readonly _revoked = new Set<string>();
  private readonly _onDidRevoke = new Emitter<string>();
  readonly onDidRevoke = this._onDidRevoke.event;
  private readonly _store: RevocationStore | null;

  constructor(store: RevocationStore | null = null) {
    this._store = store;
  }

  revoke(jti: string, reason = 'revoked'): void {
    this._revoked.add(jti);
    try {
      this._store?.revokeToken?.(jti, reason);
    } finally {
      this._onDidRevoke.fire(jti);
    }
  }

  isRevoked(jti: string): boolean {
    if (this._revoked.has(jti)) return true;
    if (this._store?.isTokenRevoked(jti)) {
      this._revoked.add(jti);
      return true;
    }
    return false;
  }

  dispose(): void {
    this._onDidRevoke.dispose();
  }
}
