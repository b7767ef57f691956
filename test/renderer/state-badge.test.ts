import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionInfo } from '../../src-shared/session.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { session } from './helpers/session.ts';

interface Badge {
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
  const cases = [
    ['initializing', 'starting', false, true],
    ['starting', 'starting', false, true],
    ['running', 'running', false, false],
    ['processing', 'processing', false, true],
    ['waiting_input', 'waiting', true, false],
    ['error', 'error', false, false],
    ['completed', 'exited', false, false],
    ['terminated', 'exited', false, false],
  ] as const;
  for (const [state, kind, needsYou, animated] of cases) {
    const badge = badgeFor(session({ session_id: 's', state }));
    assert.equal(badge.kind, kind, state);
    assert.equal(badge.needsYou, needsYou, state);
    assert.equal(badge.animated, animated, state);
  }
  assert.equal(badgeFor(session({ session_id: 's', state: 'waiting_input' })).label, 'Needs you');
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
    state_reason: { source: 'screen-rule', detail: 'API key invalid', at: '2026-11-21T06:00:00Z' },
  });
  assert.equal(badgeFor(err).detail, 'API key invalid');
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
