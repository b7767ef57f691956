// The real-CLI judge itself: a "never" window that closed before it opened judges nothing (the next
// truth came first), and an open window still catches a false "waiting".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { StateSample } from './autodev-serve.ts';
import { Recorder } from './recorder.ts';

const sample = (at: number, state: SessionInfo['state']): StateSample => ({
  at,
  session: {
    state,
    authentication_required: false,
    cli_tool: 'claude',
    exit_code: null,
    ended_at: null,
    state_reason: { source: 'hook', rule: 'claude.hook.permission-request', detail: '', at: '' },
  } as unknown as SessionInfo,
});

test('recorder: a never-window that ended before it began judges nothing; an open one catches waiting', () => {
  // Working from 100, the agent's own permission signal at 370 (the tool call was sent at 290).
  const samples = [sample(100, 'processing'), sample(370, 'waiting_input')];
  const recorder = new Recorder(
    'claude',
    'turns',
    () => samples,
    () => () => {},
  );
  const waiting = (s: SessionInfo) => s.state === 'waiting_input';
  const empty = recorder.never({ step: 'before', from: 375, to: 290, expected: 'working', reject: waiting });
  assert.equal(empty.ok, true);
  assert.match(empty.actual, /no window to judge/);
  const open = recorder.never({ step: 'before', from: 100, to: 400, expected: 'working', reject: waiting });
  assert.equal(open.ok, false, 'a waiting state inside an open window is caught');
  const clean = recorder.never({ step: 'before', from: 100, to: 300, expected: 'working', reject: waiting });
  assert.equal(clean.ok, true);
});
