import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeAttention,
  notificationFor,
  runningCount,
  trayStatus,
  trayTooltip,
  waitingCount,
} from '../../src-main/electron/attention.ts';
import { keptRunningNotice } from '../../src-main/electron/quit-policy.ts';
import { sessionInfo } from './fakes.ts';

const unfocused = { windowFocused: false, viewedSessionId: 's1' };
const otherTab = { windowFocused: true, viewedSessionId: 's2' };
const inView = { windowFocused: true, viewedSessionId: 's1' };

test('needs input / auth / finished / failed notify only when the tab is not in view', () => {
  const waiting = sessionInfo({ state: 'waiting_input' });
  assert.equal(notificationFor(waiting, 'processing', unfocused)?.kind, 'needs_input');
  assert.equal(notificationFor(waiting, 'processing', otherTab)?.kind, 'needs_input');
  assert.equal(notificationFor(waiting, 'processing', inView), null);

  const auth = sessionInfo({
    state: 'waiting_input',
    authentication_required: true,
    auth_prompt: 'Log in at https://…',
  });
  const authEvent = notificationFor(auth, 'waiting_input', otherTab, false);
  assert.equal(authEvent?.kind, 'needs_auth');
  assert.equal(authEvent?.body, 'Log in at https://…');
  assert.equal(notificationFor(auth, 'waiting_input', otherTab, true), null, 'auth already known: no repeat');

  const done = sessionInfo({ state: 'completed', exit_code: 0 });
  assert.equal(notificationFor(done, 'processing', unfocused)?.kind, 'finished');
  assert.equal(notificationFor(done, 'processing', inView), null);
  const failedExit = sessionInfo({ state: 'completed', exit_code: 2 });
  assert.equal(notificationFor(failedExit, 'processing', unfocused)?.kind, 'failed');
  assert.match(notificationFor(failedExit, 'processing', unfocused)!.body, /exit code 2/);
  assert.equal(notificationFor(sessionInfo({ state: 'error' }), 'running', otherTab)?.kind, 'failed');
});

test('no notification for non-news: same state, first prompt after start, user-terminated, busy states', () => {
  assert.equal(describeAttention(sessionInfo({ state: 'waiting_input' }), 'waiting_input'), null);
  assert.equal(describeAttention(sessionInfo({ state: 'waiting_input' }), 'starting'), null);
  assert.equal(describeAttention(sessionInfo({ state: 'processing' }), 'waiting_input'), null);
  assert.equal(describeAttention(sessionInfo({ state: 'running' }), 'starting'), null);
  const userKill = sessionInfo({
    state: 'terminated',
    state_reason: { source: 'user', detail: 'x', at: '' },
  });
  assert.equal(describeAttention(userKill, 'running'), null);
  const limitKill = sessionInfo({
    state: 'terminated',
    state_reason: { source: 'limit', detail: 'idle timeout', at: '' },
  });
  assert.equal(describeAttention(limitKill, 'running')?.kind, 'failed');
});

test('notification text names the session and bounds the body', () => {
  const event = describeAttention(
    sessionInfo({
      name: 'claude #3',
      state: 'error',
      state_reason: { source: 'screen-rule', detail: 'E'.repeat(1000), at: '' },
    }),
    'running',
  )!;
  assert.equal(event.title, 'claude #3 failed');
  assert.equal(event.body.length, 200);
  assert.equal(event.session_id, 's1');
});

test('tray: count of sessions waiting on the user', () => {
  const sessions = [
    sessionInfo({ session_id: 'a', state: 'waiting_input' }),
    sessionInfo({ session_id: 'b', state: 'processing', authentication_required: true }),
    sessionInfo({ session_id: 'c', state: 'processing' }),
    sessionInfo({ session_id: 'd', state: 'completed' }),
  ];
  assert.equal(waitingCount(sessions), 2);
  assert.equal(trayTooltip(sessions), 'AutoDev — 3 agents running, 2 need you');
  assert.equal(trayTooltip([]), 'AutoDev — no agents running');
});

test('tray: how many agents are running (what a quit keeps in the PTY host) and how many need the user', () => {
  const ended = new Date().toISOString();
  const sessions = [
    sessionInfo({ session_id: 'a', state: 'waiting_input' }),
    sessionInfo({ session_id: 'b', state: 'processing' }),
    sessionInfo({ session_id: 'c', state: 'waiting_input', provider_kind: 'shell' }),
    sessionInfo({ session_id: 'd', state: 'error', ended_at: ended, exit_code: 1 }),
    sessionInfo({ session_id: 'e', state: 'terminated', ended_at: ended }),
    sessionInfo({ session_id: 'f', state: 'completed', ended_at: ended, exit_code: 0 }),
  ];
  // A live agent showing an error banner still runs; one whose process ended does not.
  const liveError = sessionInfo({ session_id: 'g', state: 'error' });
  assert.equal(runningCount(sessions), 3);
  assert.equal(runningCount([...sessions, liveError]), 4);
  assert.equal(trayStatus(sessions), '3 agents running, 1 needs you');
  assert.equal(trayTooltip(sessions), 'AutoDev — 3 agents running, 1 needs you');
  assert.equal(trayStatus([sessions[1]!]), '1 agent running');
  assert.equal(trayStatus(sessions.slice(3)), 'no agents running');
  // Quitting with "Keep running" takes the tray away: a notification says where the agents are.
  assert.deepEqual(keptRunningNotice(3), {
    title: 'AutoDev',
    body: '3 agents keep running in the background; open AutoDev to see them.',
  });
  assert.equal(
    keptRunningNotice(1).body,
    '1 agent keeps running in the background; open AutoDev to see them.',
  );
});

test('a shell back at its prompt is ready: no "needs your input" notification, not counted as waiting', () => {
  const shell = sessionInfo({ state: 'waiting_input', provider_kind: 'shell' });
  assert.equal(notificationFor(shell, 'processing', unfocused), null);
  assert.equal(waitingCount([shell, sessionInfo({ session_id: 'a', state: 'waiting_input' })]), 1);
  assert.equal(trayTooltip([shell]), 'AutoDev — 1 agent running');
  // A shell that exits with an error still tells.
  assert.equal(notificationFor({ ...shell, state: 'error' }, 'running', unfocused)?.kind, 'failed');
});
