import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicApi } from './anthropic.ts';
import { geminiApi } from './gemini.ts';
import type { ApiHandler, HandlerContext, HandlerEvent } from './handler.ts';
import { parseJson, readBody, sendJson } from './http-util.ts';
import { openaiResponsesApi } from './openai-responses.ts';
import { DEFAULT_ANSWER, type MockApi, type MockEvent, type Turn } from './script.ts';

/**
 * A stand-in for the model services of Claude Code, Codex and the gemini CLI, on loopback, for the
 * real CLIs in the test suite. One server speaks all three APIs (routes and headers tell them apart).
 *
 * - Bounded lifetime: it closes itself (and every open stream) after `lifetimeMs` even if a test
 *   forgets to, so a hung test run never leaves a listener behind.
 * - Scripted: `script(...turns)` queues what the next conversational turns answer (see script.ts);
 *   side calls get canned answers without consuming the script.
 * - Observable: `events` is the ground truth of what the model side did and when (request seen,
 *   streaming started/ended, error returned, tool call sent, tool result received), and `requests`
 *   logs every request's shape so tests can check what the CLIs really send.
 */
export interface MockModelServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly events: readonly MockEvent[];
  readonly requests: readonly LoggedRequest[];
  /** Queue turns for the next main requests. */
  script(...turns: Turn[]): void;
  /** Turns not yet taken. */
  readonly pending: number;
  /** Drop a repeating error at the head of the queue (`times: Infinity`) and release held requests. */
  advance(): void;
  /** Answer requests held by a `hold` turn with the next turns. */
  release(): void;
  /** What unscripted main requests answer (default "OK."). */
  setDefaultTurn(turn: Turn): void;
  /** Resolves with the first event (already seen or coming) matching the predicate. */
  waitFor<E extends MockEvent>(
    predicate: (e: MockEvent) => e is E,
    timeoutMs?: number,
    since?: number,
  ): Promise<E>;
  waitFor(predicate: (e: MockEvent) => boolean, timeoutMs?: number, since?: number): Promise<MockEvent>;
  onEvent(listener: (e: MockEvent) => void): () => void;
  close(): Promise<void>;
}

export interface LoggedRequest {
  at: number;
  api: MockApi | null;
  role: 'main' | 'side' | null;
  method: string;
  path: string;
  query: string;
  /** Header names only (values may hold the test's fake keys). */
  headers: string[];
  /** Top-level body keys, model, stream flag, tool names: enough to check the request shape. */
  shape: { keys: string[]; model?: string; stream?: boolean; tools?: string[] };
  /** The parsed body, only with `keepBodies` (they are large: system prompts, tool schemas). */
  body?: unknown;
}

export interface MockModelOptions {
  /** Close after this long (default 10 minutes). */
  lifetimeMs?: number;
  /** Port (default: any free one). */
  port?: number;
  /** Keep every parsed request body in `requests` (for inspecting what a CLI sends). */
  keepBodies?: boolean;
}

const APIS: ApiHandler[] = [anthropicApi, openaiResponsesApi, geminiApi];

