import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenScope } from '../../src-shared/ws-protocol.ts';
import { TokenRevocations } from './auth/revocation.ts';
import { issueToken, type TokenClaims, TokenError, verifyToken } from './auth/tokens.ts';
import { toHttpError } from './http/core-errors.ts';
import { isLoopback, peerAddress, RequestGuards } from './http/guards.ts';
import { applySecurityHeaders, HttpError, readJsonBody, sendError, sendJson } from './http/respond.ts';
import { type RouteModule, Router } from './http/router.ts';
import { defaultDashboardDir, serveDashboard } from './http/static.ts';
import {
  AuthFailureLimiter,
  type AuthFailurePolicy,
  type ConnectionCaps,
  ConnectionCounter,
} from './limits.ts';
import { ServerMetrics } from './metrics.ts';
import { conversationRoutes } from './routes/conversation.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { systemRoutes } from './routes/system.ts';
import { tasksRouteModule } from './routes/tasks.ts';
import { worktreeRoutes } from './routes/worktrees.ts';
import type { ServerCore } from './types.ts';
import { DEFAULT_RATE_LIMITS, type MessageRateLimits } from './ws/connection.ts';
import { HOW_TO_AUTHENTICATE, WsHub } from './ws/hub.ts';
import { type BackpressureOptions, DEFAULT_BACKPRESSURE } from './ws/output-stream.ts';

export interface WsTuning {
  /** Ping interval; a peer that misses one pong is terminated at the next tick (≤ 2 intervals). */
  heartbeatMs: number;
  /** First-message auth deadline. */
  authTimeoutMs: number;
  maxConnectionsPerSession: number;
  /** How often open sockets are checked against the persistent revocation list. */
  revocationCheckMs: number;
}

export const DEFAULT_WS_TUNING: WsTuning = {
  heartbeatMs: 20_000,
  authTimeoutMs: 5_000,
  maxConnectionsPerSession: 16,
  revocationCheckMs: 1_000,
};

export interface StartServerOptions {
  core: ServerCore;
  /** HMAC key from loadSigningSecret(). */
  signingKey: Uint8Array;
  /** Default 127.0.0.1. Anything but loopback requires allowLan. */
  host?: string;
  /** Default 8001; 0 picks a free port (see `port`/`url` of the result). */
  port?: number;
  /** Explicit acknowledgement for a non-loopback bind (plain HTTP on the LAN, token auth only). */
  allowLan?: boolean;
  /** Extra exact Origins allowed besides this server's own (e.g. `app://bundle`, a Vite dev server). */
  allowedOrigins?: string[];
  /** Extra Host names (hostname or hostname:port) this server answers to, e.g. a LAN DNS name. */
  allowedHosts?: string[];
  /** Built renderer to serve at `/`; null disables static hosting. Default: src-renderer/dist. */
  dashboardDir?: string | null;
  /** Additional route modules (tasks). */
  routes?: RouteModule[];
  revocations?: TokenRevocations;
  ws?: Partial<WsTuning>;
  rateLimits?: Partial<MessageRateLimits>;
  backpressure?: Partial<BackpressureOptions>;
  connectionCaps?: Partial<ConnectionCaps>;
  authFailures?: Partial<AuthFailurePolicy>;
  /** Slow-client limits: whole headers within headersMs (slowloris), whole request within requestMs. */
  timeouts?: Partial<{ headersMs: number; requestMs: number }>;
}

export interface RunningServer {
  /** Dashboard URL, e.g. `http://127.0.0.1:8001/`. */
  url: string;
  /** `ws://127.0.0.1:8001` (append `/cli/session/{id}/ws` or `/cli/events/ws`). */
  wsUrl: string;
  host: string;
  port: number;
  allowedOrigins: string[];
  metrics: ServerMetrics;
  revocations: TokenRevocations;
  /** Mint a token this server accepts (Electron shell, tests). */
  issueToken(scope: TokenScope, ttlSeconds?: number, subject?: string): Promise<string>;
  /** Revoke a token id now: open sockets using it close at once, later requests get 401. */
  revokeToken(jti: string): void;
  /** Stops accepting, closes every socket (1001), ends keep-alive connections. Does not close the core. */
  close(): Promise<void>;
}

export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
}

