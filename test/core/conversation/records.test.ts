// The agents' own records: real files written by claude 2.1.332, codex 0.171.0 and gemini 0.61.0
// against the mock model service (long lines shortened, API-request dumps removed), read by the
// parsers; the incremental reader on a growing file; the locator under a temporary HOME.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recordTurns } from '../../../src-main/core/conversation/record-turns.ts';
import {
  locateById,
  locateCandidates,
  RECORD_PARSERS,
  RecordReader,
} from '../../../src-main/core/conversation/records/index.ts';
import { claudeProjectDir } from '../../../src-main/core/conversation/records/locate.ts';
import type { RecordSpec } from '../../../src-main/core/providers/conversation-spec.ts';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import { tempDir } from './helpers.ts';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/conversation/real');
const PLAN_MD =
  'Here is the plan:\n\n1. Read the **config** file\n2. Fix `the bug`\n\n```js\nconst x = 1;\n```\n\nDone — all good.';
const LONG = Array.from({ length: 45 }, (_, i) => `Line ${i + 1} of a long answer.`).join('\n');

const REAL = [
  {
    format: 'claude-jsonl',
    file: 'claude-transcript.jsonl',
    id: '245f5e32-a46c-4adf-b133-1c1a6dd52e92',
    model: 'claude-opus-5-5',
    input: [12, 12, 12, 12],
    output: [26, 1, 290, 1],
  },
  {
    format: 'codex-rollout',
    file: 'codex-rollout.jsonl',
    id: '01a2426f-1bbd-7223-b7f4-8a25ca7dba39',
    model: 'mock-model',
    input: [100, 100, 100, 100],
    output: [26, 1, 290, 1],
  },
  {
    format: 'gemini-chat',
    file: 'gemini-chat.jsonl',
    id: '2dc29d4b-5baa-4df9-812e-7c767e806ee1',
    model: 'gemini-3.8-flash',
    input: [100, 100, 100, 100],
    output: [10, 10, 10, 10],
  },
] as const;

for (const r of REAL) {
  test(`${r.format} (real record): prompts and answers in order, the conversation id, usage per model call`, () => {
    const reader = new RecordReader(path.join(DIR, r.file), RECORD_PARSERS[r.format]);
    assert.equal(reader.refresh(), true);
    const s = reader.state;
    assert.equal(s.conversation_id, r.id);
    assert.deepEqual(
      s.messages.map((m) => [m.role, m.text]),
      [
        ['user', 'Please explain the plan'],
        ['agent', PLAN_MD],
        ['user', 'Say OK'],
        ['agent', 'OK.'],
        ['user', 'Print a long answer'],
        ['agent', LONG],
        ['user', 'Say OK'],
        ['agent', 'OK.'],
      ],
    );
    assert.equal(s.lastTurnComplete, true);
    assert.deepEqual(
      s.usage.map((u) => u.input_tokens),
      [...r.input],
    );
    assert.deepEqual(
      s.usage.map((u) => u.output_tokens),
      [...r.output],
    );
    assert.ok(s.usage.every((u) => u.model === r.model));
    // Nothing new: no change reported.
    assert.equal(reader.refresh(), false);
    // Turns pair each prompt with its answer and the calls between them.
    const turns = recordTurns({
      format: r.format,
      files: [reader.path],
      records: [s],
      conversation_id: r.id,
      discovered: false,
      error: null,
    });
    assert.deepEqual(
      turns.map((t) => [t.user.text, t.answer.slice(0, 9), t.usage.length, t.complete]),
      [
        ['Please explain the plan', 'Here is t', 1, true],
        ['Say OK', 'OK.', 1, true],
        ['Print a long answer', 'Line 1 of', 1, true],
        ['Say OK', 'OK.', 1, true],
      ],
    );
  });
}

