import type WebSocket from 'ws';
import type { ErrorCode } from '../../../src-shared/errors.ts';
import type { ServerMessage } from '../../../src-shared/ws-protocol.ts';
import type { TokenClaims } from '../auth/tokens.ts';
import { TokenBucket } from '../limits.ts';
import type { ServerMetrics } from '../metrics.ts';

export interface MessageRateLimits {
  /** Messages: burst capacity and refill per second. */
  messages: { capacity: number; perSecond: number };
  /** Characters of input/command text. */
  inputChars: { capacity: number; perSecond: number };
  resizes: { capacity: number; perSecond: number };
}

export const DEFAULT_RATE_LIMITS: MessageRateLimits = {
  messages: { capacity: 500, perSecond: 200 },
  inputChars: { capacity: 1024 * 1024, perSecond: 256 * 1024 },
  resizes: { capacity: 40, perSecond: 10 },
};

let connectionCounter = 0;
/** Longest single setTimeout Node accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One WebSocket client: identity, heartbeat flag, token-expiry timer, rate buckets, envelope writer. */
export class ClientConnection {
  readonly ws: WebSocket;
  readonly ip: string;
  readonly endpoint: 'session' | 'events';
  readonly sessionId: string | null;
  readonly id = `c${++connectionCounter}`;
  claims: TokenClaims | null = null;
  /** Cleared before each heartbeat ping, set by pong or any message. */
  alive = true;
  /** `?last_seq=` of the upgrade URL: where this viewer resumes if its auth names no seq. */
  readonly resumeAt: number | null;
  /** Output goes as binary frames (the viewer asked in its auth or with ?binary=1). */
  binaryOutput = false;
  /** Run once a first-message auth succeeded (clears the auth timeout). */
  onAuthenticated: (() => void) | null = null;
  readonly buckets: { messages: TokenBucket; inputChars: TokenBucket; resizes: TokenBucket };
  private _messageCounter = 0;
  private _expiryTimer: NodeJS.Timeout | null = null;
  private readonly _metrics: ServerMetrics;
  private _closed = false;

  constructor(options: {
    ws: WebSocket;
    ip: string;
    endpoint: 'session' | 'events';
    sessionId: string | null;
    resumeAt?: number | null;
    limits: MessageRateLimits;
    metrics: ServerMetrics;
  }) {
    this.ws = options.ws;
    this.ip = options.ip;
    this.endpoint = options.endpoint;
    this.sessionId = options.sessionId;
    this.resumeAt = options.resumeAt ?? null;
    this._metrics = options.metrics;
    const l = options.limits;
    this.buckets = {
      messages: new TokenBucket(l.messages.capacity, l.messages.perSecond),
      inputChars: new TokenBucket(l.inputChars.capacity, l.inputChars.perSecond),
      resizes: new TokenBucket(l.resizes.capacity, l.resizes.perSecond),
    };
  }

  get isOpen(): boolean {
    return !this._closed && this.ws.readyState === this.ws.OPEN;
  }

  /** Sets the identity and arms a timer that closes the socket when the token expires (4408). */
  authenticate(claims: TokenClaims, onExpire: () => void): void {
    this.claims = claims;
    this._clearExpiry();
    const arm = (): void => {
      const remaining = claims.exp * 1000 - Date.now();
      if (remaining <= 0) {
        onExpire();
        return;
      }
      this._expiryTimer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
      this._expiryTimer.unref();
    };
    arm();
  }

  send<M extends ServerMessage>(type: M['type'], data: M['data']): boolean {
    if (!this.isOpen) return false;
    const message = {
      type,
      session_id: this.sessionId ?? undefined,
      data,
      timestamp: new Date().toISOString(),
      message_id: `${this.id}-${++this._messageCounter}`,
    };
    this.ws.send(JSON.stringify(message));
    this._metrics.messagesOut.inc({ type });
    return true;
  }

  /** A ready-made binary frame (output shared by every binary viewer of a chunk). */
  sendBinary(frame: Uint8Array, type: string): boolean {
    if (!this.isOpen) return false;
    this.ws.send(frame, { binary: true });
    this._metrics.messagesOut.inc({ type });
    return true;
  }

  sendError(code: ErrorCode, error: string, recoverable = true): void {
    this._metrics.errors.inc({ code });
    this.send('error', { error, error_code: code, recoverable });
  }

  close(code: number, reason: string): void {
    if (this._closed) return;
    this._closed = true;
    this._clearExpiry();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      // Reason must fit a control frame (123 bytes).
      this.ws.close(code, reason.slice(0, 120));
      // A peer that never answers the close handshake is cut off.
      setTimeout(() => this.ws.terminate(), 2000).unref();
    }
  }

  dispose(): void {
    this._closed = true;
    this._clearExpiry();
  }

  private _clearExpiry(): void {
    if (this._expiryTimer) clearTimeout(this._expiryTimer);
    this._expiryTimer = null;
  }
}
