/**
 * Abuse limits: token buckets (messages, input bytes, resizes per connection), per-IP and global
 * connection caps, and per-IP authentication-failure lockout with exponential backoff.
 */

export class TokenBucket {
  private _tokens: number;
  private _last: number;
  private readonly _capacity: number;
  private readonly _refillPerSecond: number;

  constructor(capacity: number, refillPerSecond: number, now = Date.now()) {
    this._capacity = capacity;
    this._refillPerSecond = refillPerSecond;
    this._tokens = capacity;
    this._last = now;
  }

  /** Take `cost` tokens; false (and nothing taken) when the bucket cannot cover it. */
  take(cost = 1, now = Date.now()): boolean {
    const elapsed = Math.max(0, now - this._last) / 1000;
    this._last = now;
    this._tokens = Math.min(this._capacity, this._tokens + elapsed * this._refillPerSecond);
    if (cost > this._tokens) return false;
    this._tokens -= cost;
    return true;
  }
}

export interface ConnectionCaps {
  perIp: number;
  global: number;
}

/** Counts open WebSocket connections by peer address. */
export class ConnectionCounter {
  private readonly _byIp = new Map<string, number>();
  private _total = 0;
  private readonly _caps: ConnectionCaps;

  constructor(caps: ConnectionCaps) {
    this._caps = caps;
  }

  /** 'ip' or 'global' when a cap is reached, else null. */
  wouldExceed(ip: string): 'ip' | 'global' | null {
    if (this._total >= this._caps.global) return 'global';
    if ((this._byIp.get(ip) ?? 0) >= this._caps.perIp) return 'ip';
    return null;
  }

  /** Count a connection; returns the release function (idempotent). */
  add(ip: string): () => void {
    this._byIp.set(ip, (this._byIp.get(ip) ?? 0) + 1);
    this._total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this._total--;
      const left = (this._byIp.get(ip) ?? 1) - 1;
      if (left <= 0) this._byIp.delete(ip);
      else this._byIp.set(ip, left);
    };
  }

  get total(): number {
    return this._total;
  }
}

export interface AuthFailurePolicy {
  /** Failures allowed inside the window before lockout starts. */
  maxFailures: number;
  windowMs: number;
  /** First lockout; doubles with every further failure, up to maxLockoutMs. */
  baseLockoutMs: number;
  maxLockoutMs: number;
}

interface FailureRecord {
  failures: number[];
  lockedUntil: number;
  lockouts: number;
}

/** Per-IP authentication failures → temporary lockout (HTTP 429 / WS close 1008). Memory bounded. */
export class AuthFailureLimiter {
  private readonly _records = new Map<string, FailureRecord>();
  private readonly _policy: AuthFailurePolicy;
  private static readonly MAX_TRACKED = 10_000;

  constructor(policy: AuthFailurePolicy) {
    this._policy = policy;
  }

  /** Milliseconds until this IP may try again, 0 when allowed. */
  lockedFor(ip: string, now = Date.now()): number {
    const record = this._records.get(ip);
    if (!record) return 0;
    return Math.max(0, record.lockedUntil - now);
  }

  recordFailure(ip: string, now = Date.now()): void {
    let record = this._records.get(ip);
    if (!record) {
      if (this._records.size >= AuthFailureLimiter.MAX_TRACKED) this._evict(now);
      record = { failures: [], lockedUntil: 0, lockouts: 0 };
      this._records.set(ip, record);
    }
    record.failures = record.failures.filter((t) => now - t < this._policy.windowMs);
    record.failures.push(now);
    if (record.failures.length > this._policy.maxFailures) {
      const lockout = Math.min(this._policy.maxLockoutMs, this._policy.baseLockoutMs * 2 ** record.lockouts);
      record.lockouts++;
      record.lockedUntil = now + lockout;
    }
  }

  recordSuccess(ip: string): void {
    const record = this._records.get(ip);
    if (record && record.lockedUntil <= Date.now()) this._records.delete(ip);
  }

  private _evict(now: number): void {
    for (const [ip, record] of this._records) {
      if (record.lockedUntil < now) this._records.delete(ip);
    }
    // Still full (an attacker cycling addresses): drop the oldest half rather than grow.
    if (this._records.size >= AuthFailureLimiter.MAX_TRACKED) {
      let n = 0;
      for (const ip of this._records.keys()) {
        if (n++ > AuthFailureLimiter.MAX_TRACKED / 2) break;
        this._records.delete(ip);
      }
    }
  }
}