export async function startMockModelServer(options: MockModelOptions = {}): Promise<MockModelServer> {
  const events: MockEvent[] = [];
  const requests: LoggedRequest[] = [];
  const queue: Turn[] = [];
  const listeners = new Set<(e: MockEvent) => void>();
  const sockets = new Set<Socket>();
  let defaultTurn: Turn = { kind: 'text', text: DEFAULT_ANSWER };
  let held: Array<() => void> = [];
  let closed = false;

  const record = (e: MockEvent) => {
    events.push(e);
    for (const l of listeners) l(e);
  };

  /** The next turn for a main request; a repeating error stays at the head until used up. */
  const takeTurn = async (): Promise<Exclude<Turn, { kind: 'hold' }>> => {
    for (;;) {
      const head = queue[0];
      if (!head) return defaultTurn.kind === 'hold' ? { kind: 'text', text: DEFAULT_ANSWER } : defaultTurn;
      if (head.kind === 'hold') {
        await new Promise<void>((resolve) => held.push(resolve));
        if (queue[0] === head) queue.shift();
        continue;
      }
      if (head.kind === 'error' && (head.times ?? 1) > 1) {
        const left = (head.times ?? 1) - 1;
        queue[0] = { ...head, times: left };
        return head;
      }
      queue.shift();
      return head;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const text = await readBody(req);
    const body = parseJson(text);
    const handler = APIS.find((h) => h.matches(method, path, req.headers)) ?? null;
    const role = handler ? handler.classify(method, path, body) : null;
    requests.push({
      at: Date.now(),
      api: handler?.api ?? null,
      role,
      method,
      path,
      query: url.search,
      headers: Object.keys(req.headers).sort(),
      shape: {
        keys: body && typeof body === 'object' ? Object.keys(body) : [],
        ...(typeof body.model === 'string' ? { model: body.model } : {}),
        ...(typeof body.stream === 'boolean' ? { stream: body.stream } : {}),
        ...(Array.isArray(body.tools) ? { tools: toolNames(body.tools) } : {}),
      },
      ...(options.keepBodies ? { body } : {}),
    });
    if (!handler || role === null) {
      record({ type: 'unknown-route', at: Date.now(), method, path });
      sendJson(res, 404, { error: { message: `mock model: no route for ${method} ${path}` } });
      return;
    }
    const api = handler.api;
    const ctx: HandlerContext = {
      req,
      res,
      method,
      path,
      query: url.searchParams,
      body,
      emit: (e: HandlerEvent) => record({ ...e, api, at: Date.now() } as MockEvent),
    };
    record({ type: 'request', at: Date.now(), api, role, method, path });
    if (role === 'side') return handler.side(ctx);
    const result = handler.toolResult(body);
    if (result !== null) ctx.emit({ type: 'tool-result', text: result });
    return handler.main(ctx, await takeTurn());
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `mock model failed: ${String(error)}` } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const close = async () => {
    if (closed) return;
    closed = true;
    clearTimeout(lifetime);
    for (const release of held) release();
    held = [];
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await done;
  };
  const lifetime = setTimeout(() => void close(), options.lifetimeMs ?? 10 * 60_000);
  lifetime.unref();

  function waitFor(predicate: (e: MockEvent) => boolean, timeoutMs = 30_000, since = 0): Promise<MockEvent> {
    const seen = events.find((e) => e.at >= since && predicate(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(
            `mock model: no matching event within ${timeoutMs} ms; saw ${describe(events.slice(-8))}`,
          ),
        );
      }, timeoutMs);
      const off = onEvent((e) => {
        if (e.at >= since && predicate(e)) {
          clearTimeout(timer);
          off();
          resolve(e);
        }
      });
    });
  }
  function release(): void {
    const waiting = held;
    held = [];
    for (const resolve of waiting) resolve();
  }
  function onEvent(listener: (e: MockEvent) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    events,
    requests,
    script: (...turns) => queue.push(...turns),
    get pending() {
      return queue.length;
    },
    advance() {
      const head = queue[0];
      if (head && head.kind === 'error') queue.shift();
      release();
    },
    release,
    setDefaultTurn: (turn) => {
      defaultTurn = turn;
    },
    waitFor: waitFor as MockModelServer['waitFor'],
    onEvent,
    close,
  };
}

function toolNames(tools: unknown[]): string[] {
  return tools.flatMap((t) => {
    const tool = t as { name?: unknown; type?: unknown; functionDeclarations?: { name?: unknown }[] };
    if (Array.isArray(tool.functionDeclarations)) return tool.functionDeclarations.map((d) => String(d.name));
    return [String(tool.name ?? tool.type ?? '?')];
  });
}

function describe(events: MockEvent[]): string {
  return events.map((e) => `${e.type}${'status' in e ? `(${e.status})` : ''}`).join(', ') || 'nothing';
}
