import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { moved, session } from './helpers/session.ts';

interface WorkspaceState {
  sessions: Record<string, SessionInfo>;
  tabs: string[];
  active: string | null;
  attention: ReadonlySet<string>;
  view: string;
  windowVisible: boolean;
}
type WorkspaceAction =
  | {
      type: 'loaded';
      sessions: SessionInfo[];
      restore?: { tabs: string[]; active: string | null; attention: string[] } | null;
    }
  | { type: 'event'; event: LiveEvent }
  | { type: 'upsert'; session: SessionInfo; open?: boolean; activate?: boolean }
  | { type: 'open' | 'close' | 'activate'; sessionId: string }
  | { type: 'cycle'; delta: 1 | -1 }
  | { type: 'activate-index'; index: number }
  | { type: 'view'; view: string }
  | { type: 'window-visible'; visible: boolean };
const { initialWorkspace, workspaceReducer } = await loadRenderer<{
  initialWorkspace(): WorkspaceState;
  workspaceReducer(state: WorkspaceState, action: WorkspaceAction): WorkspaceState;
}>('model/tabs.ts');

const a = session({ session_id: 'a', created_at: '2026-11-21T06:00:01Z' });
const b = session({ session_id: 'b', created_at: '2026-11-21T06:00:02Z' });
const c = session({ session_id: 'c', created_at: '2026-11-21T06:00:03Z' });
const old = session({
  session_id: 'old',
  state: 'completed',
  exit_code: 0,
  created_at: '2026-11-21T05:00:00Z',
});

function run(...actions: WorkspaceAction[]): WorkspaceState {
  return actions.reduce(workspaceReducer, initialWorkspace());
}

test('loading opens a tab per live session, oldest first; ended sessions stay in the list only', () => {
  const s = run({ type: 'loaded', sessions: [c, old, a, b] });
  assert.deepEqual(s.tabs, ['a', 'b', 'c']);
  assert.equal(s.active, 'a');
  assert.ok(s.sessions.old);
});

test('a reload restores the previous tab order and active tab (ended tabs included)', () => {
  const s = run({
    type: 'loaded',
    sessions: [a, b, c, old],
    restore: { tabs: ['c', 'old', 'gone'], active: 'old', attention: [] },
  });
  assert.deepEqual(s.tabs, ['c', 'old', 'a', 'b']);
  assert.equal(s.active, 'old');
});

test('first visit marks background tabs that need the user; a reload keeps only what was unseen', () => {
  const wa = moved(a, { state: 'waiting_input' });
  const wb = moved(b, { state: 'waiting_input' });
  const wc = moved(c, { state: 'waiting_input' });
  const first = run({ type: 'loaded', sessions: [wa, wb, wc] });
  assert.deepEqual([...first.attention].sort(), ['b', 'c']);
  const reload = run({
    type: 'loaded',
    sessions: [wa, wb, wc],
    restore: { tabs: ['a', 'b'], active: 'a', attention: ['b'] },
  });
  // b was unseen before the reload; c is new since (not in the saved tabs), so unseen too.
  assert.deepEqual([...reload.attention].sort(), ['b', 'c']);
  const seen = run({
    type: 'loaded',
    sessions: [wa, wb],
    restore: { tabs: ['a', 'b'], active: 'a', attention: [] },
  });
  assert.equal(seen.attention.size, 0);
});

test('created sessions get a tab; closing the active tab selects its right neighbour, then the left', () => {
  let s = run(
    { type: 'loaded', sessions: [a] },
    { type: 'event', event: { kind: 'session_created', session: b } },
  );
  s = workspaceReducer(s, { type: 'event', event: { kind: 'session_created', session: c } });
  assert.deepEqual(s.tabs, ['a', 'b', 'c']);
  assert.equal(s.active, 'a');
  s = workspaceReducer(s, { type: 'activate', sessionId: 'b' });
  s = workspaceReducer(s, { type: 'close', sessionId: 'b' });
  assert.equal(s.active, 'c');
  s = workspaceReducer(s, { type: 'close', sessionId: 'c' });
  assert.equal(s.active, 'a');
  s = workspaceReducer(s, { type: 'close', sessionId: 'a' });
  assert.equal(s.active, null);
  assert.deepEqual(s.tabs, []);
});

