import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startMockModelServer } from './server.ts';

// The mock model service on its own, with plain HTTP clients: the wire format each API promises, the
// script (slow answers, tool calls, repeated errors, holds), side calls and the bounded lifetime. The
// real CLIs exercise it in test/realcli/ (and check what they send there, every run).

type Sse = { event: string | null; data: unknown }[];

function parseSse(text: string): Sse {
  return text
    .split('\n\n')
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? null;
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return { event, data: JSON.parse(data) };
    });
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

test('Anthropic Messages: a slow streamed answer, a tool_use turn, then errors with the documented bodies', async (t) => {
  const mock = await startMockModelServer();
  t.after(() => mock.close());
  mock.script(
    { kind: 'text', text: 'slow answer in pieces', durationMs: 800 },
    { kind: 'tool', command: 'touch x.txt' },
    { kind: 'error', status: 529 },
    { kind: 'error', status: 401 },
  );
  const turn = {
    model: 'claude-x',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
    tools: [{ name: 'Bash' }, { name: 'Read' }],
  };
  const h = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
  const started = Date.now();
  const text = await post(`${mock.url}/v1/messages?beta=true`, turn, h);
  assert.ok(Date.now() - started >= 700, 'streamed over the scripted duration');
  assert.equal(text.status, 200);
  assert.match(text.type, /text\/event-stream/);
  const events = parseSse(text.text);
  assert.deepEqual(
    [...new Set(events.map((e) => e.event))],
    [
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ],
  );
  const deltas = events.filter((e) => e.event === 'content_block_delta') as {
    data: { delta: { text: string } };
  }[];
  assert.ok(deltas.length >= 3);
  assert.equal(deltas.map((d) => d.data.delta.text).join(''), 'slow answer in pieces');
  assert.equal((events.at(-2)!.data as { delta: { stop_reason: string } }).delta.stop_reason, 'end_turn');

  const tool = parseSse((await post(`${mock.url}/v1/messages?beta=true`, turn, h)).text);
  const block = tool.find((e) => e.event === 'content_block_start')!.data as {
    content_block: { type: string; name: string };
  };
  assert.deepEqual([block.content_block.type, block.content_block.name], ['tool_use', 'Bash']);
  const json = tool
    .filter((e) => e.event === 'content_block_delta')
    .map((e) => (e.data as { delta: { partial_json: string } }).delta.partial_json)
    .join('');
  assert.equal(JSON.parse(json).command, 'touch x.txt');
  assert.equal(
    (tool.find((e) => e.event === 'message_delta')!.data as { delta: { stop_reason: string } }).delta
      .stop_reason,
    'tool_use',
  );

  // The tool result comes back in the next turn: the mock says so.
  const withResult = {
    ...turn,
    messages: [
      ...turn.messages,
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'done' }] },
    ],
  };
  const overloaded = await post(`${mock.url}/v1/messages?beta=true`, withResult, h);
  assert.equal(overloaded.status, 529);
  assert.deepEqual(JSON.parse(overloaded.text), {
    type: 'error',
    error: { type: 'overloaded_error', message: 'Overloaded' },
  });
  assert.equal((await post(`${mock.url}/v1/messages?beta=true`, turn, h)).status, 401);
  // Unscripted: a default answer. Side calls never take a scripted turn.
  assert.equal(
    JSON.parse((await post(`${mock.url}/v1/messages/count_tokens`, turn, h)).text).input_tokens > 0,
    true,
  );
  assert.equal((await fetch(`${mock.url}/api/hello`, { method: 'HEAD' })).status, 200);
  const types = mock.events.map((e) => e.type);
  assert.deepEqual(
    types.filter((ty) => ty !== 'request'),
    [
      'stream-start',
      'stream-end',
      'stream-start',
      'tool-call-sent',
      'stream-end',
      'tool-result',
      'error-sent',
      'error-sent',
    ],
  );
  assert.equal(mock.requests.filter((r) => r.role === 'main').length, 4);
  assert.deepEqual(mock.requests[0]!.shape.tools, ['Bash', 'Read']);
});