/**
 * The headless server: REST + WebSocket + dashboard on plain node:http. Loopback unless `allowLan`.
 * Every request passes the Host allow-list (DNS rebinding) and, when it carries one, the Origin
 * allow-list; every API route but /health needs `Authorization: Bearer <jwt>`.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !options.allowLan) {
    throw new ServerConfigError(
      `refusing to bind ${host}: a non-loopback address exposes agent terminals to the network; pass allowLan (--allow-lan) to confirm`,
    );
  }
  if (options.signingKey.byteLength < 32)
    throw new ServerConfigError('signing key must be at least 32 bytes');
  const { core } = options;
  const log = core.logger;
  const key = options.signingKey;
  const metrics = new ServerMetrics(core.sessions);
  const unregisterCoreMetrics = core.registerMetrics?.(metrics.registry) ?? (() => {});
  const revocations =
    options.revocations ??
    new TokenRevocations(
      core.store?.isTokenRevoked
        ? {
            isTokenRevoked: (jti) => core.store!.isTokenRevoked!(jti),
            revokeToken: core.store.revokeToken?.bind(core.store),
          }
        : null,
    );
  const authFailures = new AuthFailureLimiter({
    maxFailures: 20,
    windowMs: 60_000,
    baseLockoutMs: 5_000,
    maxLockoutMs: 5 * 60_000,
    ...options.authFailures,
  });
  const connections = new ConnectionCounter({ perIp: 32, global: 128, ...options.connectionCaps });
  const wsTuning = { ...DEFAULT_WS_TUNING, ...options.ws };
  const dashboardDir = options.dashboardDir === undefined ? defaultDashboardDir() : options.dashboardDir;

  const router = new Router();
  for (const route of [
    ...systemRoutes(metrics),
    ...sessionRoutes(),
    ...(core.worktrees ? worktreeRoutes() : []),
  ])
    router.add(route);
  const modules = [
    ...(core.tasks ? [tasksRouteModule(core.tasks)] : []),
    conversationRoutes(),
    ...(options.routes ?? []),
  ];
  for (const module of modules) for (const route of module(core)) router.add(route);

  let guards: RequestGuards | null = null;
  const getGuards = (): RequestGuards => {
    if (!guards) throw new Error('server not listening yet');
    return guards;
  };

  const hub = new WsHub({
    core,
    key,
    guards: getGuards,
    revocations,
    authFailures,
    connections,
    metrics,
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    backpressure: { ...DEFAULT_BACKPRESSURE, ...options.backpressure },
    heartbeatMs: wsTuning.heartbeatMs,
    authTimeoutMs: wsTuning.authTimeoutMs,
    maxConnectionsPerSession: wsTuning.maxConnectionsPerSession,
    revocationCheckMs: wsTuning.revocationCheckMs,
  });

  async function authenticate(req: IncomingMessage, ip: string): Promise<TokenClaims> {
    const header = req.headers.authorization;
    const match = header ? /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header) : null;
    if (!match) {
      throw new HttpError(
        401,
        'UNAUTHORIZED',
        'Authorization: Bearer <jwt> required (get one with `autodev token`)',
        undefined,
        {
          'WWW-Authenticate': 'Bearer realm="autodev"',
        },
      );
    }
    const locked = authFailures.lockedFor(ip);
    if (locked > 0) {
      throw new HttpError(429, 'RATE_LIMITED', 'too many authentication failures; retry later', undefined, {
        'Retry-After': String(Math.ceil(locked / 1000)),
      });
    }
    try {
      const claims = await verifyToken(key, match[1]!);
      if (revocations.isRevoked(claims.jti)) throw new TokenError('token revoked');
      authFailures.recordSuccess(ip);
      return claims;
    } catch (error) {
      authFailures.recordFailure(ip);
      const reason = error instanceof TokenError ? error.message : 'invalid token';
      log.warn('http authentication failed', { ip, reason });
      throw new HttpError(401, 'UNAUTHORIZED', reason, undefined, {
        'WWW-Authenticate': 'Bearer realm="autodev", error="invalid_token"',
      });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const ip = peerAddress(req.socket.remoteAddress);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = url.pathname;
    const method = req.method ?? 'GET';
    let routeLabel = 'static';
    applySecurityHeaders(res);
    try {
      const g = getGuards();
      if (!g.hostAllowed(req.headers.host)) {
        throw new HttpError(421, 'FORBIDDEN', "Host header is not one of this server's names");
      }
      const originHeader = req.headers.origin;
      const origin = g.checkOrigin(originHeader);
      if (origin === 'forbidden') throw new HttpError(403, 'FORBIDDEN', 'Origin is not allowed');
      if (origin === 'ok' && originHeader) {
        // Exact echo for allow-listed origins only; never `*`.
        res.setHeader('Access-Control-Allow-Origin', originHeader);
        res.setHeader('Vary', 'Origin');
      }
      if (method === 'OPTIONS') {
        if (origin !== 'ok') throw new HttpError(403, 'FORBIDDEN', 'preflight requires an allowed Origin');
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
      if (['token', 'access_token', 'jwt'].some((p) => url.searchParams.has(p))) {
        throw new HttpError(
          400,
          'UNAUTHORIZED',
          `${HOW_TO_AUTHENTICATE.split(';')[0]}; send Authorization: Bearer <jwt>`,
        );
      }
      const matched = router.match(method, pathname);
      if (matched === 'method')
        throw new HttpError(405, 'VALIDATION_ERROR', `${method} is not allowed on ${pathname}`);
      if (matched === null) {
        if (router.isApiPath(pathname))
          throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${pathname}`);
        if (dashboardDir === null) throw new HttpError(404, 'NOT_FOUND', 'dashboard hosting is disabled');
        serveDashboard(req, res, pathname, dashboardDir);
        return;
      }
      const { route, params } = matched;
      routeLabel = route.path;
      const auth = route.scope === null ? null : await authenticate(req, ip);
      if (auth && route.scope === 'control' && auth.scope !== 'control') {
        throw new HttpError(
          403,
          'FORBIDDEN',
          `scope "${auth.scope}" cannot ${method} ${route.path}; a control token is required`,
        );
      }
      const hostHeader = req.headers.host!;
      const result = await route.handler({
        req,
        res,
        params,
        query: url.searchParams,
        auth,
        core,
        body: () => readJsonBody(req),
        wsBase: `ws://${hostHeader}`,
      });
      if (result) sendJson(res, result.status, result.body, result.headers);
    } catch (error) {
      const httpError = toHttpError(error);
      if (httpError.code === 'INTERNAL') {
        log.error('request failed', {
          method,
          path: pathname,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      metrics.errors.inc({ code: httpError.code });
      if (!res.headersSent) sendError(res, httpError);
      else res.destroy();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpDuration.observe({ method, route: routeLabel, status: String(res.statusCode) }, seconds);
      // Path only: a query string may hold what someone mistook for a credential.
      log.debug('http request', {
        method,
        path: pathname,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
      });
    }
  }

  const headersMs = options.timeouts?.headersMs ?? 10_000;
  const requestMs = Math.max(headersMs, options.timeouts?.requestMs ?? 30_000);
  const server = createServer(
    {
      maxHeaderSize: 16 * 1024,
      requestTimeout: requestMs,
      headersTimeout: headersMs,
      // How often Node checks those deadlines (the 30 s default would let a slowloris linger 40 s).
      connectionsCheckingInterval: Math.min(1_000, headersMs),
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Malformed, oversized or too-slow requests never reach a handler; answer without echoing anything.
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8001, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  guards = new RequestGuards({
    bindHost: host,
    port,
    extraHosts: options.allowedHosts,
    extraOrigins: options.allowedOrigins,
  });
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const base = `http://${urlHost}:${port}`;
  log.info('server listening', {
    url: `${base}/`,
    host,
    port,
    lan: !isLoopback(host),
    dashboard: dashboardDir ?? 'disabled',
  });

  let closing: Promise<void> | null = null;
  return {
    url: `${base}/`,
    wsUrl: `ws://${urlHost}:${port}`,
    host,
    port,
    allowedOrigins: getGuards().allowedOrigins,
    metrics,
    revocations,
    async issueToken(scope, ttlSeconds, subject) {
      const issued = await issueToken(key, { scope, ttlSeconds, subject });
      core.store?.recordToken?.(issued.claims);
      return issued.token;
    },
    revokeToken(jti) {
      revocations.revoke(jti);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        hub.close();
        unregisterCoreMetrics();
        server.close(() => resolve());
        server.closeAllConnections();
        if (!options.revocations) revocations.dispose();
        log.info('server closed', { port });
      });
      return closing;
    },
  };
}
