import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { ID_PATTERN } from '../../../src-shared/ids.ts';
import { FINAL_STATES } from '../../../src-shared/session.ts';
import {
  type ClientMessage,
  ClientMessageSchema,
  type LiveEvent,
  MAX_WS_PAYLOAD_BYTES,
  statusMessageData,
  TOKEN_SUBPROTOCOL_PREFIX,
  WS_CLOSE,
} from '../../../src-shared/ws-protocol.ts';
import { DisposableStore } from '../../core/util/event.ts';
import type { TokenRevocations } from '../auth/revocation.ts';
import { hasScope, type TokenClaims, TokenError, verifyToken } from '../auth/tokens.ts';
import { errorCodeOf } from '../http/core-errors.ts';
import { peerAddress, type RequestGuards } from '../http/guards.ts';
import type { AuthFailureLimiter, ConnectionCounter } from '../limits.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { ServerCore } from '../types.ts';
import { ClientConnection, type MessageRateLimits } from './connection.ts';
import { type BackpressureOptions, OutputStream } from './output-stream.ts';

export interface WsHubOptions {
  core: ServerCore;
  key: Uint8Array;
  guards: () => RequestGuards;
  revocations: TokenRevocations;
  authFailures: AuthFailureLimiter;
  connections: ConnectionCounter;
  metrics: ServerMetrics;
  rateLimits: MessageRateLimits;
  backpressure: BackpressureOptions;
  heartbeatMs: number;
  authTimeoutMs: number;
  maxConnectionsPerSession: number;
  revocationCheckMs: number;
}

const SESSION_PATH = /^\/cli\/session\/([^/]+)\/ws$/;
const EVENTS_PATH = '/cli/events/ws';
const URL_TOKEN_PARAMS = ['token', 'access_token', 'jwt', 'auth', 'bearer'];
export const HOW_TO_AUTHENTICATE =
  'tokens in the URL are refused (URLs end up in logs and history); send {"type":"auth","data":{"token":"<jwt>"}} as the first message within 5 s, or offer the subprotocol "autodev.bearer.<jwt>" in Sec-WebSocket-Protocol';
const KNOWN_TYPES = new Set([
  'auth',
  'command',
  'input',
  'resize',
  'cancel',
  'ping',
  'pong',
  'resume',
  'ack',
  'focus',
]);

interface PendingUpgrade {
  endpoint: 'session' | 'events';
  sessionId: string | null;
  /** `?last_seq=N` on a session socket: where a header-authenticated viewer resumes. */
  lastSeq: number | null;
  /** `?binary=1`: output as binary frames. */
  binary: boolean;
  ip: string;
  claims: TokenClaims | null;
  protocol: string | false;
  release: () => void;
}

/**
 * The WebSocket endpoints. Every check that can be made before the upgrade is (Host, path, URL token,
 * Origin, lockout, caps, header token), so a hostile page never gets a socket; the rest (first-message
 * auth, scopes, session existence, per-session cap) closes with the protocol's 44xx/1013 codes.
 */
export class WsHub {
  private readonly _o: WsHubOptions;
  private readonly _wss: WebSocketServer;
  private readonly _connections = new Set<ClientConnection>();
  private readonly _bySession = new Map<string, Set<ClientConnection>>();
  private readonly _streams = new Map<ClientConnection, OutputStream>();
  private readonly _pending = new WeakMap<IncomingMessage, PendingUpgrade>();
  private readonly _disposables = new DisposableStore();
  private readonly _timers: NodeJS.Timeout[] = [];

