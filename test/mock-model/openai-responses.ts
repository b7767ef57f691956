import { randomUUID } from 'node:crypto';
import type { ApiHandler, HandlerContext } from './handler.ts';
import { type Json, SseWriter, sendJson, sleep } from './http-util.ts';
import { fillSchema } from './schema-fill.ts';
import { chunkText, type Turn } from './script.ts';

/**
 * The OpenAI Responses API as Codex uses it with a custom `model_providers` entry
 * (`wire_api = "responses"`; checked against codex-cli 0.171 requests): `POST /v1/responses` with
 * `stream: true`. Conversational turns carry the agent's tools (`exec_command`…); the task-title side
 * call has no tools and a `text.format` JSON schema. Events follow the documented sequence:
 * response.created, response.in_progress, response.output_item.added, (content_part.added,
 * output_text.delta…, output_text.done, content_part.done | function_call_arguments.delta…, .done),
 * response.output_item.done, response.completed.
 */

const ERROR_BODIES: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request' },
  401: {
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    message: 'Incorrect API key provided: sk-m***',
  },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' },
  500: {
    type: 'server_error',
    code: null,
    message: 'The server had an error while processing your request.',
  },
  503: {
    type: 'server_error',
    code: null,
    message: 'The engine is currently overloaded, please try again later',
  },
};

export const openaiResponsesApi: ApiHandler = {
  api: 'openai',
  matches(_method, path, headers) {
    if (path === '/v1/responses' || path.startsWith('/v1/responses/')) return true;
    return path === '/v1/models' && typeof headers.authorization === 'string';
  },
  classify(_method, path, body) {
    if (path !== '/v1/responses') return 'side';
    const structured = body?.text?.format?.type === 'json_schema';
    return Array.isArray(body.tools) && body.tools.length > 0 && !structured ? 'main' : 'side';
  },
  async side(ctx) {
    const { path, body, res } = ctx;
    if (path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: 'mock-model', object: 'model', owned_by: 'mock' }] });
      return;
    }
    if (path === '/v1/responses') {
      const schema = body?.text?.format?.schema;
      const text = schema ? JSON.stringify(fillSchema(schema)) : 'Mock title';
      await writeText(ctx, { kind: 'text', text }, false);
      return;
    }
    sendJson(res, 404, { error: { message: `no route ${path}`, type: 'invalid_request_error', code: null } });
  },
  async main(ctx, turn) {
    if (turn.kind === 'error') return writeError(ctx, turn.status, turn.message);
    if (turn.kind === 'tool') return writeTool(ctx, turn);
    if (turn.kind === 'text') return writeText(ctx, turn, true);
  },
  toolResult(body) {
    const input: Json[] = Array.isArray(body.input) ? body.input : [];
    const last = input[input.length - 1];
    if (last?.type !== 'function_call_output') return null;
    const output = last.output;
    if (typeof output === 'string') return output;
    if (Array.isArray(output)) return output.map((o: Json) => o?.text ?? '').join('\n');
    return JSON.stringify(output ?? '');
  },
};

class ResponseStream {
  readonly id = `resp_${randomUUID().replace(/-/g, '')}`;
  private _seq = 0;
  readonly sse: SseWriter;
  private readonly _model: string;

  constructor(ctx: HandlerContext) {
    this._model = String(ctx.body.model ?? 'mock-model');
    this.sse = new SseWriter(ctx.res, { 'x-request-id': `req_${randomUUID()}` });
  }

  send(type: string, fields: Record<string, unknown>): void {
    this.sse.send({ type, sequence_number: this._seq++, ...fields }, type);
  }

  response(status: string, output: unknown[], usage?: Record<string, unknown>) {
    return {
      id: this.id,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      status,
      model: this._model,
      output,
      ...(usage ? { usage } : {}),
    };
  }

  start(): void {
    this.send('response.created', { response: this.response('in_progress', []) });
    this.send('response.in_progress', { response: this.response('in_progress', []) });
  }

