// Talking to agents over REST and what it costs, through the real core and server: fixture agents
// drawing Claude Code's, Codex's and Gemini CLI's interfaces in real PTYs (the bundled providers' data,
// binary replaced in providers.yaml), their records written under the session's HOME, SQLite in a temp
// dir, the events channel over a real WebSocket, /metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture } from '../core/sessions/helpers.ts';
import { type Json, startTestServer, TestClient, type TestServer } from './harness.ts';

const FIXTURES = {
  claude: { binary: process.execPath, interactive_args: [fixture('fake-claude.mjs')] },
  codex: { binary: process.execPath, interactive_args: [fixture('fake-codex.mjs')] },
  gemini: { binary: process.execPath, interactive_args: [fixture('fake-gemini.mjs')] },
};

// Sonnet prices (claude's bundled list): 1000 in × $3 + 200 out × $15 + 5000 cache reads × $0.30 +
// 300 cache writes × $3.75, per million.
const TURN_USD = (1000 * 3 + 200 * 15 + 5000 * 0.3 + 300 * 3.75) / 1e6;

async function startAgent(
  ts: TestServer,
  cliTool: string,
  env: Record<string, string> = {},
): Promise<string> {
  const created = await ts.api('POST', '/cli/sessions', {
    body: {
      cli_tool: cliTool,
      working_directory: ts.dataDir,
      env: { HOME: ts.dataDir, FAKE_WORK_MS: '600', ...env },
    },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.session_id as string;
  const deadline = Date.now() + 15_000;
  while (ts.core.sessions.get(id)?.state !== 'waiting_input') {
    if (Date.now() > deadline) throw new Error(`${cliTool} never became ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return id;
}

test('POST /message answers with the reply (record), usage and times; GET /messages has the turn; the events channel carries it', async (t) => {
  const ts = await startTestServer(t, { providers: FIXTURES });
  const events = new TestClient(`${ts.server.wsUrl}/cli/events/ws`, { origin: ts.origin });
  await events.opened;
  events.auth(await ts.token('read'));
  await events.waitForType('auth');
  const id = await startAgent(ts, 'claude', {
    FAKE_REPLY: 'Line one.\n\n    code line\nLast line.',
    FAKE_RECORD: '1',
    FAKE_MODEL: 'claude-sonnet-4-5-20250929',
  });
  const res = await ts.api('POST', `/cli/sessions/${id}/message`, { body: { content: 'explain parser.ts' } });
  assert.equal(res.status, 200, res.text);
  const body = res.body as Json;
  assert.equal(body.reply, 'Line one.\n\n    code line\nLast line.');
  assert.equal(body.reply_source, 'record');
  assert.equal(body.state, 'waiting_input');
  assert.equal(typeof body.turn_id, 'string');
  assert.ok(Date.parse(body.ended_at) >= Date.parse(body.started_at));
  assert.equal(body.usage.input_tokens, 1000);
  assert.equal(body.usage.cache_write_tokens, 300);
  assert.ok(Math.abs(body.usage.cost_usd - TURN_USD) < 1e-12);

  const view = await ts.api('GET', `/cli/sessions/${id}/messages`, { token: await ts.token('read') });
  assert.equal(view.status, 200);
  assert.equal(view.body.source, 'record');
  assert.deepEqual(
    view.body.messages.map((m: Json) => [m.id, m.role, m.content, m.turn_id === body.turn_id, m.origin]),
    [
      [0, 'user', 'explain parser.ts', true, 'api'],
      [1, 'agent', 'Line one.\n\n    code line\nLast line.', true, 'api'],
    ],
  );

  const turnEvents = () =>
    events.messages
      .filter((m) => m.type === 'event' && m.data.kind === 'conversation')
      .map((m) => m.data.turn);
  await events.waitFor(() => turnEvents().some((e: Json) => e.phase === 'ended'), 10_000, 'ended event');
  const ended = turnEvents().find((e: Json) => e.phase === 'ended');
  assert.equal(ended.turn_id, body.turn_id);
  assert.equal(ended.reply, body.reply);
  assert.ok(turnEvents().some((e: Json) => e.phase === 'started' && e.turn_id === body.turn_id));
  // The usage event follows the turn (the record was read again).
  await events.waitFor(
    () =>
      events.messages.some(
        (m) => m.type === 'event' && m.data.kind === 'usage' && m.data.usage.session_id === id,
      ),
    10_000,
    'usage event',
  );
  events.close();
});

test('POST /message: bad bodies are 400 naming the field; unknown sessions 404; a read token 403', async (t) => {
  const ts = await startTestServer(t, { providers: FIXTURES });
  const id = await startAgent(ts, 'claude');
  for (const [body, field] of [
    [{}, 'content'],
    [{ content: '   ' }, 'content'],
    [{ content: 'x', timeout_s: 0 }, 'timeout_s'],
    [{ content: 'x', queue: 'yes' }, 'queue'],
    [{ content: 'x', extra: 1 }, 'body'],
  ] as const) {
    const res = await ts.api('POST', `/cli/sessions/${id}/message`, { body });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error_code, 'VALIDATION_ERROR');
    assert.ok(JSON.stringify(res.body.details).includes(field === 'body' ? 'extra' : field), res.text);
  }
  const missing = await ts.api('POST', '/cli/sessions/nope/message', { body: { content: 'x' } });
  assert.equal(missing.status, 404);
  const readOnly = await ts.api('POST', `/cli/sessions/${id}/message`, {
    body: { content: 'x' },
    token: await ts.token('read'),
  });
  assert.equal(readOnly.status, 403);
  // Nothing was sent to the agent by the refused requests.
  assert.deepEqual(ts.core.sessions.get(id)?.command_history, []);
});

test('409 AGENT_BUSY with queue:false while the agent answers; 504 TURN_TIMEOUT with the answer so far, and the turn ends later', async (t) => {
  // The request outlives the server's request timeout: that limit is on receiving requests only.
  const ts = await startTestServer(t, {
    providers: FIXTURES,
    timeouts: { headersMs: 1000, requestMs: 1500 },
  });
  const steps = Array.from({ length: 6 }, (_, i) => `step ${i + 1}`).join('\n');
  const id = await startAgent(ts, 'codex', { FAKE_REPLY: steps, FAKE_STREAM: '1', FAKE_WORK_MS: '5000' });
  const slow = ts.api('POST', `/cli/sessions/${id}/message`, {
    body: { content: 'count slowly', timeout_s: 2.5 },
  });
  await new Promise((r) => setTimeout(r, 800));
  const busy = await ts.api('POST', `/cli/sessions/${id}/message`, {
    body: { content: 'me too', queue: false },
  });
  assert.equal(busy.status, 409);
  assert.equal(busy.body.error_code, 'AGENT_BUSY');
  assert.match(busy.body.state, /running|processing/);
  assert.equal(busy.body.queued, 0);
  const timedOut = await slow;
  assert.equal(timedOut.status, 504, timedOut.text);
  assert.equal(timedOut.body.error_code, 'TURN_TIMEOUT');
  const partial = timedOut.body.partial;
  assert.equal(partial.ended_at, null);
  assert.match(partial.reply, /^step 1(\nstep \d)*$/);
  assert.doesNotMatch(partial.reply, /step 6|Working|esc to interrupt|›/);
  // The turn goes on; the conversation shows it finished.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const view = await ts.api('GET', `/cli/sessions/${id}/messages`);
    const agent = view.body.messages.find((m: Json) => m.role === 'agent' && m.turn_id === partial.turn_id);
    if (agent && !agent.partial) {
      assert.equal(agent.content, steps);
      break;
    }
    if (Date.now() > deadline) throw new Error(`the turn never ended: ${view.text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

test('usage: per session, per provider and per day over REST, in /metrics, and for an ended session after a restart of nothing', async (t) => {
  const ts = await startTestServer(t, { providers: FIXTURES });
  const env = { FAKE_RECORD: '1', FAKE_USAGE: '1000,200,5000,300' };
  const claude = await startAgent(ts, 'claude', { ...env, FAKE_MODEL: 'claude-sonnet-4-5-20250929' });
  const codex = await startAgent(ts, 'codex', { ...env, FAKE_MODEL: 'gpt-5-codex' });
  const gemini = await startAgent(ts, 'gemini', { ...env, FAKE_MODEL: 'gemini-no-such-model' });
  for (const id of [claude, claude, codex, gemini]) {
    const res = await ts.api('POST', `/cli/sessions/${id}/message`, {
      body: { content: `hello ${Math.random()}` },
    });
    assert.equal(res.status, 200, res.text);
  }
  const one = await ts.api('GET', `/cli/sessions/${claude}/usage`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.totals.calls, 2);
  assert.equal(one.body.totals.input_tokens, 2000);
  assert.ok(Math.abs(one.body.totals.cost_usd - 2 * TURN_USD) < 1e-12);
  assert.equal(one.body.models[0].model, 'claude-sonnet-4-5-20250929');
  assert.equal(one.body.conversation_id, ts.core.sessions.get(claude)?.conversation_id);
  assert.equal(one.body.days.length, 1);

  // codex: gpt-5-codex at $1.25 in / $0.125 cached / $10 out; OpenAI's cached input is a cache read.
  const codexUsage = (await ts.api('GET', `/cli/sessions/${codex}/usage`)).body;
  assert.equal(codexUsage.totals.input_tokens, 1000);
  assert.equal(codexUsage.totals.cache_read_tokens, 5000);
  assert.ok(Math.abs(codexUsage.totals.cost_usd - (1000 * 1.25 + 200 * 10 + 5000 * 0.125) / 1e6) < 1e-12);
  // gemini with a model that has no price: tokens count, the cost does not, and it says so.
  const geminiUsage = (await ts.api('GET', `/cli/sessions/${gemini}/usage`)).body;
  assert.equal(geminiUsage.totals.output_tokens, 200);
  // Gemini's input count includes its cached part: that part is a cache read here.
  assert.equal(geminiUsage.totals.input_tokens, 1000);
  assert.equal(geminiUsage.totals.cache_read_tokens, 5000);
  assert.equal(geminiUsage.totals.cost_usd, 0);
  assert.equal(geminiUsage.totals.unpriced_calls, 1);

  const report = await ts.api('GET', '/usage?days=7', { token: await ts.token('read') });
  assert.equal(report.status, 200);
  assert.deepEqual(
    report.body.providers.map((p: Json) => [p.cli_tool, p.calls]),
    [
      ['claude', 2],
      ['codex', 1],
      ['gemini', 1],
    ],
  );
  assert.equal(report.body.days.length, 1);
  assert.equal(report.body.days[0].day, report.body.until_day);
  assert.equal(report.body.days[0].calls, 4);
  assert.deepEqual(
    report.body.sessions.map((s: Json) => s.session_id),
    [claude, codex, gemini],
  );
  assert.equal(report.body.budgets.daily, null);
  const bad = await ts.api('GET', '/usage?days=0');
  assert.equal(bad.status, 400);

  const metrics = await ts.api('GET', '/metrics');
  assert.match(metrics.text, /autodev_session_tokens_total\{cli_tool="claude",kind="input"\} 2000/);
  assert.match(metrics.text, /autodev_session_model_calls_total\{cli_tool="gemini",priced="false"\} 1/);
  const cost = Number(
    /autodev_session_cost_usd_today\{cli_tool="claude"\} ([0-9.e-]+)/.exec(metrics.text)?.[1],
  );
  assert.ok(Math.abs(cost - 2 * TURN_USD) < 1e-9, metrics.text);

  // An ended session keeps its figures (stored).
  await ts.api('DELETE', `/cli/sessions/${claude}`);
  const after = await ts.api('GET', `/cli/sessions/${claude}/usage`);
  assert.equal(after.body.totals.calls, 2);
  // A session that never had a record has no usage.
  const shell = await ts.createShell();
  assert.equal((await ts.api('GET', `/cli/sessions/${shell.session_id}/usage`)).status, 404);
});

test('budgets: past the per-session amount with action "stop", new turns are refused (402 over REST, an error for a WS command); "warn" only announces', async (t) => {
  const ts = await startTestServer(t, {
    providers: FIXTURES,
    config: { usage: { budgets: { session_usd: TURN_USD * 1.5, action: 'stop' } } },
  });
  const events = new TestClient(`${ts.server.wsUrl}/cli/events/ws`, { origin: ts.origin });
  await events.opened;
  events.auth(await ts.token('read'));
  await events.waitForType('auth');
  const id = await startAgent(ts, 'claude', { FAKE_RECORD: '1', FAKE_MODEL: 'claude-sonnet-4-5' });
  for (const n of [1, 2]) {
    const res = await ts.api('POST', `/cli/sessions/${id}/message`, { body: { content: `turn ${n}` } });
    assert.equal(res.status, 200, res.text);
  }
  // The second turn crossed 1.5 turns' worth: announced once on the events channel.
  await events.waitFor(
    () => events.messages.some((m) => m.type === 'event' && m.data.kind === 'budget'),
    10_000,
    'budget event',
  );
  const budget = events.messages.find((m) => m.type === 'event' && m.data.kind === 'budget')!.data.budget;
  assert.deepEqual([budget.scope, budget.action, budget.session_id], ['session', 'stop', id]);
  const refused = await ts.api('POST', `/cli/sessions/${id}/message`, { body: { content: 'turn 3' } });
  assert.equal(refused.status, 402, refused.text);
  assert.equal(refused.body.error_code, 'BUDGET_EXCEEDED');
  assert.match(refused.body.error, /session budget reached/);
  // The `command` message of a viewer is refused too; the agent never sees the prompt.
  const viewer = new TestClient(`${ts.server.wsUrl}/cli/session/${id}/ws`, { origin: ts.origin });
  await viewer.opened;
  viewer.auth(await ts.token('control'));
  await viewer.waitForType('auth');
  viewer.send({ type: 'command', data: { command: 'turn 4' } });
  const error = await viewer.waitFor(
    () => viewer.messages.find((m) => m.type === 'error' && m.data.error_code === 'BUDGET_EXCEEDED'),
    10_000,
    'budget error',
  );
  assert.match(error.data.error, /session budget reached/);
  assert.deepEqual(ts.core.sessions.get(id)?.command_history, ['turn 1', 'turn 2']);
  const report = await ts.api('GET', '/usage');
  assert.equal(report.body.budgets.action, 'stop');
  assert.equal(report.body.budgets.sessions[0].session_id, id);
  viewer.close();
  events.close();
});