test('OpenAI Responses: events end in response.completed; the shell call asks for escalation; a titled side call gets schema-valid JSON', async (t) => {
  const mock = await startMockModelServer();
  t.after(() => mock.close());
  mock.script({ kind: 'tool', command: 'touch y.txt' }, { kind: 'text', text: 'Created.' });
  const h = { authorization: 'Bearer sk-x' };
  const turn = {
    model: 'm',
    stream: true,
    input: [{ type: 'message', role: 'user', content: [] }],
    tools: [{ type: 'function', name: 'exec_command' }],
  };
  const call = parseSse((await post(`${mock.url}/v1/responses`, turn, h)).text);
  assert.equal(call[0]!.event, 'response.created');
  assert.equal(call.at(-1)!.event, 'response.completed');
  const seq = call.map((e) => (e.data as { sequence_number: number }).sequence_number);
  assert.deepEqual(
    seq,
    seq.map((_, i) => i),
    'sequence numbers count up',
  );
  const item = (
    call.find((e) => e.event === 'response.output_item.done')!.data as {
      item: { type: string; name: string; arguments: string };
    }
  ).item;
  assert.deepEqual([item.type, item.name], ['function_call', 'exec_command']);
  const args = JSON.parse(item.arguments);
  assert.deepEqual([args.cmd, args.sandbox_permissions], ['touch y.txt', 'require_escalated']);

  const title = await post(
    `${mock.url}/v1/responses`,
    {
      model: 'm',
      stream: true,
      input: [],
      tools: [],
      text: {
        format: {
          type: 'json_schema',
          name: 'codex_output_schema',
          schema: {
            type: 'object',
            properties: { title: { type: 'string', minLength: 1, maxLength: 36 } },
            required: ['title'],
          },
        },
      },
    },
    h,
  );
  const done = parseSse(title.text).find((e) => e.event === 'response.output_text.done')!.data as {
    text: string;
  };
  assert.equal(typeof JSON.parse(done.text).title, 'string');
  // The title call did not take the scripted answer.
  const answer = parseSse(
    (
      await post(
        `${mock.url}/v1/responses`,
        { ...turn, input: [{ type: 'function_call_output', call_id: 'c', output: 'ok' }] },
        h,
      )
    ).text,
  );
  assert.equal(
    (answer.find((e) => e.event === 'response.output_text.done')!.data as { text: string }).text,
    'Created.',
  );
  assert.ok(mock.events.some((e) => e.type === 'tool-result' && e.text === 'ok'));
});

