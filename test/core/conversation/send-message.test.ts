// POST /message's core: a prompt sent to a real PTY session of a fixture agent that draws each
// provider's interface (boxes, spinners, the echoed prompt, the input box, status lines), and the exact
// answer back — from the agent's record when it writes one (FAKE_RECORD), else from the screen.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { ConversationError } from '../../../src-main/core/conversation/index.ts';
import { SendMessageRequestSchema } from '../../../src-shared/conversation.ts';
import { asFixture, conversationRig } from './helpers.ts';

const MULTILINE = [
  'Here is the plan:',
  '',
  '1. Read the config file',
  '2. Fix the bug in {prompt}',
  '',
  '    const x = 1;',
  '',
  'Done.',
].join('\n');

const expected = (prompt: string) => MULTILINE.replaceAll('{prompt}', prompt);
const send = (content: string, extra: Record<string, unknown> = {}) =>
  SendMessageRequestSchema.parse({ content, timeout_s: 20, ...extra });

const AGENTS = [
  { id: 'claude', script: 'fake-claude.mjs' },
  { id: 'codex', script: 'fake-codex.mjs' },
  { id: 'gemini', script: 'fake-gemini.mjs' },
] as const;

for (const agent of AGENTS) {
  test(`${agent.id} (fixture, no record): the reply is the answer from the screen, without the interface`, async (t) => {
    const rig = await conversationRig(t, [asFixture(agent.id, agent.script)]);
    const s = await rig.start(agent.id, { FAKE_REPLY: MULTILINE });

    const first = await rig.conversations.send(s.session_id, send('parser.ts'));
    assert.equal(first.status, 'answered');
    if (first.status !== 'answered') return;
    assert.equal(first.reply.reply, expected('parser.ts'));
    assert.equal(first.reply.reply_source, 'screen');
    assert.equal(first.reply.state, 'waiting_input');
    assert.ok(first.reply.ended_at && first.reply.ended_at >= first.reply.started_at);

    // The same answer text twice in a row: the second reply is still the whole answer (the old one is
    // on the screen, the diff is anchored, not "lines not seen before").
    const second = await rig.conversations.send(s.session_id, send('parser.ts'));
    assert.equal(second.status, 'answered');
    if (second.status === 'answered') {
      assert.equal(second.reply.reply, expected('parser.ts'));
      assert.notEqual(second.reply.turn_id, first.reply.turn_id);
    }
  });

  test(`${agent.id} (fixture with its record): the reply is the record's answer, with the turn's usage`, async (t) => {
    const rig = await conversationRig(t, [asFixture(agent.id, agent.script)]);
    const s = await rig.start(agent.id, {
      FAKE_REPLY: MULTILINE,
      FAKE_RECORD: '1',
      FAKE_USAGE: '100,20,0,0',
    });
    const out = await rig.conversations.send(s.session_id, send('lexer.ts'));
    assert.equal(out.status, 'answered');
    if (out.status !== 'answered') return;
    assert.equal(out.reply.reply, expected('lexer.ts'));
    assert.equal(out.reply.reply_source, 'record');
    assert.equal(out.reply.usage?.input_tokens, 100);
    assert.equal(out.reply.usage?.output_tokens, 20);
    assert.equal(out.reply.usage?.calls, 1);
  });
}

test('the turn is announced on the events channel: started, then ended with the reply', async (t) => {
  const rig = await conversationRig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const s = await rig.start('claude', { FAKE_REPLY: 'Fine.' });
  const out = await rig.conversations.send(s.session_id, send('hello'));
  assert.equal(out.status, 'answered');
  const mine = rig.events.filter((e) => e.origin === 'api');
  assert.deepEqual(
    mine.map((e) => e.phase),
    ['started', ...mine.slice(1, -1).map(() => 'progress'), 'ended'],
  );
  const ended = mine[mine.length - 1]!;
  assert.equal(ended.reply, 'Fine.');
  assert.equal(ended.prompt, 'hello');
  assert.equal(ended.turn_id, out.status === 'answered' ? out.reply.turn_id : '');
});

