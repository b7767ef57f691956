import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ID_PATTERN } from '../../src-shared/ids.ts';
import {
  CreateSessionRequestSchema,
  canTransition,
  SESSION_STATES,
  SESSION_TRANSITIONS,
} from '../../src-shared/session.ts';
import { ClientMessageSchema } from '../../src-shared/ws-protocol.ts';

test('final states have no way out and every transition target is a known state', () => {
  assert.deepEqual(SESSION_TRANSITIONS.completed, []);
  assert.deepEqual(SESSION_TRANSITIONS.terminated, []);
  for (const from of SESSION_STATES) {
    for (const to of SESSION_TRANSITIONS[from]) assert.ok(SESSION_STATES.includes(to), `${from} -> ${to}`);
  }
  assert.equal(canTransition('completed', 'running'), false);
  assert.equal(canTransition('initializing', 'waiting_input'), false);
  assert.equal(canTransition('processing', 'waiting_input'), true);
});

test('ids refuse shell metacharacters and paths', () => {
  for (const bad of ['"; touch pwned', '$(id)', '../etc', 'a b', ''])
    assert.equal(ID_PATTERN.test(bad), false, bad);
  assert.equal(ID_PATTERN.test('sess-1b2c.3:x_y'), true);
});

test('create-session requests are bounded and defaulted', () => {
  const ok = CreateSessionRequestSchema.parse({ cli_tool: 'claude' });
  assert.equal(ok.cols, 120);
  assert.equal(ok.full_access, false);
  const bad = CreateSessionRequestSchema.safeParse({ cli_tool: 'claude; rm -rf /', cols: 5000 });
  assert.equal(bad.success, false);
  const paths = bad.error?.issues.map((i) => i.path.join('.')).sort();
  assert.deepEqual(paths, ['cli_tool', 'cols']);
});

test('client messages: unknown types and bad shapes are rejected', () => {
  assert.equal(ClientMessageSchema.safeParse({ type: 'resize', data: { cols: 80, rows: 24 } }).success, true);
  assert.equal(ClientMessageSchema.safeParse({ type: 'resize', data: { cols: 0, rows: 24 } }).success, false);
  assert.equal(ClientMessageSchema.safeParse({ type: 'exec', data: {} }).success, false);
  assert.equal(ClientMessageSchema.safeParse({ type: 'resume', data: { last_seq: -1 } }).success, false);
});
