/**
 * The dashboard token lives in sessionStorage only (this browser tab, survives reload, gone when the
 * tab closes) and is sent only in the Authorization header or the WebSocket auth message: never in a
 * URL, a cookie or localStorage.
 */
const KEY = 'autodev.token';

type StorageLike = {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
};

export class TokenStore {
  private readonly _storage: StorageLike | null;
  private _token: string | null;

  constructor(storage: StorageLike | null) {
    this._storage = storage;
    this._token = safe(() => storage?.getItem(KEY) ?? null) ?? null;
  }

  get token(): string | null {
    return this._token;
  }

  set(token: string): void {
    this._token = token;
    safe(() => this._storage?.setItem(KEY, token));
  }

  clear(): void {
    this._token = null;
    safe(() => this._storage?.removeItem(KEY));
  }
}

/** Accepts a pasted token with stray whitespace or a leading "Bearer ". Returns null if it cannot be a JWT. */
export function normalizeToken(input: string): string | null {
  const token = input.trim().replace(/^Bearer\s+/i, '');
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token) ? token : null;
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    // Storage can be disabled (privacy mode): fall back to memory only.
    return undefined;
  }
}
