import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { loadConfig } from '../../src-main/core/config.ts';
import { type Core, type CreateCoreOptions, createCore } from '../../src-main/core/core.ts';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { issueToken, type TokenClaims } from '../../src-main/server/auth/tokens.ts';
import { type RunningServer, type StartServerOptions, startServer } from '../../src-main/server/server.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { decodeOutputFrame } from '../../src-shared/ws-protocol.ts';

/** Parsed JSON from the server under test: tests index into it freely and assert on the values. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
export type Json = any;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestServer {
  core: Core;
  server: RunningServer;
  key: Uint8Array;
  dataDir: string;
  /** Every log line the core and server wrote. */
  logs: string[];
  base: string;
  origin: string;
  token(scope?: 'read' | 'control', ttlSeconds?: number): Promise<string>;
  tokenWithClaims(
    scope?: 'read' | 'control',
    ttlSeconds?: number,
  ): Promise<{ token: string; claims: TokenClaims }>;
  /** REST call with a control token unless `token` is given ('' = none). */
  api(
    method: string,
    pathname: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json; headers: Headers; text: string }>;
  createShell(body?: Record<string, unknown>): Promise<SessionInfo>;
  close(): Promise<void>;
}

type TestContext = { after(fn: () => unknown): void };

/**
 * A real core (real PTYs via the session manager, real SQLite in a temp dir) behind a real server on
 * 127.0.0.1:0. Everything is torn down when the test ends, pass or fail.
 */