  constructor(options: WsHubOptions) {
    this._o = options;
    this._wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_WS_PAYLOAD_BYTES,
      perMessageDeflate: false,
      maxFragments: 64,
      maxBufferedChunks: 1024,
      clientTracking: false,
      handleProtocols: (_protocols, req) => this._pending.get(req)?.protocol ?? false,
    });
    const sessions = options.core.sessions;
    this._disposables.add(
      sessions.onDidCreate((session) => this._broadcastEvent({ kind: 'session_created', session })),
    );
    this._disposables.add(
      sessions.onDidChangeState(({ session }) => {
        this._broadcastEvent({ kind: 'session_state', session });
        for (const conn of this._bySession.get(session.session_id) ?? []) {
          if (conn.claims) conn.send('status', statusMessageData(session));
        }
      }),
    );
    this._disposables.add(
      sessions.onDidExit((session) => {
        this._broadcastEvent({ kind: 'session_exited', session });
        this._o.metrics.sessionDuration.observe(
          { cli_tool: session.cli_tool, state: session.state },
          (Date.parse(session.ended_at ?? new Date().toISOString()) - Date.parse(session.created_at)) / 1000,
        );
        for (const conn of this._bySession.get(session.session_id) ?? []) {
          if (conn.claims) conn.send('status', statusMessageData(session));
        }
      }),
    );
    // A new PTY size reaches every viewer, so those that do not own the size fit it locally.
    this._disposables.add(
      sessions.onDidResize((session) => {
        for (const conn of this._bySession.get(session.session_id) ?? []) {
          if (conn.claims) conn.send('status', statusMessageData(session));
        }
      }),
    );
    this._disposables.add(
      sessions.onDidRemove((sessionId) => {
        this._broadcastEvent({ kind: 'session_removed', session_id: sessionId });
        for (const conn of this._bySession.get(sessionId) ?? [])
          conn.close(WS_CLOSE.NORMAL, 'session removed');
      }),
    );
    if (options.core.onLiveEvent)
      this._disposables.add(options.core.onLiveEvent((e) => this._broadcastEvent(e)));
    this._disposables.add(
      options.revocations.onDidRevoke((jti) => {
        for (const conn of this._connections) {
          if (conn.claims?.jti === jti)
            this._reject(conn, WS_CLOSE.UNAUTHORIZED, 'UNAUTHORIZED', 'token revoked');
        }
      }),
    );
    const heartbeat = setInterval(() => this._heartbeat(), options.heartbeatMs);
    heartbeat.unref();
    const revocationSweep = setInterval(() => this._sweepRevoked(), options.revocationCheckMs);
    revocationSweep.unref();
    this._timers.push(heartbeat, revocationSweep);
  }

  get connectionCount(): number {
    return this._connections.size;
  }

  /** `server.on('upgrade')`: all pre-upgrade checks, then hand over to ws. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    void this._upgrade(req, socket, head).catch((error: unknown) => {
      this._o.core.logger.error('ws upgrade failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      rejectUpgrade(socket, 500, 'INTERNAL', 'internal error');
    });
  }

  private async _upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const log = this._o.core.logger;
    const guards = this._o.guards();
    const ip = peerAddress(req.socket.remoteAddress);
    if (!guards.hostAllowed(req.headers.host)) {
      return rejectUpgrade(socket, 421, 'FORBIDDEN', "Host header is not one of this server's names");
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const sessionMatch = SESSION_PATH.exec(url.pathname);
    const endpoint = sessionMatch ? 'session' : url.pathname === EVENTS_PATH ? 'events' : null;
    if (!endpoint) return rejectUpgrade(socket, 404, 'NOT_FOUND', 'no WebSocket endpoint at this path');
    if (URL_TOKEN_PARAMS.some((p) => url.searchParams.has(p))) {
      this._o.metrics.errors.inc({ code: 'UNAUTHORIZED' });
      log.warn('ws token in URL refused', { ip, path: url.pathname });
      return rejectUpgrade(socket, 400, 'UNAUTHORIZED', HOW_TO_AUTHENTICATE);
    }
    let sessionId: string | null = null;
    if (sessionMatch) {
      let raw = sessionMatch[1] ?? '';
      try {
        raw = decodeURIComponent(raw);
      } catch {}
      if (!ID_PATTERN.test(raw)) {
        return rejectUpgrade(
          socket,
          400,
          'VALIDATION_ERROR',
          'session id must match ^[A-Za-z0-9_.:-]{1,128}$',
        );
      }
      sessionId = raw;
    }
    const offered = parseProtocols(req.headers['sec-websocket-protocol']);
    const bearer = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
    const origin = guards.checkOrigin(req.headers.origin);
    if (origin === 'forbidden') {
      log.warn('ws origin refused', { ip, origin: String(req.headers.origin).slice(0, 200) });
      return rejectUpgrade(socket, 403, 'FORBIDDEN', 'Origin is not allowed');
    }
    if (origin === 'missing' && !bearer) {
      // Browsers always send Origin; only scripts omit it, and they must show a token before the upgrade.
      return rejectUpgrade(
        socket,
        403,
        'FORBIDDEN',
        'Origin header required; non-browser clients must offer the subprotocol "autodev.bearer.<jwt>"',
      );
    }
    const locked = this._o.authFailures.lockedFor(ip);
    if (locked > 0) {
      return rejectUpgrade(socket, 429, 'RATE_LIMITED', 'too many authentication failures; retry later', {
        'Retry-After': String(Math.ceil(locked / 1000)),
      });
    }
    const cap = this._o.connections.wouldExceed(ip);
    if (cap === 'ip')
      return rejectUpgrade(socket, 429, 'RATE_LIMITED', 'too many connections from this address');
    if (cap === 'global')
      return rejectUpgrade(socket, 503, 'RATE_LIMITED', 'server connection limit reached');
    const release = this._o.connections.add(ip);
    // Released when the socket goes, whichever way (ws may reject a bad handshake without telling us).
    socket.once('close', release);
    let claims: TokenClaims | null = null;
    if (bearer) {
      try {
        claims = await this._verify(bearer.slice(TOKEN_SUBPROTOCOL_PREFIX.length), ip);
      } catch (error) {
        release();
        return rejectUpgrade(
          socket,
          401,
          'UNAUTHORIZED',
          error instanceof TokenError ? error.message : 'invalid token',
        );
      }
    }
    if (socket.destroyed) {
      release();
      return;
    }
    // Echo a plain protocol when the client offered one, so the token is not reflected needlessly.
    const plain = offered.find((p) => !p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
    const protocol = plain ?? bearer ?? false;
    const resumeAt = Number(url.searchParams.get('last_seq') ?? Number.NaN);
    const lastSeq = Number.isSafeInteger(resumeAt) && resumeAt >= 0 ? resumeAt : null;
    const binary = url.searchParams.get('binary') === '1';
    this._pending.set(req, { endpoint, sessionId, lastSeq, binary, ip, claims, protocol, release });
    this._wss.handleUpgrade(req, socket, head, (ws) => {
      const pending = this._pending.get(req);
      this._pending.delete(req);
      if (pending) this._onConnection(ws, pending);
    });
  }

  private async _verify(token: string, ip: string): Promise<TokenClaims> {
    try {
      const claims = await verifyToken(this._o.key, token);
      if (this._o.revocations.isRevoked(claims.jti)) throw new TokenError('token revoked');
      this._o.authFailures.recordSuccess(ip);
      return claims;
    } catch (error) {
      this._o.authFailures.recordFailure(ip);
      this._o.metrics.errors.inc({ code: 'UNAUTHORIZED' });
      this._o.core.logger.warn('ws authentication failed', {
        ip,
        reason: error instanceof TokenError ? error.message : 'invalid token',
      });
      throw error;
    }
  }

  private _onConnection(ws: WebSocket, pending: PendingUpgrade): void {
    const conn = new ClientConnection({
      ws,
      resumeAt: pending.lastSeq,
      ip: pending.ip,
      endpoint: pending.endpoint,
      sessionId: pending.sessionId,
      limits: this._o.rateLimits,
      metrics: this._o.metrics,
    });
    conn.binaryOutput = pending.binary;
    this._connections.add(conn);
    this._o.metrics.wsConnections.inc({ endpoint: conn.endpoint });
    let authTimer: NodeJS.Timeout | null = null;
    // Messages are handled one at a time in arrival order (auth verification is async).
    let queue: Promise<void> = Promise.resolve();
    ws.on('message', (raw, isBinary) => {
      conn.alive = true;
      queue = queue
        .then(() => this._onMessage(conn, raw, isBinary))
        .catch((error: unknown) => {
          this._o.core.logger.error('ws message handler failed', {
            conn: conn.id,
            error: error instanceof Error ? error.message : String(error),
          });
          conn.sendError('INTERNAL', 'internal error');
        });
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (authTimer) clearTimeout(authTimer);
      conn.dispose();
      this._streams.get(conn)?.dispose();
      this._streams.delete(conn);
      this._connections.delete(conn);
      if (conn.sessionId) {
        this._bySession.get(conn.sessionId)?.delete(conn);
        this._o.core.sessions.closeView(conn.sessionId, conn.id);
      }
      this._o.metrics.wsConnections.dec({ endpoint: conn.endpoint });
      pending.release();
    });
    if (pending.claims) {
      this._admit(conn, pending.claims, pending.lastSeq);
    } else {
      authTimer = setTimeout(() => {
        if (!conn.claims)
          this._reject(
            conn,
            WS_CLOSE.UNAUTHORIZED,
            'UNAUTHORIZED',
            'authentication timeout: send auth first',
          );
      }, this._o.authTimeoutMs);
      authTimer.unref();
      conn.onAuthenticated = () => {
        if (authTimer) clearTimeout(authTimer);
      };
    }
  }

  /** The token is good: check the session and the per-session cap, then say hello. */
  /**
   * Streaming starts here, at auth: a seed-protocol client that never sends `resume` still sees every
   * byte produced after its auth (its own command's echo included) — the current screen first, unless
   * the auth carried `last_seq` (then everything after it). A later `resume` restarts from its seq.
   */
  private _admit(conn: ClientConnection, claims: TokenClaims, lastSeq: number | null): boolean {
    conn.authenticate(claims, () =>
      this._reject(conn, WS_CLOSE.TOKEN_EXPIRED, 'UNAUTHORIZED', 'token expired; reconnect with a new token'),
    );
    if (conn.sessionId) {
      const session = this._o.core.sessions.get(conn.sessionId);
      if (!session) {
        this._reject(conn, WS_CLOSE.NOT_FOUND, 'NOT_FOUND', `session ${conn.sessionId} not found`);
        return false;
      }
      let peers = this._bySession.get(conn.sessionId);
      if (!peers) {
        peers = new Set();
        this._bySession.set(conn.sessionId, peers);
      }
      if (!peers.has(conn) && peers.size >= this._o.maxConnectionsPerSession) {
        this._reject(conn, WS_CLOSE.TRY_AGAIN_LATER, 'RATE_LIMITED', 'too many viewers on this session');
        return false;
      }
      peers.add(conn);
      conn.send('auth', {
        ok: true,
        scope: claims.scope,
        user_id: claims.sub,
        expires_at: isoFromEpoch(claims.exp),
      });
      conn.send('status', statusMessageData(session));
      if (!this._streams.has(conn)) {
        const stream = new OutputStream(
          conn,
          this._o.core.sessions,
          conn.sessionId,
          this._o.backpressure,
          this._o.metrics,
        );
        this._streams.set(conn, stream);
        stream.start(lastSeq);
      }
      return true;
    }
    conn.send('auth', {
      ok: true,
      scope: claims.scope,
      user_id: claims.sub,
      expires_at: isoFromEpoch(claims.exp),
    });
    return true;
  }

  private _reject(
    conn: ClientConnection,
    closeCode: number,
    code: 'UNAUTHORIZED' | 'NOT_FOUND' | 'RATE_LIMITED' | 'FORBIDDEN',
    message: string,
  ): void {
    conn.sendError(code, message, false);
    conn.close(closeCode, message);
  }

  private async _onMessage(conn: ClientConnection, raw: RawData, isBinary: boolean): Promise<void> {
    if (!conn.isOpen) return;
    this._o.metrics.messagesIn.inc({ type: 'any' });
    if (!conn.buckets.messages.take(1)) {
      this._o.core.logger.warn('ws message rate exceeded', { conn: conn.id, ip: conn.ip });
      this._reject(conn, WS_CLOSE.POLICY, 'RATE_LIMITED', 'message rate limit exceeded');
      return;
    }
    if (isBinary) {
      conn.sendError('MALFORMED_MESSAGE', 'binary frames are not accepted; send JSON text');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(rawToString(raw));
    } catch {
      conn.sendError('MALFORMED_MESSAGE', 'message is not valid JSON');
      return;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      conn.sendError('MALFORMED_MESSAGE', 'message must be a JSON object {type, data}');
      return;
    }
    const type = (json as { type?: unknown }).type;
    if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
      conn.sendError(
        'UNKNOWN_MESSAGE_TYPE',
        `unknown message type ${JSON.stringify(String(type).slice(0, 40))}`,
      );
      return;
    }
    const parsed = ClientMessageSchema.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'message'}: ${i.message}`)
        .join('; ');
      conn.sendError('VALIDATION_ERROR', `invalid ${type} message: ${detail}`);
      return;
    }
    const message = parsed.data;
    if (message.type === 'auth') {
      if (message.data.binary) conn.binaryOutput = true;
      await this._onAuth(conn, message.data.token, message.data.last_seq ?? conn.resumeAt);
      return;
    }
    if (!conn.claims) {
      this._reject(
        conn,
        WS_CLOSE.UNAUTHORIZED,
        'UNAUTHORIZED',
        'authenticate first: {"type":"auth","data":{"token":"<jwt>"}}',
      );
      return;
    }
    this._o.metrics.messagesIn.inc({ type: message.type });
    this._dispatch(conn, message);
  }

  private async _onAuth(conn: ClientConnection, token: string, lastSeq: number | null): Promise<void> {
    let claims: TokenClaims;
    try {
      claims = await this._verify(token, conn.ip);
    } catch (error) {
      const expired = error instanceof TokenError && error.expired;
      this._reject(
        conn,
        expired ? WS_CLOSE.TOKEN_EXPIRED : WS_CLOSE.UNAUTHORIZED,
        'UNAUTHORIZED',
        error instanceof TokenError ? error.message : 'invalid token',
      );
      return;
    }
    if (!conn.isOpen) return;
    conn.onAuthenticated?.();
    this._admit(conn, claims, lastSeq);
  }

  private _dispatch(conn: ClientConnection, message: Exclude<ClientMessage, { type: 'auth' }>): void {
    const sessions = this._o.core.sessions;
    switch (message.type) {
      case 'ping':
        conn.send('pong', {});
        return;
      case 'pong':
      case 'ack':
        // Remote viewers are not flow-controlled: acks are accepted and ignored.
        return;
      case 'resume': {
        const stream = this._streams.get(conn);
        if (!stream) {
          conn.sendError('VALIDATION_ERROR', 'resume is only valid on a session socket');
          return;
        }
        stream.start(message.data.last_seq);
        return;
      }
      default:
        break;
    }
    // Everything below drives the agent: control scope, a live session, and the rate buckets.
    const sessionId = conn.sessionId;
    if (!sessionId) {
      conn.sendError('VALIDATION_ERROR', `${message.type} is only valid on a session socket`);
      return;
    }
    if (!hasScope(conn.claims!.scope, 'control')) {
      conn.sendError('FORBIDDEN', `scope "read" cannot ${message.type}; a control token is required`);
      return;
    }
    const session = sessions.get(sessionId);
    if (!session || FINAL_STATES.has(session.state)) {
      conn.sendError('SESSION_NOT_RUNNING', `session ${sessionId} is not running`);
      return;
    }
    try {
      switch (message.type) {
        // Typing makes this viewer the one in use: it sets the PTY size (tmux's `window-size latest`).
        case 'input':
          if (!conn.buckets.inputChars.take(message.data.data.length)) {
            this._rateClose(conn, 'input');
            return;
          }
          sessions.focusView(sessionId, conn.id);
          sessions.input(sessionId, message.data.data);
          return;
        case 'command':
          if (!conn.buckets.inputChars.take(message.data.command.length)) {
            this._rateClose(conn, 'input');
            return;
          }
          sessions.focusView(sessionId, conn.id);
          // Delivery is confirmed on the agent's screen; a prompt it did not take is never silent.
          void sessions.command(sessionId, message.data.command).then((outcome) => {
            if (!outcome.ok && conn.isOpen)
              conn.sendError(
                'COMMAND_NOT_SUBMITTED',
                `the agent did not take the command: ${outcome.detail}`,
              );
          });
          return;
        case 'resize':
          if (!conn.buckets.resizes.take(1)) {
            this._rateClose(conn, 'resize');
            return;
          }
          sessions.resizeView(sessionId, conn.id, message.data.cols, message.data.rows);
          return;
        case 'focus':
          if (!conn.buckets.resizes.take(1)) {
            this._rateClose(conn, 'resize');
            return;
          }
          sessions.focusView(sessionId, conn.id);
          return;
        case 'cancel':
          sessions.interrupt(sessionId);
          return;
      }
    } catch (error) {
      const code = errorCodeOf(error);
      conn.sendError(
        code,
        code === 'INTERNAL' ? 'internal error' : error instanceof Error ? error.message : String(error),
      );
    }
  }

  private _rateClose(conn: ClientConnection, what: string): void {
    this._o.core.logger.warn('ws rate limit exceeded', { conn: conn.id, ip: conn.ip, what });
    this._reject(conn, WS_CLOSE.POLICY, 'RATE_LIMITED', `${what} rate limit exceeded`);
  }

  private _broadcastEvent(event: LiveEvent): void {
    for (const conn of this._connections) {
      if (conn.endpoint !== 'events' || !conn.claims || !conn.isOpen) continue;
      // Events are small; a dashboard that cannot keep up is dropped and re-lists on reconnect.
      if (conn.ws.bufferedAmount > this._o.backpressure.highWaterBytes) {
        conn.close(WS_CLOSE.TRY_AGAIN_LATER, 'event consumer too slow');
        continue;
      }
      conn.send('event', event);
    }
  }

  private _heartbeat(): void {
    for (const conn of this._connections) {
      if (!conn.alive) {
        this._o.core.logger.info('ws peer unresponsive, terminated', { conn: conn.id, ip: conn.ip });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {}
    }
  }

  private _sweepRevoked(): void {
    for (const conn of this._connections) {
      if (conn.claims && this._o.revocations.isRevoked(conn.claims.jti)) {
        this._reject(conn, WS_CLOSE.UNAUTHORIZED, 'UNAUTHORIZED', 'token revoked');
      }
    }
  }

  /** Close every socket (1001) and stop timers. */
  close(): void {
    for (const timer of this._timers) clearInterval(timer);
    this._disposables.dispose();
    for (const conn of this._connections) {
      conn.close(WS_CLOSE.GOING_AWAY, 'server shutting down');
    }
    for (const conn of this._connections) conn.ws.terminate();
    this._wss.close();
  }
}

function rawToString(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

function parseProtocols(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

function isoFromEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** Answer an upgrade request with a plain HTTP error (the socket never becomes a WebSocket). */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: message, error_code: code });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export { WebSocket };