test('a timeout answers with what the agent printed so far; the turn goes on and ends on its own', async (t) => {
  const rig = await conversationRig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const lines = Array.from({ length: 8 }, (_, i) => `step ${i + 1}`).join('\n');
  const s = await rig.start('claude', { FAKE_REPLY: lines, FAKE_STREAM: '1', FAKE_WORK_MS: '6000' });
  const started = Date.now();
  const out = await rig.conversations.send(s.session_id, send('work slowly', { timeout_s: 3 }));
  assert.equal(out.status, 'timeout');
  if (out.status !== 'timeout') return;
  assert.ok(Date.now() - started < 5500, 'answered at the timeout, not at the end of the turn');
  assert.equal(out.partial.ended_at, null);
  // Some of the answer was printed, not all of it, and none of the interface (spinner, input box).
  assert.match(out.partial.reply, /^step 1\n/);
  assert.doesNotMatch(out.partial.reply, /step 8|esc to interrupt|Thinking|❯/);
  for (const line of out.partial.reply.split('\n')) assert.match(line, /^step \d$/);
  // The turn ends later: the events channel carries the final reply.
  const ended = await new Promise<(typeof rig.events)[number]>((resolve) => {
    const hit = () => rig.events.find((e) => e.turn_id === out.partial.turn_id && e.phase === 'ended');
    const timer = setInterval(() => {
      const e = hit();
      if (e) {
        clearInterval(timer);
        resolve(e);
      }
    }, 50);
  });
  assert.equal(ended.reply, lines);
  assert.ok(rig.events.some((e) => e.turn_id === out.partial.turn_id && e.phase === 'timeout'));
  // While it worked, the events channel had its answer so far (progress), growing, never the interface.
  const progress = rig.events.filter((e) => e.turn_id === out.partial.turn_id && e.phase === 'progress');
  assert.ok(progress.length >= 1, 'progress events');
  for (const e of progress) assert.match(e.reply ?? '', /^step 1(\nstep \d)*$/);
});

test('queue: false on a working agent is refused (AGENT_BUSY); queued messages are answered in order', async (t) => {
  const rig = await conversationRig(t, [asFixture('codex', 'fake-codex.mjs')]);
  const s = await rig.start('codex', { FAKE_REPLY: 'answer to {prompt}', FAKE_WORK_MS: '1200' });
  const a = rig.conversations.send(s.session_id, send('one'));
  const b = rig.conversations.send(s.session_id, send('two'));
  const c = rig.conversations.send(s.session_id, send('three'));
  await assert.rejects(
    rig.conversations.send(s.session_id, send('impatient', { queue: false })),
    (e: unknown) => e instanceof ConversationError && e.error_code === 'AGENT_BUSY',
  );
  const replies = await Promise.all([a, b, c]);
  assert.deepEqual(
    replies.map((r) => (r.status === 'answered' ? r.reply.reply : r.status)),
    ['answer to one', 'answer to two', 'answer to three'],
  );
  // In order: each turn started after the one before it ended.
  const turns = replies.map((r) => (r.status === 'answered' ? r.reply : null)!);
  for (let i = 1; i < turns.length; i++)
    assert.ok(turns[i]!.started_at >= (turns[i - 1]!.ended_at as string));
  // queue: false on a ready agent goes through.
  const now = await rig.conversations.send(s.session_id, send('four', { queue: false }));
  assert.equal(now.status === 'answered' && now.reply.reply, 'answer to four');
});

