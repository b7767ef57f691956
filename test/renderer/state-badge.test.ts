import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionInfo } from '../../src-shared/session.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { session } from './helpers/session.ts';

interface Badge {
  activity: string;
  kind: string;
  label: string;
  detail: string;
  needsYou: boolean;
  animated: boolean;
}
const { badgeFor, isEnded, isLive } = await loadRenderer<{
  badgeFor(s: SessionInfo): Badge;
  isEnded(s: SessionInfo): boolean;
  isLive(s: SessionInfo): boolean;
}>('model/state-badge.ts');

test('each session state maps to its badge, with "needs you" only when the user is needed', () => {
  // [state, provider kind, activity, badge style, needs you, animated]
  const cases = [
    ['initializing', 'agent', 'starting', 'starting', false, true],
    ['starting', 'agent', 'starting', 'starting', false, true],
    ['running', 'agent', 'working', 'processing', false, true],
    ['processing', 'agent', 'working', 'processing', false, true],
    ['waiting_input', 'agent', 'needs_you', 'waiting', true, false],
    // A plain shell at its prompt is ready, not an agent waiting for its user.
    ['waiting_input', 'shell', 'ready', 'running', false, false],
    ['running', 'shell', 'working', 'processing', false, true],
    // A live error banner wants the user: the turn failed.
    ['error', 'agent', 'error', 'error', true, false],
    ['completed', 'agent', 'exited', 'exited', false, false],
    ['terminated', 'shell', 'exited', 'exited', false, false],
  ] as const;
  for (const [state, kind, activity, style, needsYou, animated] of cases) {
    const badge = badgeFor(session({ session_id: 's', state, provider_kind: kind }));
    const what = `${state}/${kind}`;
    assert.equal(badge.activity, activity, what);
    assert.equal(badge.kind, style, what);
    assert.equal(badge.needsYou, needsYou, what);
    assert.equal(badge.animated, animated, what);
  }
  assert.equal(badgeFor(session({ session_id: 's', state: 'waiting_input' })).label, 'Needs you');
  assert.equal(badgeFor(session({ session_id: 's', state: 'processing' })).label, 'Working');
  assert.equal(badgeFor(session({ session_id: 's', state: 'running' })).label, 'Working');
  assert.equal(
    badgeFor(session({ session_id: 's', state: 'waiting_input', provider_kind: 'shell' })).label,
    'Ready',
  );
});

test('authentication required outranks the raw state and carries the agent prompt', () => {
  const s = session({
    session_id: 's',
    state: 'waiting_input',
    authentication_required: true,
    auth_prompt: '  Select login method: 1. Claude account  ',
  });
  const badge = badgeFor(s);
  assert.equal(badge.kind, 'auth');
  assert.equal(badge.needsYou, true);
  assert.equal(badge.detail, 'Select login method: 1. Claude account');
  // Once the process has ended, a stale auth flag no longer matters.
  assert.equal(badgeFor({ ...s, state: 'completed', exit_code: 0 }).kind, 'exited');
});

test('error shows its reason; exit shows the code, else the signal', () => {
  const err = session({
    session_id: 's',
    state: 'error',
    state_reason: {
      source: 'screen-rule',
      detail: 'API Error: 500 Internal server error',
      at: '2026-11-21T06:00:00Z',
    },
  });
  assert.equal(badgeFor(err).detail, 'API Error: 500 Internal server error');
  assert.equal(badgeFor(err).label, 'Error');
  // A failed exit: the reason carries the agent's last error line.
  const failed = session({
    session_id: 's',
    state: 'error',
    exit_code: 1,
    ended_at: '2026-11-21T06:00:01Z',
    state_reason: {
      source: 'exit',
      detail: 'exited with code 1: Unable to connect to Anthropic services',
      at: '2026-11-21T06:00:01Z',
    },
  });
  assert.equal(badgeFor(failed).label, 'Failed (1)');
  assert.equal(badgeFor(failed).needsYou, false);
  assert.match(badgeFor(failed).detail, /Unable to connect to Anthropic services/);
  assert.equal(badgeFor(session({ session_id: 's', state: 'completed', exit_code: 3 })).label, 'Exited (3)');
  assert.equal(
    badgeFor(session({ session_id: 's', state: 'terminated', exit_code: null, exit_signal: 'SIGTERM' }))
      .label,
    'Exited (SIGTERM)',
  );
  assert.equal(badgeFor(session({ session_id: 's', state: 'terminated' })).label, 'Terminated');
});

test('ended vs live', () => {
  assert.equal(isEnded(session({ session_id: 's', state: 'completed' })), true);
  assert.equal(isLive(session({ session_id: 's', state: 'error' })), true);
});