export async function startTestServer(
  t: TestContext,
  options: Partial<Omit<StartServerOptions, 'core' | 'signingKey'>> & {
    coreOptions?: CreateCoreOptions;
    /** Extra or overridden providers: the user's providers file (JSON is YAML), written before start. */
    providers?: Record<string, unknown>;
    /** The data dir's config.yaml (JSON is YAML), written before start. */
    config?: Record<string, unknown>;
  } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-server-'));
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => logs.push(line) });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: dataDir,
    SHELL: '/bin/bash',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
  };
  const { coreOptions, providers, config: configFile, ...serverOptions } = options;
  if (configFile) writeFileSync(path.join(dataDir, 'config.yaml'), JSON.stringify(configFile));
  if (providers) {
    mkdirSync(path.join(dataDir, '.autodev'), { recursive: true });
    writeFileSync(path.join(dataDir, '.autodev', 'providers.yaml'), JSON.stringify({ providers }));
  }
  const config = loadConfig({ dataDir, env });
  const core = await createCore(config, {
    logger,
    env,
    // The task runner polls its queue; server tests that need it opt in.
    tasks: false,
    ...coreOptions,
    manager: { loginPath: async () => process.env['PATH'] ?? '/usr/bin:/bin', ...coreOptions?.manager },
  });
  const key = new Uint8Array(randomBytes(32));
  let server: RunningServer;
  try {
    server = await startServer({
      core,
      signingKey: key,
      host: '127.0.0.1',
      port: 0,
      dashboardDir: null,
      ...serverOptions,
    });
  } catch (error) {
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const base = server.url.replace(/\/$/, '');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await server.close();
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  t.after(close);
  const tokenWithClaims = (scope: 'read' | 'control' = 'control', ttlSeconds = 600) =>
    issueToken(key, { scope, ttlSeconds });
  const token = async (scope: 'read' | 'control' = 'control', ttlSeconds = 600) =>
    (await tokenWithClaims(scope, ttlSeconds)).token;
  const control = await token('control');
  const api: TestServer['api'] = async (method, pathname, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const bearer = o.token ?? control;
    if (bearer !== '') headers['authorization'] = `Bearer ${bearer}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${base}${pathname}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers, text };
  };
  return {
    core,
    server,
    key,
    dataDir,
    logs,
    base,
    origin: base,
    token,
    tokenWithClaims,
    api,
    async createShell(body = {}) {
      const res = await api('POST', '/cli/sessions', {
        body: { cli_tool: 'shell', cols: 100, rows: 30, ...body },
      });
      if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
      return res.body.session as SessionInfo;
    },
    close,
  };
}

export interface WsMessage {
  type: string;
  session_id?: string;
  data: Json;
  timestamp: string;
  message_id: string;
}

/** A ws client that records every message and close, with condition waits. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: WsMessage[] = [];
  closeCode: number | null = null;
  closeReason = '';
  unexpected: { status: number; body: string } | null = null;
  private readonly _waiters = new Set<() => void>();
  readonly opened: Promise<void>;

  constructor(
    url: string,
    options: { origin?: string | null; protocols?: string[]; wsOptions?: WebSocket.ClientOptions } = {},
  ) {
    const headers: Record<string, string> = {};
    this.ws = new WebSocket(url, options.protocols ?? [], {
      ...(options.origin ? { origin: options.origin } : {}),
      headers,
      ...options.wsOptions,
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () =>
        reject(new Error(`closed before open (${this.unexpected?.status ?? this.closeCode})`)),
      );
    });
    this.opened.catch(() => {});
    this.ws.on('message', (raw, isBinary) => {
      // Binary output frames become `output` messages (with `binary: true`) so tests read both alike.
      const frame = isBinary ? decodeOutputFrame(new Uint8Array(raw as Buffer)) : null;
      if (frame) {
        this.messages.push({
          type: 'output',
          data: { seq: frame.seq, output: Buffer.from(frame.bytes).toString('utf8'), binary: true },
          timestamp: '',
          message_id: '',
        });
        this._notify();
        return;
      }
      try {
        this.messages.push(JSON.parse(raw.toString()) as WsMessage);
      } catch {
        this.messages.push({ type: '__unparsable__', data: raw.toString(), timestamp: '', message_id: '' });
      }
      this._notify();
    });
    this.ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => {
        this.unexpected = { status: res.statusCode ?? 0, body };
        this.closeCode = -1;
        this._notify();
        this.ws.emit('close', -1, Buffer.from(''));
      });
    });
    this.ws.on('close', (code, reason) => {
      if (this.closeCode === null) {
        this.closeCode = code;
        this.closeReason = reason.toString();
      }
      this._notify();
    });
    this.ws.on('error', () => {});
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** First-message auth; `lastSeq` resumes after that seq (streaming starts at auth). */
  auth(token: string, lastSeq?: number): void {
    this.send({ type: 'auth', data: lastSeq === undefined ? { token } : { token, last_seq: lastSeq } });
  }

  /** Wait until `predicate` holds (checked on every message/close), failing after `timeoutMs`. */
  waitFor<T>(
    predicate: () => T | undefined | null | false,
    timeoutMs = 20_000,
    what = 'condition',
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const value = predicate();
        if (value) {
          cleanup();
          resolve(value);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${what}; last messages: ${JSON.stringify(this.messages.slice(-3)).slice(0, 800)} close=${this.closeCode}`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this._waiters.delete(waiter);
      };
      const waiter = (): void => {
        check();
      };
      if (check()) return;
      this._waiters.add(waiter);
    });
  }

  waitForType(type: string, timeoutMs = 20_000, from = 0): Promise<WsMessage> {
    return this.waitFor(
      () => this.messages.slice(from).find((m) => m.type === type),
      timeoutMs,
      `a ${type} message`,
    );
  }

  waitClosed(timeoutMs = 20_000): Promise<number> {
    return this.waitFor(
      () => (this.closeCode !== null ? { code: this.closeCode } : null),
      timeoutMs,
      'close',
    ).then((v) => v.code);
  }

  /** Concatenated output text and the seqs seen, in arrival order. */
  output(): { text: string; seqs: number[] } {
    const outs = this.messages.filter((m) => m.type === 'output');
    return {
      text: outs.map((m) => m.data.output as string).join(''),
      seqs: outs.map((m) => m.data.seq as number),
    };
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate();
  }

  private _notify(): void {
    for (const waiter of [...this._waiters]) waiter();
  }
}

/** Session socket URL for `id` on `server`. */
export function sessionWsUrl(server: RunningServer, id: string): string {
  return `${server.wsUrl}/cli/session/${encodeURIComponent(id)}/ws`;
}

/** Connect, authenticate by first message resuming from `lastSeq` (null: the current screen first);
 *  resolves once `auth` is answered. */
export async function openViewer(
  ts: TestServer,
  sessionId: string,
  options: { token?: string; lastSeq?: number | null } = {},
): Promise<TestClient> {
  const client = new TestClient(sessionWsUrl(ts.server, sessionId), { origin: ts.origin });
  await client.opened;
  const token = options.token ?? (await ts.token('control'));
  if (options.lastSeq === null) client.auth(token);
  else client.auth(token, options.lastSeq ?? 0);
  await client.waitForType('auth');
  return client;
}

/** Poll `fn` until it returns truthy (for state outside a ws client). */
export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sequence numbers must be contiguous: returns the first gap or duplicate, or null. */
export function seqProblem(seqs: number[]): string | null {
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1]! + 1) return `seq ${seqs[i - 1]} followed by ${seqs[i]}`;
  }
  return null;
}
