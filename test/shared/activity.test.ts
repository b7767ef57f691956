import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTIVITIES, ACTIVITY_LABELS, sessionActivity } from '../../src-shared/activity.ts';
import type { SessionInfo } from '../../src-shared/session.ts';

const at = '2026-12-01T00:00:00.000Z';
function info(patch: Partial<SessionInfo>): SessionInfo {
  return {
    session_id: 's',
    name: 's',
    cli_tool: 'claude',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    state: 'waiting_input',
    state_reason: { source: 'screen-rule', rule: 'x', detail: 'why', at },
    authentication_required: false,
    auth_prompt: null,
    pid: 1,
    created_at: at,
    started_at: at,
    ended_at: null,
    last_activity: at,
    current_directory: '/tmp',
    exit_code: null,
    exit_signal: null,
    cols: 80,
    rows: 24,
    last_seq: 0,
    title: null,
    command_history: [],
    metadata: {},
    worktree: null,
    ...patch,
  };
}

test('one vocabulary: every state of an agent and of a shell maps to one activity with a label', () => {
  const table: [Partial<SessionInfo>, string, boolean][] = [
    [{ state: 'initializing' }, 'starting', false],
    [{ state: 'starting' }, 'starting', false],
    [{ state: 'running' }, 'working', false],
    [{ state: 'processing' }, 'working', false],
    [{ state: 'waiting_input' }, 'needs_you', true],
    [{ state: 'waiting_input', provider_kind: 'shell' }, 'ready', false],
    [{ state: 'running', provider_kind: 'shell' }, 'working', false],
    [{ state: 'error' }, 'error', true],
    [{ state: 'error', ended_at: at, exit_code: 1 }, 'error', false],
    [{ state: 'completed', exit_code: 0, ended_at: at }, 'exited', false],
    [{ state: 'terminated', ended_at: at }, 'exited', false],
    [
      {
        state: 'waiting_input',
        authentication_required: true,
        auth_prompt: 'Do you want to use this API key?',
      },
      'sign_in',
      true,
    ],
  ];
  for (const [patch, activity, attention] of table) {
    const a = sessionActivity(info(patch));
    assert.equal(a.activity, activity, JSON.stringify(patch));
    assert.equal(a.attention, attention, JSON.stringify(patch));
    assert.ok(ACTIVITIES.includes(a.activity));
    assert.ok(a.label.length > 0);
  }
  // Older records without a provider kind are agents.
  assert.equal(sessionActivity(info({})).activity, 'needs_you');
  // An explicit kind wins over the record's.
  assert.equal(sessionActivity(info({ provider_kind: 'agent' }), 'shell').activity, 'ready');
  assert.deepEqual(Object.keys(ACTIVITY_LABELS).sort(), [...ACTIVITIES].sort());
});

test('the reason says why: the sign-in prompt, the banner, the exit line; labels carry exit codes', () => {
  const auth = sessionActivity(
    info({
      state: 'error',
      authentication_required: true,
      auth_prompt: '  Invalid API key · Fix external API key ',
    }),
  );
  assert.equal(auth.activity, 'sign_in');
  assert.equal(auth.reason, 'Invalid API key · Fix external API key');
  const banner = sessionActivity(
    info({
      state: 'error',
      state_reason: { source: 'screen-rule', detail: 'API Error: 529 Overloaded', at },
    }),
  );
  assert.deepEqual([banner.label, banner.reason, banner.live], ['Error', 'API Error: 529 Overloaded', true]);
  const failed = sessionActivity(
    info({
      state: 'error',
      ended_at: at,
      exit_code: 1,
      state_reason: {
        source: 'exit',
        detail: 'exited with code 1: Unable to connect to Anthropic services',
        at,
      },
    }),
  );
  assert.deepEqual([failed.label, failed.live], ['Failed (1)', false]);
  assert.match(failed.reason, /Unable to connect/);
  // A stale auth flag on an ended session does not ask for a sign-in.
  const ended = sessionActivity(
    info({ state: 'completed', exit_code: 0, ended_at: at, authentication_required: true }),
  );
  assert.deepEqual([ended.activity, ended.label], ['exited', 'Exited (0)']);
  assert.equal(
    sessionActivity(info({ state: 'terminated', exit_signal: 'SIGTERM', ended_at: at })).label,
    'Exited (SIGTERM)',
  );
});