test('next/previous wrap around; Alt+N picks the Nth tab and Alt+9 the last', () => {
  let s = run({ type: 'loaded', sessions: [a, b, c] });
  s = workspaceReducer(s, { type: 'cycle', delta: -1 });
  assert.equal(s.active, 'c');
  s = workspaceReducer(s, { type: 'cycle', delta: 1 });
  assert.equal(s.active, 'a');
  s = workspaceReducer(s, { type: 'activate-index', index: 1 });
  assert.equal(s.active, 'b');
  s = workspaceReducer(s, { type: 'activate-index', index: 8 });
  assert.equal(s.active, 'c');
  assert.equal(
    workspaceReducer(s, { type: 'activate-index', index: 5 }).active,
    'c',
    'no 6th tab: unchanged',
  );
});

test('a background tab that starts waiting is marked until it is seen', () => {
  let s = run({ type: 'loaded', sessions: [a, b] });
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(b, { state: 'waiting_input' }) },
  });
  assert.ok(s.attention.has('b'));
  // Staying in the waiting state does not re-mark after it was seen.
  s = workspaceReducer(s, { type: 'activate', sessionId: 'b' });
  assert.equal(s.attention.has('b'), false);
  s = workspaceReducer(s, { type: 'activate', sessionId: 'a' });
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(b, { state: 'waiting_input' }, 2) },
  });
  assert.equal(s.attention.has('b'), false);
});

test('the active tab is not marked, unless the window is hidden or another view is shown', () => {
  let s = run({ type: 'loaded', sessions: [a, b] });
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(a, { state: 'waiting_input' }) },
  });
  assert.equal(s.attention.has('a'), false);

  s = run({ type: 'loaded', sessions: [a, b] }, { type: 'window-visible', visible: false });
  s = workspaceReducer(s, {
    type: 'event',
    event: {
      kind: 'session_state',
      session: moved(a, { authentication_required: true, auth_prompt: 'Log in' }),
    },
  });
  assert.ok(s.attention.has('a'), 'hidden window: even the active tab is unseen');
  s = workspaceReducer(s, { type: 'window-visible', visible: true });
  assert.equal(s.attention.has('a'), false, 'seen once the window is back');

  s = run({ type: 'loaded', sessions: [a, b] }, { type: 'view', view: 'settings' });
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(a, { state: 'waiting_input' }) },
  });
  assert.ok(s.attention.has('a'));
  s = workspaceReducer(s, { type: 'view', view: 'terminals' });
  assert.equal(s.attention.has('a'), false);
});

test('the mark goes away when the session stops needing the user, and with its tab', () => {
  let s = run({ type: 'loaded', sessions: [a, b] });
  const waiting = moved(b, { state: 'waiting_input' });
  s = workspaceReducer(s, { type: 'event', event: { kind: 'session_state', session: waiting } });
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(waiting, { state: 'processing' }) },
  });
  assert.equal(s.attention.has('b'), false);
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(b, { state: 'waiting_input' }, 5) },
  });
  assert.ok(s.attention.has('b'));
  s = workspaceReducer(s, { type: 'event', event: { kind: 'session_removed', session_id: 'b' } });
  assert.equal(s.attention.has('b'), false);
  assert.deepEqual(s.tabs, ['a']);
  assert.equal(s.sessions.b, undefined);
});

test('a stale update never overwrites a newer state (REST answer racing an event)', () => {
  let s = run({ type: 'loaded', sessions: [a] });
  const exited = moved(a, { state: 'completed', exit_code: 0 }, 10);
  s = workspaceReducer(s, { type: 'event', event: { kind: 'session_exited', session: exited } });
  s = workspaceReducer(s, { type: 'upsert', session: a });
  assert.equal(s.sessions.a?.state, 'completed');
});

test('a session opened from the list gets a tab and focus; unknown ids are ignored', () => {
  let s = run({ type: 'loaded', sessions: [a, old] }, { type: 'view', view: 'sessions' });
  s = workspaceReducer(s, { type: 'open', sessionId: 'old' });
  assert.deepEqual(s.tabs, ['a', 'old']);
  assert.equal(s.active, 'old');
  assert.equal(s.view, 'terminals');
  assert.equal(workspaceReducer(s, { type: 'open', sessionId: 'nope' }), s);
});