test('claude transcript: usage repeated on lines of one message counts once; tool calls keep a turn open; sub-agents and meta lines are not prompts', (t) => {
  const dir = tempDir(t, 'autodev-rec-');
  const file = path.join(dir, 't.jsonl');
  const line = (o: unknown) => appendFileSync(file, `${JSON.stringify(o)}\n`);
  const base = { sessionId: 's1', cwd: '/p', isSidechain: false };
  const usage = {
    input_tokens: 10,
    output_tokens: 5,
    cache_read_input_tokens: 100,
    cache_creation_input_tokens: 7,
  };
  line({
    ...base,
    type: 'user',
    uuid: 'u1',
    timestamp: '2026-01-01T00:00:00Z',
    message: { role: 'user', content: 'fix it' },
  });
  line({
    ...base,
    type: 'user',
    uuid: 'm1',
    isMeta: true,
    timestamp: '2026-01-01T00:00:00Z',
    message: { role: 'user', content: 'Caveat: meta' },
  });
  const m = { id: 'msg_1', role: 'assistant', model: 'claude-sonnet-4-5', usage };
  line({
    ...base,
    type: 'assistant',
    uuid: 'a1',
    requestId: 'r1',
    timestamp: '2026-01-01T00:00:01Z',
    message: { ...m, content: [{ type: 'text', text: 'Let me look.' }] },
  });
  line({
    ...base,
    type: 'assistant',
    uuid: 'a2',
    requestId: 'r1',
    timestamp: '2026-01-01T00:00:01Z',
    message: { ...m, content: [{ type: 'tool_use', id: 'tu1', name: 'Bash', input: {} }] },
  });
  line({
    ...base,
    isSidechain: true,
    type: 'user',
    uuid: 'x1',
    timestamp: '2026-01-01T00:00:02Z',
    message: { role: 'user', content: 'sub-agent task' },
  });
  const reader = new RecordReader(file, RECORD_PARSERS['claude-jsonl']);
  reader.refresh();
  assert.equal(reader.state.lastTurnComplete, false, 'a tool call is pending');
  assert.equal(reader.state.usage.length, 1);
  assert.deepEqual(reader.state.usage[0], {
    id: 'msg_1:r1',
    at: '2026-01-01T00:00:01Z',
    model: 'claude-sonnet-4-5',
    input_tokens: 10,
    output_tokens: 5,
    cache_read_tokens: 100,
    cache_write_tokens: 7,
  });
  line({
    ...base,
    type: 'user',
    uuid: 'u2',
    timestamp: '2026-01-01T00:00:03Z',
    message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: 'ok' }] },
  });
  line({
    ...base,
    type: 'user',
    uuid: 'c1',
    timestamp: '2026-01-01T00:00:03Z',
    message: { role: 'user', content: '<command-name>/model</command-name>' },
  });
  // A line still being written (no newline yet) waits.
  appendFileSync(
    file,
    JSON.stringify({
      ...base,
      type: 'assistant',
      uuid: 'a3',
      requestId: 'r2',
      timestamp: '2026-01-01T00:00:04Z',
      message: { ...m, id: 'msg_2', content: [{ type: 'text', text: 'Fixed.' }] },
    }),
  );
  reader.refresh();
  assert.equal(reader.state.lastTurnComplete, false);
  appendFileSync(file, '\n');
  reader.refresh();
  assert.deepEqual(
    reader.state.messages.map((x) => [x.role, x.text]),
    [
      ['user', 'fix it'],
      ['agent', 'Let me look.\n\nFixed.'],
    ],
  );
  assert.equal(reader.state.lastTurnComplete, true);
  assert.equal(reader.state.usage.length, 2);
  // A file that was replaced (shorter) is read again from the start.
  writeFileSync(file, `${readFileSync(file, 'utf8').split('\n')[0]}\n`);
  reader.refresh();
  assert.deepEqual(
    reader.state.messages.map((x) => x.text),
    ['fix it'],
  );
});

test('codex rollout: usage is the step between running totals (a repeated total counts nothing); cached input moves to cache reads', (t) => {
  const dir = tempDir(t, 'autodev-rec-');
  const file = path.join(dir, 'rollout-x-abc.jsonl');
  const ev = (payload: unknown) =>
    appendFileSync(
      file,
      `${JSON.stringify({ timestamp: '2026-01-01T00:00:00Z', type: 'event_msg', payload })}\n`,
    );
  appendFileSync(
    file,
    `${JSON.stringify({ type: 'session_meta', payload: { id: 'abc', cwd: '/p', timestamp: '2026-01-01T00:00:00Z' } })}\n`,
  );
  appendFileSync(file, `${JSON.stringify({ type: 'turn_context', payload: { model: 'gpt-5-codex' } })}\n`);
  const total = (input: number, cached: number, output: number) => ({
    type: 'token_count',
    info: { total_token_usage: { input_tokens: input, cached_input_tokens: cached, output_tokens: output } },
  });
  ev({ type: 'user_message', message: 'go' });
  ev(total(1000, 800, 50));
  ev(total(1000, 800, 50));
  ev(total(2500, 2000, 80));
  ev({ type: 'agent_message', message: 'done' });
  ev({ type: 'task_complete' });
  const reader = new RecordReader(file, RECORD_PARSERS['codex-rollout']);
  reader.refresh();
  assert.deepEqual(
    reader.state.usage.map((u) => [u.input_tokens, u.cache_read_tokens, u.output_tokens, u.model]),
    [
      [200, 800, 50, 'gpt-5-codex'],
      [300, 1200, 30, 'gpt-5-codex'],
    ],
  );
  assert.equal(reader.state.lastTurnComplete, true);
});

