import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small Anthropic Messages API on loopback for the API-fallback tests: `POST /v1/messages` with
 * `stream: true` answered as the real service does (SSE: message_start, content_block_*, ping,
 * message_delta with cumulative usage, message_stop), or with an error status and the API's error
 * body. Each request takes the next scripted reply (the last one repeats). It records every
 * request's headers and body, and whether the client closed the connection before the reply ended.
 */
export type MockReply =
  | {
      kind: 'stream';
      /** Text deltas, sent `delayMs` apart. */
      chunks: string[];
      usage: { input: number; output: number; cache_read: number; cache_write: number };
      stop_reason?: string;
      delayMs?: number;
      /** After the chunks, keep the connection open (pinging) instead of finishing: a slow model. */
      stall?: boolean;
    }
  | {
      kind: 'status';
      status: number;
      type: string;
      message: string;
      headers?: Record<string, string>;
    };

export interface MockRequest {
  /** When the request arrived (ms since the epoch). */
  at: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Text chunks written so far. */
  sent: number;
  /** The connection closed before the reply was complete (the client aborted). */
  abortedByClient: boolean;
  /** The reply was written completely. */
  finished: boolean;
}

export interface MockMessagesApi {
  url: string;
  requests: MockRequest[];
  /** Resolves when a request's connection has closed before its reply was complete. */
  waitForClientAbort(index: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startMockMessagesApi(script: MockReply[]): Promise<MockMessagesApi> {
  const requests: MockRequest[] = [];
  const abortWaiters = new Map<number, () => void>();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/messages') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: req.url } }));
      return;
    }
    const at = Date.now();
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const index = requests.length;
    const record: MockRequest = {
      at,
      headers: req.headers,
      body: JSON.parse(raw) as Record<string, unknown>,
      sent: 0,
      abortedByClient: false,
      finished: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (record.finished) return;
      record.abortedByClient = true;
      abortWaiters.get(index)?.();
    });
    const reply = script[Math.min(index, script.length - 1)]!;
    if (reply.kind === 'status') {
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'request-id': `req_mock_${index}`,
        ...reply.headers,
      });
      res.end(JSON.stringify({ type: 'error', error: { type: reply.type, message: reply.message } }));
      record.finished = true;
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (event: string, data: Record<string, unknown>) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const model = String(record.body.model);
    const u = reply.usage;
    send('message_start', {
      message: {
        id: `msg_mock_${index}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: u.input,
          cache_read_input_tokens: u.cache_read,
          cache_creation_input_tokens: u.cache_write,
          output_tokens: 1,
        },
      },
    });
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('ping', {});
    for (const chunk of reply.chunks) {
      if (res.destroyed) return;
      await sleep(reply.delayMs ?? 5);
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: chunk } });
      record.sent++;
    }
    if (reply.stall) {
      while (!res.destroyed) {
        send('ping', {});
        await sleep(100);
      }
      return;
    }
    send('content_block_stop', { index: 0 });
    send('message_delta', {
      delta: { stop_reason: reply.stop_reason ?? 'end_turn', stop_sequence: null },
      usage: { output_tokens: u.output },
    });
    send('message_stop', {});
    record.finished = true;
    res.end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    waitForClientAbort(index, timeoutMs = 10_000) {
      if (requests[index]?.abortedByClient) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`request ${index} was not aborted within ${timeoutMs} ms`)),
          timeoutMs,
        );
        abortWaiters.set(index, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