test('a permission question ends the API turn with the question; a person answering continues the turn', async (t) => {
  const rig = await conversationRig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const s = await rig.start('claude', { FAKE_REPLY: 'Removed it.' });
  const out = await rig.conversations.send(s.session_id, send('run bash to clean up'));
  assert.equal(out.status, 'answered');
  if (out.status !== 'answered') return;
  assert.equal(out.reply.state, 'waiting_input');
  assert.match(out.reply.state_reason.rule ?? '', /permission/);
  assert.match(out.reply.reply, /Do you want to proceed\?/);
  // A message sent now waits: the agent is asking a question, not at its prompt.
  await assert.rejects(
    rig.conversations.send(s.session_id, send('next', { queue: false })),
    (e: unknown) => e instanceof ConversationError && e.error_code === 'AGENT_BUSY',
  );
  rig.manager.input(s.session_id, '1');
  const ended = await waitForEvent(
    rig.events,
    (e) =>
      e.turn_id === out.reply.turn_id && e.phase === 'ended' && e.reply?.includes('Removed it.') === true,
  );
  assert.match(ended.reply ?? '', /Removed it\.$/);
});

test('messages: turns typed by a person are reconstructed (screen), and API turns keep their ids', async (t) => {
  const rig = await conversationRig(t, [asFixture('gemini', 'fake-gemini.mjs')]);
  const s = await rig.start('gemini', { FAKE_REPLY: 'ok: {prompt}' });
  // A person types in the terminal.
  rig.manager.input(s.session_id, 'typed by hand');
  await new Promise((r) => setTimeout(r, 200));
  rig.manager.input(s.session_id, '\r');
  await waitForEvent(rig.events, (e) => e.origin === 'person' && e.phase === 'ended');
  const api = await rig.conversations.send(s.session_id, send('sent by api'));
  assert.equal(api.status, 'answered');
  const view = rig.conversations.messages(s.session_id);
  assert.equal(view.source, 'screen');
  assert.deepEqual(
    view.messages.map((m) => [m.role, m.content, m.origin]),
    [
      ['user', 'typed by hand', 'person'],
      ['agent', 'ok: typed by hand', 'person'],
      ['user', 'sent by api', 'api'],
      ['agent', 'ok: sent by api', 'api'],
    ],
  );
  assert.equal(view.messages[2]!.turn_id, api.status === 'answered' ? api.reply.turn_id : '');
  assert.deepEqual(
    view.messages.map((m) => m.id),
    [0, 1, 2, 3],
  );
});

test('messages from the record: a turn typed by a person, an API turn, in order, with the record ids mapped', async (t) => {
  const rig = await conversationRig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const s = await rig.start('claude', { FAKE_REPLY: 'ok: {prompt}', FAKE_RECORD: '1' });
  rig.manager.input(s.session_id, 'by hand\r');
  await waitForEvent(rig.events, (e) => e.origin === 'person' && e.phase === 'ended');
  const api = await rig.conversations.send(s.session_id, send('by api'));
  assert.equal(api.status === 'answered' && api.reply.reply_source, 'record');
  const view = rig.conversations.messages(s.session_id);
  assert.equal(view.source, 'record');
  assert.equal(view.conversation_id, rig.manager.get(s.session_id)?.conversation_id);
  assert.deepEqual(
    view.messages.map((m) => [m.role, m.content, m.origin]),
    [
      ['user', 'by hand', 'person'],
      ['agent', 'ok: by hand', 'person'],
      ['user', 'by api', 'api'],
      ['agent', 'ok: by api', 'api'],
    ],
  );
  assert.equal(view.messages[3]!.turn_id, api.status === 'answered' ? api.reply.turn_id : '');
});

test('an ended session refuses messages (SESSION_NOT_RUNNING); an unknown one is NOT_FOUND', async (t) => {
  const rig = await conversationRig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const s = await rig.start('claude');
  await rig.manager.terminate(s.session_id);
  await assert.rejects(
    rig.conversations.send(s.session_id, send('hi')),
    (e: unknown) => e instanceof ConversationError && e.error_code === 'SESSION_NOT_RUNNING',
  );
  await assert.rejects(
    rig.conversations.send('no-such-session', send('hi')),
    (e: unknown) => e instanceof ConversationError && e.error_code === 'NOT_FOUND',
  );
  assert.ok(!existsSync('/nonexistent'));
});

async function waitForEvent<E>(events: E[], ok: (e: E) => boolean, timeoutMs = 15_000): Promise<E> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = events.find(ok);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error('event did not come');
    await new Promise((r) => setTimeout(r, 50));
  }
}
