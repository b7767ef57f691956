import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { safeEqual } from './files.ts';

/** What the relay posts (relay-script.ts), validated here. */
export interface RelayPost {
  session_id: string;
  source: string;
  /** Epoch ms when the relay started (orders racing relays). */
  at: number;
  payload: Record<string, string | number | boolean>;
}

export interface SignalEndpointOptions {
  /** The random per-start token (manifest); every request must carry it. */
  token: string;
  /** Checks a session's credential; false for unknown sessions too. */
  verify(sessionId: string, mac: string): boolean;
  /** A verified post. Returning false answers 404 (a session AutoDev no longer watches). */
  onPost(post: RelayPost): boolean;
  /** Largest body accepted (default 64 KiB; the relay slims payloads far below that). */
  maxBodyBytes?: number;
}

export interface SignalEndpoint {
  readonly url: string;
  readonly port: number;
  /** Requests answered, by outcome (diagnostics and tests). */
  readonly counts: Readonly<Record<'accepted' | 'rejected' | 'unknown', number>>;
  close(): Promise<void>;
}

const MAX_SOURCE = 64;

/**
 * The per-session signal endpoint: HTTP on 127.0.0.1, random port, one route (`POST /v1/signal`).
 * Only a caller that can read the manifest (the token, 0600 in the data dir) and knows a session's
 * credential (given to that session's agent only) can post for that session. It is not reachable from
 * browsers: requests with an Origin header are refused, the Host header must be the loopback address
 * itself (DNS rebinding), and the custom headers would need a CORS preflight that is never answered.
 */
export async function startSignalEndpoint(options: SignalEndpointOptions): Promise<SignalEndpoint> {
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const counts = { accepted: 0, rejected: 0, unknown: 0 };
  const sockets = new Set<Socket>();
  let port = 0;

  const reject = (res: ServerResponse, status: number, message: string) => {
    counts.rejected++;
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(message);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/v1/signal') return reject(res, 404, 'not found');
    if (req.headers.origin !== undefined) return reject(res, 403, 'browsers may not post signals');
    if (req.headers.host !== `127.0.0.1:${port}`) return reject(res, 403, 'bad host');
    const token = header(req, 'x-autodev-token');
    const sessionId = header(req, 'x-autodev-session');
    const mac = header(req, 'x-autodev-mac');
    if (token === null || !safeEqual(token, options.token)) return reject(res, 401, 'bad token');
    if (sessionId === null || mac === null || !options.verify(sessionId, mac))
      return reject(res, 401, 'bad session credential');
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return reject(res, 415, 'json only');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        tooBig = true;
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooBig) return;
      const post = parsePost(sessionId, Buffer.concat(chunks).toString('utf8'));
      if (post === null) return reject(res, 400, 'bad body');
      if (!options.onPost(post)) {
        counts.unknown++;
        res.writeHead(404, { connection: 'close' }).end();
        return;
      }
      counts.accepted++;
      res.writeHead(204).end();
    });
    req.on('error', () => {});
  };

  const server: Server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.headersTimeout = 2000;
  server.requestTimeout = 3000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  server.unref();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : null;
}

function parsePost(sessionId: string, text: string): RelayPost | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const { source, at, payload } = value as Record<string, unknown>;
  if (typeof source !== 'string' || source.length === 0 || source.length > MAX_SOURCE) return null;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const flat: Record<string, string | number | boolean> = {};
  for (const [key, v] of Object.entries(payload)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') flat[key] = v;
  }
  return { session_id: sessionId, source, at, payload: flat };
}
