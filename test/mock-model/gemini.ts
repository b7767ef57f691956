import { randomUUID } from 'node:crypto';
import type { ApiHandler, HandlerContext } from './handler.ts';
import { type Json, SseWriter, sendJson, sleep } from './http-util.ts';
import { fillSchema } from './schema-fill.ts';
import { chunkText, type Turn } from './script.ts';

/**
 * The Gemini API as the gemini CLI uses it with `GOOGLE_GEMINI_BASE_URL` (checked against gemini-cli
 * 0.61 requests): conversational turns are `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`
 * with the agent's function declarations; the model router, next-speaker and loop checks are
 * `:generateContent` with a `responseJsonSchema`; plus `:countTokens` and `GET /v1beta/models`.
 * Without `alt=sse` a stream is one JSON array written piece by piece, as the REST API does.
 */

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  529: 'UNAVAILABLE',
};

const MODEL_ACTION = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(\w+)$/;

export const geminiApi: ApiHandler = {
  api: 'gemini',
  matches(_method, path) {
    return /^\/v1(?:beta|alpha)?\/models/.test(path);
  },
  classify(_method, path, body) {
    const action = MODEL_ACTION.exec(path)?.[2];
    const tools: Json[] = Array.isArray(body.tools) ? body.tools : [];
    return action === 'streamGenerateContent' && tools.length > 0 ? 'main' : 'side';
  },
  async side(ctx) {
    const { path, body, res } = ctx;
    const m = MODEL_ACTION.exec(path);
    if (!m) {
      sendJson(res, 200, {
        models: [
          {
            name: 'models/gemini-mock',
            displayName: 'Mock',
            supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
          },
        ],
      });
      return;
    }
    const action = m[2];
    if (action === 'countTokens') {
      sendJson(res, 200, { totalTokens: Math.max(1, Math.round(JSON.stringify(body).length / 4)) });
      return;
    }
    const cfg = body.generationConfig ?? {};
    const schema = cfg.responseJsonSchema ?? cfg.responseSchema;
    const text = schema ? JSON.stringify(fillSchema(schema)) : 'Mock answer';
    if (action === 'streamGenerateContent') {
      await writeText(ctx, { kind: 'text', text }, false);
      return;
    }
    sendJson(res, 200, candidateChunk([{ text }], m[1]!, 'STOP'));
  },
  async main(ctx, turn) {
    if (turn.kind === 'error') return writeError(ctx, turn.status, turn.message);
    if (turn.kind === 'tool') return writeTool(ctx, turn);
    if (turn.kind === 'text') return writeText(ctx, turn, true);
  },
  toolResult(body) {
    const contents: Json[] = Array.isArray(body.contents) ? body.contents : [];
    const last = contents[contents.length - 1];
    const parts: Json[] = Array.isArray(last?.parts) ? last.parts : [];
    const fr = parts.find((p) => p?.functionResponse)?.functionResponse;
    if (!fr) return null;
    const response = fr.response ?? {};
    return typeof response.output === 'string' ? response.output : JSON.stringify(response);
  },
};

function modelOf(path: string): string {
  return MODEL_ACTION.exec(path)?.[1] ?? 'gemini-mock';
}

function candidateChunk(parts: Json[], model: string, finishReason?: string) {
  return {
    candidates: [{ content: { parts, role: 'model' }, index: 0, ...(finishReason ? { finishReason } : {}) }],
    usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 10, totalTokenCount: 110 },
    modelVersion: model,
    responseId: randomUUID().replace(/-/g, '').slice(0, 22),
  };
}

/** SSE (`alt=sse`) or a JSON array streamed element by element. */
class ChunkStream {
  private readonly _sse: SseWriter | null;
  private readonly _ctx: HandlerContext;
  private _first = true;

  constructor(ctx: HandlerContext) {
    this._ctx = ctx;
    if (ctx.query.get('alt') === 'sse') {
      this._sse = new SseWriter(ctx.res);
    } else {
      this._sse = null;
      ctx.res.writeHead(200, { 'content-type': 'application/json' });
      ctx.res.write('[');
    }
  }

  get alive(): boolean {
    return this._sse ? this._sse.alive : !this._ctx.res.writableEnded && !this._ctx.res.destroyed;
  }

  send(chunk: unknown): void {
    if (this._sse) {
      this._sse.send(chunk);
      return;
    }
    this._ctx.res.write(`${this._first ? '' : ',\n'}${JSON.stringify(chunk)}`);
    this._first = false;
  }

  end(): void {
    if (this._sse) {
      this._sse.end();
      return;
    }
    this._ctx.res.end(']');
  }
}

async function writeText(ctx: HandlerContext, turn: Extract<Turn, { kind: 'text' }>, main: boolean) {
  const model = modelOf(ctx.path);
  const stream = new ChunkStream(ctx);
  if (main) ctx.emit({ type: 'stream-start', turn: 'text' });
  const chunks = chunkText(
    turn.text,
    turn.chunks ?? (turn.durationMs ? Math.max(4, turn.durationMs / 250) : 8),
  );
  const gap = turn.durationMs ? turn.durationMs / chunks.length : 20;
  for (let i = 0; i < chunks.length; i++) {
    if (!stream.alive) break;
    const last = i === chunks.length - 1;
    stream.send(candidateChunk([{ text: chunks[i] }], model, last ? 'STOP' : undefined));
    if (!last) await sleep(gap);
  }
  stream.end();
  if (main) ctx.emit({ type: 'stream-end', turn: 'text' });
}

async function writeTool(ctx: HandlerContext, turn: Extract<Turn, { kind: 'tool' }>) {
  const decls: Json[] = (Array.isArray(ctx.body.tools) ? ctx.body.tools : []).flatMap((t: Json) =>
    Array.isArray(t?.functionDeclarations) ? t.functionDeclarations : [],
  );
  const name = decls.some((d) => d?.name === 'run_shell_command')
    ? 'run_shell_command'
    : String(decls.find((d) => /shell/.test(String(d?.name)))?.name ?? 'run_shell_command');
  const stream = new ChunkStream(ctx);
  ctx.emit({ type: 'stream-start', turn: 'tool' });
  stream.send(
    candidateChunk(
      [
        {
          functionCall: {
            name,
            args: { command: turn.command, description: turn.justification ?? 'Run a command' },
          },
        },
      ],
      modelOf(ctx.path),
      'STOP',
    ),
  );
  stream.end();
  ctx.emit({ type: 'tool-call-sent', tool: name, command: turn.command });
  ctx.emit({ type: 'stream-end', turn: 'tool' });
}

function writeError(ctx: HandlerContext, status: number, message?: string) {
  sendJson(ctx.res, status, {
    error: {
      code: status,
      message:
        message ??
        (status === 401 ? 'API key not valid. Please pass a valid API key.' : 'Internal error encountered.'),
      status: STATUS_NAMES[status] ?? 'UNKNOWN',
    },
  });
  ctx.emit({ type: 'error-sent', status });
}