  complete(output: unknown[], outputTokens: number): void {
    this.send('response.completed', {
      response: this.response('completed', output, {
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 100 + outputTokens,
      }),
    });
    this.sse.end();
  }
}

async function writeText(ctx: HandlerContext, turn: Extract<Turn, { kind: 'text' }>, main: boolean) {
  const stream = new ResponseStream(ctx);
  if (main) ctx.emit({ type: 'stream-start', turn: 'text' });
  stream.start();
  const itemId = `msg_${randomUUID().replace(/-/g, '')}`;
  stream.send('response.output_item.added', {
    output_index: 0,
    item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
  });
  stream.send('response.content_part.added', {
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    part: { type: 'output_text', text: '', annotations: [] },
  });
  const chunks = chunkText(
    turn.text,
    turn.chunks ?? (turn.durationMs ? Math.max(4, turn.durationMs / 250) : 8),
  );
  const gap = turn.durationMs ? turn.durationMs / chunks.length : 20;
  for (const delta of chunks) {
    if (!stream.sse.alive) break;
    stream.send('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta });
    await sleep(gap);
  }
  const part = { type: 'output_text', text: turn.text, annotations: [] };
  stream.send('response.output_text.done', {
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    text: turn.text,
  });
  stream.send('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part });
  const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
  stream.send('response.output_item.done', { output_index: 0, item });
  stream.complete([item], Math.max(1, turn.text.length >> 2));
  if (main) ctx.emit({ type: 'stream-end', turn: 'text' });
}

/** The shell tool the request offers, with arguments that ask for approval (escalation). */
function shellCall(tools: Json[], command: string, justification: string): { name: string; args: unknown } {
  const names = new Set(tools.map((t) => t?.name));
  if (names.has('exec_command'))
    return {
      name: 'exec_command',
      args: { cmd: command, sandbox_permissions: 'require_escalated', justification },
    };
  if (names.has('shell_command'))
    return {
      name: 'shell_command',
      args: { command, sandbox_permissions: 'require_escalated', justification },
    };
  return {
    name: 'shell',
    args: { command: ['bash', '-lc', command], with_escalated_permissions: true, justification },
  };
}

async function writeTool(ctx: HandlerContext, turn: Extract<Turn, { kind: 'tool' }>) {
  const tools: Json[] = Array.isArray(ctx.body.tools) ? ctx.body.tools : [];
  const { name, args } = shellCall(
    tools,
    turn.command,
    turn.justification ?? `Do you want to run ${turn.command}?`,
  );
  const argText = JSON.stringify(args);
  const stream = new ResponseStream(ctx);
  ctx.emit({ type: 'stream-start', turn: 'tool' });
  stream.start();
  const id = `fc_${randomUUID().replace(/-/g, '')}`;
  const callId = `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  stream.send('response.output_item.added', {
    output_index: 0,
    item: { id, type: 'function_call', status: 'in_progress', call_id: callId, name, arguments: '' },
  });
  for (const delta of chunkText(argText, 3)) {
    stream.send('response.function_call_arguments.delta', { item_id: id, output_index: 0, delta });
    await sleep(20);
  }
  stream.send('response.function_call_arguments.done', { item_id: id, output_index: 0, arguments: argText });
  const item = { id, type: 'function_call', status: 'completed', call_id: callId, name, arguments: argText };
  stream.send('response.output_item.done', { output_index: 0, item });
  stream.complete([item], 30);
  ctx.emit({ type: 'tool-call-sent', tool: name, command: turn.command });
  ctx.emit({ type: 'stream-end', turn: 'tool' });
}

function writeError(ctx: HandlerContext, status: number, message?: string) {
  const known = ERROR_BODIES[status] ?? { type: 'server_error', code: null, message: `Error ${status}` };
  sendJson(ctx.res, status, { error: { ...known, message: message ?? known.message, param: null } });
  ctx.emit({ type: 'error-sent', status });
}