test('Gemini: streamGenerateContent as SSE and as a JSON array, function calls, router side calls, countTokens', async (t) => {
  const mock = await startMockModelServer();
  t.after(() => mock.close());
  mock.script(
    { kind: 'text', text: 'one two three four' },
    { kind: 'tool', command: 'touch z.txt' },
    { kind: 'text', text: 'array form' },
  );
  const tools = [{ functionDeclarations: [{ name: 'run_shell_command' }, { name: 'read_file' }] }];
  const sse = parseSse(
    (await post(`${mock.url}/v1beta/models/gemini-x:streamGenerateContent?alt=sse`, { contents: [], tools }))
      .text,
  );
  assert.ok(sse.length >= 2);
  type Chunk = {
    candidates: {
      content: { parts: { text?: string; functionCall?: { name: string; args: { command: string } } }[] };
      finishReason?: string;
    }[];
  };
  const chunks = sse.map((e) => e.data as Chunk);
  assert.equal(chunks.map((c) => c.candidates[0]!.content.parts[0]!.text).join(''), 'one two three four');
  assert.equal(chunks.at(-1)!.candidates[0]!.finishReason, 'STOP');
  assert.equal(chunks[0]!.candidates[0]!.finishReason, undefined);
  const call = parseSse(
    (await post(`${mock.url}/v1beta/models/gemini-x:streamGenerateContent?alt=sse`, { contents: [], tools }))
      .text,
  );
  const fc = (call[0]!.data as Chunk).candidates[0]!.content.parts[0]!.functionCall!;
  assert.deepEqual([fc.name, fc.args.command], ['run_shell_command', 'touch z.txt']);
  const array = JSON.parse(
    (await post(`${mock.url}/v1beta/models/gemini-x:streamGenerateContent`, { contents: [], tools })).text,
  ) as Chunk[];
  assert.equal(array.map((c) => c.candidates[0]!.content.parts[0]!.text).join(''), 'array form');
  // The model router asks for a JSON object by schema; the next-speaker check gets "user".
  const routed = await post(`${mock.url}/v1beta/models/flash-lite:generateContent`, {
    contents: [],
    generationConfig: {
      responseJsonSchema: {
        type: 'OBJECT',
        properties: { complexity_reasoning: { type: 'STRING' }, complexity_score: { type: 'INTEGER' } },
      },
    },
  });
  const routedJson = JSON.parse((JSON.parse(routed.text) as Chunk).candidates[0]!.content.parts[0]!.text!);
  assert.equal(typeof routedJson.complexity_score, 'number');
  const next = await post(`${mock.url}/v1beta/models/flash:generateContent`, {
    contents: [],
    generationConfig: {
      responseJsonSchema: {
        type: 'object',
        properties: { next_speaker: { type: 'string', enum: ['model', 'user'] } },
      },
    },
  });
  assert.equal(
    JSON.parse((JSON.parse(next.text) as Chunk).candidates[0]!.content.parts[0]!.text!).next_speaker,
    'user',
  );
  assert.ok(
    JSON.parse((await post(`${mock.url}/v1beta/models/gemini-x:countTokens`, { contents: [] })).text)
      .totalTokens > 0,
  );
  assert.equal(mock.requests.filter((r) => r.role === 'main').length, 3);
});

test('script: an error repeats for every retry until advance(); a held turn answers on release()', async (t) => {
  const mock = await startMockModelServer();
  t.after(() => mock.close());
  const turn = { contents: [], tools: [{ functionDeclarations: [{ name: 'run_shell_command' }] }] };
  const url = `${mock.url}/v1beta/models/g:streamGenerateContent?alt=sse`;
  mock.script(
    { kind: 'error', status: 500, times: Number.POSITIVE_INFINITY },
    { kind: 'hold' },
    { kind: 'text', text: 'after hold' },
  );
  for (let i = 0; i < 3; i++) assert.equal((await post(url, turn)).status, 500);
  const body = JSON.parse((await post(url, turn)).text);
  assert.deepEqual(body.error.status, 'INTERNAL');
  mock.advance();
  let answered = false;
  const held = post(url, turn).then((r) => {
    answered = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(answered, false, 'held until released');
  mock.release();
  const parts = parseSse((await held).text).map(
    (e) =>
      (e.data as { candidates: { content: { parts: { text: string }[] } }[] }).candidates[0]!.content
        .parts[0]!.text,
  );
  assert.equal(parts.join(''), 'after hold');
  assert.equal(mock.events.filter((e) => e.type === 'error-sent').length, 4);
  await mock.waitFor((e) => e.type === 'stream-end', 1000);
});

test('bounded lifetime: the server closes itself (and open streams) when its time is up', async () => {
  const mock = await startMockModelServer({ lifetimeMs: 400 });
  mock.script({ kind: 'hold' });
  const turn = { model: 'c', stream: true, messages: [], tools: [{ name: 'Bash' }] };
  const pending = post(`${mock.url}/v1/messages`, turn, { 'x-api-key': 'k' }).then(
    (r) => r.status,
    () => 'connection closed',
  );
  assert.equal((await fetch(`${mock.url}/api/hello`, { method: 'HEAD' })).status, 200);
  await new Promise((r) => setTimeout(r, 700));
  await assert.rejects(fetch(`${mock.url}/api/hello`, { method: 'HEAD' }));
  // The held request got no scripted answer: the mock closed (a default answer or a dropped socket).
  assert.notEqual(await pending, 401);
  await mock.close();
});
