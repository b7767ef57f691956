import type { IncomingMessage, ServerResponse } from 'node:http';

/** Parsed request JSON: the shapes belong to three different APIs; handlers read what they need. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies of three external APIs, read defensively
export type Json = any;

export async function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`request body over ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

export function parseJson(text: string): Json {
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * A server-sent-events response that can be paced. `alive` turns false when the client hung up (the
 * user pressed Esc): writers stop instead of writing into a dead socket.
 */
export class SseWriter {
  private readonly _res: ServerResponse;
  private _alive = true;

  constructor(res: ServerResponse, headers: Record<string, string> = {}) {
    this._res = res;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...headers,
    });
    res.flushHeaders();
    res.on('close', () => {
      this._alive = false;
    });
  }

  get alive(): boolean {
    return this._alive && !this._res.writableEnded;
  }

  /** One SSE record; `event` is omitted for APIs that only use `data:` lines (Gemini, plain OpenAI). */
  send(data: unknown, event?: string): void {
    if (!this.alive) return;
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    this._res.write(`${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`);
  }

  end(): void {
    if (!this._res.writableEnded) this._res.end();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
