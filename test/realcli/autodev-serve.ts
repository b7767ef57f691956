import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { issueToken } from '../../src-main/server/auth/tokens.ts';
import type { CreateSessionRequest, SessionInfo } from '../../src-shared/session.ts';
import { TOKEN_SUBPROTOCOL_PREFIX } from '../../src-shared/ws-protocol.ts';

/**
 * A real `autodev serve` process (bin/autodev.mjs) for end-to-end scenarios: its own data dir, a
 * providers file (e.g. binaries of the pinned agent CLIs), a known JWT secret so the test signs its
 * own control token, and an events WebSocket that records every session state as the UI receives it.
 */
export interface AutodevServe {
  readonly url: string;
  readonly token: string;
  readonly dataDir: string;
  /** Every stderr line (JSON logs). */
  readonly logs: string[];
  readonly events: EventsClient;
  api(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: Json }>;
  createSession(request: CreateSessionRequest): Promise<SessionInfo>;
  /** A session socket (control scope): output, status, and input. */
  openSessionSocket(sessionId: string): Promise<WebSocket>;
  stop(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the server under test, asserted by the callers
export type Json = any;

export interface StateSample {
  /** Arrival time in this process (Date.now()). */
  at: number;
  session: SessionInfo;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(root, 'bin', 'autodev.mjs');

export interface ServeOptions {
  /** Written to the providers file: `{ claude: { binary: '/…/claude' } }`. */
  providers?: Record<string, Record<string, unknown>>;
  /** Extra env for the server process (agents never see it: their env is filtered). */
  env?: Record<string, string>;
  /** Give up waiting for the URL after this long (default 60 s). */
  startTimeoutMs?: number;
  /** Where the data dir is created (default the OS temp dir). */
  dataDirParent?: string;
}

export async function startAutodevServe(options: ServeOptions = {}): Promise<AutodevServe> {
  const dataDir = mkdtempSync(path.join(options.dataDirParent ?? os.tmpdir(), 'autodev-realcli-'));
  const providersFile = path.join(dataDir, 'providers.json');
  writeFileSync(providersFile, JSON.stringify({ providers: options.providers ?? {} }));
  writeFileSync(path.join(dataDir, 'config.yaml'), `providers_file: ${JSON.stringify(providersFile)}\n`);
  const secret = randomBytes(32).toString('hex');
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir], {
    env: {
      PATH: process.env['PATH'],
      HOME: dataDir,
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      JWT_SECRET: secret,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stdout = '';
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines.filter((l) => l.length > 0));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let url: string;
  try {
    url = await until(
      () => /AutoDev dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1],
      options.startTimeoutMs ?? 60_000,
      () => `autodev serve did not print its URL; stderr:\n${logs.join('\n')}`,
      () => child.exitCode !== null,
    );
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const key = new TextEncoder().encode(secret);
  const { token } = await issueToken(key, { scope: 'control', ttlSeconds: 3600 });
  const events = await EventsClient.connect(url, token);

  const api: AutodevServe['api'] = async (method, pathname, body) => {
    const res = await fetch(`${url}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  };

  let stopped = false;
  return {
    url,
    token,
    dataDir,
    logs,
    events,
    api,
    async createSession(request) {
      const res = await api('POST', '/cli/sessions', request);
      if (res.status !== 201)
        throw new Error(
          `creating a ${request.cli_tool} session failed: ${res.status} ${JSON.stringify(res.body)}`,
        );
      return res.body.session as SessionInfo;
    },
    async openSessionSocket(sessionId) {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/cli/session/${sessionId}/ws`, [
        `${TOKEN_SUBPROTOCOL_PREFIX}${token}`,
      ]);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`session socket refused: ${res.statusCode}`)),
        );
      });
      return ws;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      events.close();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `/cli/events/ws`: every session's state changes, time-stamped on arrival. */
export class EventsClient {
  readonly samples: StateSample[] = [];
  private readonly _ws: WebSocket;
  private readonly _listeners = new Set<(s: StateSample) => void>();

  private constructor(ws: WebSocket) {
    this._ws = ws;
    ws.on('message', (raw) => {
      let msg: Json;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        return;
      }
      if (msg.type !== 'event') return;
      const kind = msg.data?.kind;
      if (kind !== 'session_created' && kind !== 'session_state' && kind !== 'session_exited') return;
      const sample = { at: Date.now(), session: msg.data.session as SessionInfo };
      this.samples.push(sample);
      for (const l of this._listeners) l(sample);
    });
  }

  static async connect(url: string, token: string): Promise<EventsClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/cli/events/ws`, [
      `${TOKEN_SUBPROTOCOL_PREFIX}${token}`,
    ]);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new EventsClient(ws);
  }

  forSession(sessionId: string): StateSample[] {
    return this.samples.filter((s) => s.session.session_id === sessionId);
  }

  onSample(listener: (s: StateSample) => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  close(): void {
    this._ws.close();
  }
}

export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs: number,
  what: string | (() => string),
  abort?: () => boolean,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline || abort?.())
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