function spec(id: string): RecordSpec {
  return defaultProviders({}).find((p) => p.id === id)?.conversation?.record as RecordSpec;
}

test('locate: by conversation id under the agent’s HOME or its config-folder variable; candidates by working directory and start time', (t) => {
  const home = tempDir(t, 'autodev-home-');
  const cwd = '/work/some project';
  const started = Date.now() - 60_000;
  // claude: ~/.claude/projects/<cwd as dashes>/<id>.jsonl, or $CLAUDE_CONFIG_DIR.
  const projects = path.join(home, '.claude', 'projects', claudeProjectDir(cwd));
  mkdirSync(projects, { recursive: true });
  copyFileSync(path.join(DIR, 'claude-transcript.jsonl'), path.join(projects, 'conv-1.jsonl'));
  const agent = { home, env: { HOME: home } };
  const q = { spec: spec('claude'), agent, cwd, startedAtMs: started };
  assert.equal(locateById({ ...q, conversationId: 'conv-1' }), path.join(projects, 'conv-1.jsonl'));
  assert.equal(locateById({ ...q, conversationId: 'conv-2' }), null);
  assert.equal(locateById({ ...q, conversationId: '../../etc/passwd' }), null);
  assert.deepEqual(locateCandidates({ ...q, conversationId: null }), [path.join(projects, 'conv-1.jsonl')]);
  // A file older than the session is not its record.
  const old = (Date.now() - 3600_000) / 1000;
  utimesSync(path.join(projects, 'conv-1.jsonl'), old, old);
  assert.deepEqual(locateCandidates({ ...q, conversationId: null }), []);
  const config = tempDir(t, 'autodev-claude-config-');
  mkdirSync(path.join(config, 'projects', 'x'), { recursive: true });
  writeFileSync(path.join(config, 'projects', 'x', 'conv-3.jsonl'), '');
  assert.equal(
    locateById({
      ...q,
      agent: { home, env: { HOME: home, CLAUDE_CONFIG_DIR: config } },
      conversationId: 'conv-3',
    }),
    path.join(config, 'projects', 'x', 'conv-3.jsonl'),
  );

  // codex: ~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl; candidates need a matching cwd.
  const d = new Date();
  const day = path.join(
    home,
    '.codex',
    'sessions',
    String(d.getFullYear()),
    String(d.getMonth() + 1).padStart(2, '0'),
    String(d.getDate()).padStart(2, '0'),
  );
  mkdirSync(day, { recursive: true });
  const meta = (c: string) =>
    `${JSON.stringify({ type: 'session_meta', payload: { id: 'x', cwd: c, timestamp: new Date().toISOString() } })}\n`;
  writeFileSync(path.join(day, 'rollout-2026-01-01T00-00-00-th-1.jsonl'), meta(cwd));
  writeFileSync(path.join(day, 'rollout-2026-01-01T00-00-01-th-2.jsonl'), meta('/elsewhere'));
  const cq = { spec: spec('codex'), agent, cwd, startedAtMs: started };
  assert.equal(
    locateById({ ...cq, conversationId: 'th-2' }),
    path.join(day, 'rollout-2026-01-01T00-00-01-th-2.jsonl'),
  );
  assert.deepEqual(locateCandidates({ ...cq, conversationId: null }), [
    path.join(day, 'rollout-2026-01-01T00-00-00-th-1.jsonl'),
  ]);

  // gemini: ~/.gemini/tmp/<project>/chats/session-<time>-<id8>.jsonl, the header names the whole id.
  const chats = path.join(home, '.gemini', 'tmp', 'proj', 'chats');
  mkdirSync(chats, { recursive: true });
  writeFileSync(path.join(home, '.gemini', 'projects.json'), JSON.stringify({ projects: { [cwd]: 'proj' } }));
  copyFileSync(
    path.join(DIR, 'gemini-chat.jsonl'),
    path.join(chats, 'session-2026-12-04T19-02-2dc29d4b.jsonl'),
  );
  const gq = { spec: spec('gemini'), agent, cwd, startedAtMs: started };
  assert.equal(
    locateById({ ...gq, conversationId: '2dc29d4b-5baa-4df9-812e-7c767e806ee1' }),
    path.join(chats, 'session-2026-12-04T19-02-2dc29d4b.jsonl'),
  );
  assert.equal(locateById({ ...gq, conversationId: '2dc29d4b-0000-0000-0000-000000000000' }), null);
  assert.deepEqual(locateCandidates({ ...gq, conversationId: null }), [
    path.join(chats, 'session-2026-12-04T19-02-2dc29d4b.jsonl'),
  ]);
});
