import { randomUUID } from 'node:crypto';
import type { ApiHandler, HandlerContext } from './handler.ts';
import { type Json, SseWriter, sendJson, sleep } from './http-util.ts';
import { fillSchema } from './schema-fill.ts';
import { chunkText, type Turn } from './script.ts';

/**
 * The Anthropic Messages API as Claude Code uses it (checked against claude-cli 2.1.x requests):
 * `POST /v1/messages?beta=true` with `stream: true` and the agent's tools for conversational turns,
 * `POST /v1/messages/count_tokens`, `GET /v1/models`, and `HEAD /api/hello` (a connectivity check at
 * start). Streaming follows the documented event sequence: message_start, content_block_start, ping,
 * content_block_delta…, content_block_stop, message_delta (stop_reason), message_stop.
 */

const ERROR_TYPES: Record<number, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

export const anthropicApi: ApiHandler = {
  api: 'anthropic',
  matches(_method, path, headers) {
    if (path === '/api/hello') return true;
    if (path.startsWith('/v1/messages')) return true;
    return (
      path === '/v1/models' &&
      (headers['x-api-key'] !== undefined || headers['anthropic-version'] !== undefined)
    );
  },
  classify(_method, path, body) {
    return path === '/v1/messages' && Array.isArray(body.tools) && body.tools.length > 0 ? 'main' : 'side';
  },
  async side(ctx) {
    const { path, method, body, res } = ctx;
    if (path === '/api/hello') {
      res.writeHead(200).end();
      return;
    }
    if (path === '/v1/models') {
      sendJson(res, 200, {
        data: [
          { type: 'model', id: 'claude-mock', display_name: 'Mock', created_at: '2026-01-01T00:00:00Z' },
        ],
        has_more: false,
        first_id: 'claude-mock',
        last_id: 'claude-mock',
      });
      return;
    }
    if (path === '/v1/messages/count_tokens') {
      sendJson(res, 200, { input_tokens: approxTokens(body) });
      return;
    }
    if (path === '/v1/messages' && method === 'POST') {
      // A side question (title, summary, classifier): a short answer, JSON when a schema is asked for.
      const schema = body.output_config?.format?.schema ?? body.output_format?.schema;
      await writeText(
        ctx,
        { kind: 'text', text: schema ? JSON.stringify(fillSchema(schema)) : 'Mock title' },
        false,
      );
      return;
    }
    sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } });
  },
  async main(ctx, turn) {
    if (turn.kind === 'error') return writeError(ctx, turn.status, turn.message);
    if (turn.kind === 'tool') return writeTool(ctx, turn);
    if (turn.kind === 'text') return writeText(ctx, turn, true);
  },
  toolResult(body) {
    const messages: Json[] = Array.isArray(body.messages) ? body.messages : [];
    const last = [...messages].reverse().find((m) => m?.role === 'user');
    const blocks: Json[] = Array.isArray(last?.content) ? last.content : [];
    const result = blocks.find((b) => b?.type === 'tool_result');
    if (!result) return null;
    const content = result.content;
    if (typeof content === 'string') return content;
    if (Array.isArray(content)) return content.map((c: Json) => c?.text ?? '').join('\n');
    return '';
  },
};

function approxTokens(body: Json): number {
  return Math.max(1, Math.round(JSON.stringify(body ?? {}).length / 4));
}

function messageStart(model: string, id: string) {
  return {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 12,
        output_tokens: 1,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    },
  };
}

async function writeText(ctx: HandlerContext, turn: Extract<Turn, { kind: 'text' }>, main: boolean) {
  const model = String(ctx.body.model ?? 'claude-mock');
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  if (ctx.body.stream !== true) {
    sendJson(ctx.res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: turn.text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: Math.max(1, turn.text.length >> 2) },
    });
    return;
  }
  const sse = new SseWriter(ctx.res, { 'request-id': `req_${id}` });
  if (main) ctx.emit({ type: 'stream-start', turn: 'text' });
  sse.send(messageStart(model, id), 'message_start');
  sse.send(
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    'content_block_start',
  );
  sse.send({ type: 'ping' }, 'ping');
  const chunks = chunkText(
    turn.text,
    turn.chunks ?? (turn.durationMs ? Math.max(4, turn.durationMs / 250) : 8),
  );
  const gap = turn.durationMs ? turn.durationMs / chunks.length : 20;
  for (const text of chunks) {
    if (!sse.alive) break;
    sse.send(
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
      'content_block_delta',
    );
    await sleep(gap);
  }
  sse.send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
  sse.send(
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: Math.max(1, turn.text.length >> 2) },
    },
    'message_delta',
  );
  sse.send({ type: 'message_stop' }, 'message_stop');
  sse.end();
  if (main) ctx.emit({ type: 'stream-end', turn: 'text' });
}

async function writeTool(ctx: HandlerContext, turn: Extract<Turn, { kind: 'tool' }>) {
  const tools: Json[] = Array.isArray(ctx.body.tools) ? ctx.body.tools : [];
  const name = tools.some((t) => t?.name === 'Bash') ? 'Bash' : String(tools[0]?.name ?? 'Bash');
  const model = String(ctx.body.model ?? 'claude-mock');
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const input = JSON.stringify({ command: turn.command, description: turn.justification ?? 'Run a command' });
  const sse = new SseWriter(ctx.res, { 'request-id': `req_${id}` });
  ctx.emit({ type: 'stream-start', turn: 'tool' });
  sse.send(messageStart(model, id), 'message_start');
  sse.send(
    {
      type: 'content_block_start',
      index: 0,
      content_block: {
        type: 'tool_use',
        id: `toolu_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        name,
        input: {},
      },
    },
    'content_block_start',
  );
  for (const part of chunkText(input, 3)) {
    sse.send(
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: part } },
      'content_block_delta',
    );
    await sleep(20);
  }
  sse.send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
  sse.send(
    {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 30 },
    },
    'message_delta',
  );
  sse.send({ type: 'message_stop' }, 'message_stop');
  sse.end();
  ctx.emit({ type: 'tool-call-sent', tool: name, command: turn.command });
  ctx.emit({ type: 'stream-end', turn: 'tool' });
}

function writeError(ctx: HandlerContext, status: number, message?: string) {
  const [type, text] = ERROR_TYPES[status] ?? ['api_error', `Error ${status}`];
  sendJson(
    ctx.res,
    status,
    { type: 'error', error: { type, message: message ?? text } },
    { 'x-should-retry': 'false', 'request-id': `req_${randomUUID().replace(/-/g, '')}` },
  );
  ctx.emit({ type: 'error-sent', status });
}
