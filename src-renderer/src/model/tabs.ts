import type { SessionInfo } from '../../../src-shared/session.ts';
import type { LiveEvent } from '../../../src-shared/ws-protocol.ts';
import { isWorking } from './inbox.ts';
import { hasEnded } from './session-life.ts';
import { badgeFor } from './state-badge.ts';

/**
 * The workspace model: known sessions, open tabs (ordered), the active tab and which tabs need the
 * user but have not been seen. A pure reducer so ordering and attention rules are unit-tested.
 */
export type View = 'terminals' | 'sessions' | 'tasks' | 'settings';

export interface WorkspaceState {
  sessions: Readonly<Record<string, SessionInfo>>;
  tabs: readonly string[];
  active: string | null;
  /** Tabs that started needing the user while not in view; cleared when seen. */
  attention: ReadonlySet<string>;
  /** Sessions that stopped working (finished, or ended) while not in view; cleared when seen. */
  unseen: ReadonlySet<string>;
  view: View;
  /** Whether the window itself is visible/focused (a hidden window means nothing is "in view"). */
  windowVisible: boolean;
}

export type WorkspaceAction =
  | {
      type: 'loaded';
      sessions: SessionInfo[];
      /** The layout saved before a reload; absent on a first visit. */
      restore?: { tabs: string[]; active: string | null; attention: string[] } | null;
    }
  | { type: 'event'; event: LiveEvent }
  | { type: 'upsert'; session: SessionInfo; open?: boolean; activate?: boolean }
  | { type: 'open'; sessionId: string }
  | { type: 'close'; sessionId: string }
  | { type: 'activate'; sessionId: string }
  | { type: 'cycle'; delta: 1 | -1 }
  | { type: 'activate-index'; index: number }
  | { type: 'view'; view: View }
  | { type: 'window-visible'; visible: boolean };

export function initialWorkspace(): WorkspaceState {
  return {
    sessions: {},
    tabs: [],
    active: null,
    attention: new Set(),
    unseen: new Set(),
    view: 'terminals',
    windowVisible: true,
  };
}

export function isInView(state: WorkspaceState, sessionId: string): boolean {
  return state.windowVisible && state.view === 'terminals' && state.active === sessionId;
}

export function workspaceReducer(state: WorkspaceState, action: WorkspaceAction): WorkspaceState {
  switch (action.type) {
    case 'loaded': {
      const sessions: Record<string, SessionInfo> = {};
      for (const s of action.sessions) sessions[s.session_id] = s;
      // Restore the previous tab order where we can, then every live session not yet open, oldest first.
      const restore = action.restore ?? null;
      const restored = (restore?.tabs ?? []).filter((id) => sessions[id]);
      const live = action.sessions
        .filter((s) => !hasEnded(s) && !restored.includes(s.session_id))
        .sort(byCreated)
        .map((s) => s.session_id);
      const tabs = [...restored, ...live];
      const active = restore?.active && tabs.includes(restore.active) ? restore.active : (tabs[0] ?? null);
      // After a reload, what was unseen stays unseen; on a first visit every background tab that needs
      // the user is unseen.
      const attention = new Set<string>();
      for (const id of tabs) {
        if (id === active || !needsYou(sessions[id])) continue;
        if (!restore || restore.attention.includes(id) || !restore.tabs.includes(id)) attention.add(id);
      }
      return { ...state, sessions, tabs, active, attention, unseen: new Set() };
    }
    case 'event':
      return applyEvent(state, action.event);
    case 'upsert': {
      let next = upsertSession(state, action.session);
      if (action.open && !next.tabs.includes(action.session.session_id))
        next = { ...next, tabs: [...next.tabs, action.session.session_id] };
      if (action.activate) next = activate(next, action.session.session_id);
      return next;
    }
    case 'open': {
      if (!state.sessions[action.sessionId]) return state;
      const tabs = state.tabs.includes(action.sessionId) ? state.tabs : [...state.tabs, action.sessionId];
      return activate({ ...state, tabs, view: 'terminals' }, action.sessionId);
    }
    case 'close': {
      const index = state.tabs.indexOf(action.sessionId);
      if (index < 0) return state;
      const tabs = state.tabs.filter((id) => id !== action.sessionId);
      const attention = without(state.attention, action.sessionId);
      const unseen = without(state.unseen, action.sessionId);
      let active = state.active;
      // Like browsers: closing the active tab selects its right neighbour, else the left one.
      if (active === action.sessionId) active = tabs[index] ?? tabs[index - 1] ?? null;
      return clearSeen({ ...state, tabs, active, attention, unseen });
    }
    case 'activate':
      return activate(state, action.sessionId);
    case 'cycle': {
      if (state.tabs.length === 0) return state;
      const current = state.active ? state.tabs.indexOf(state.active) : -1;
      const n = state.tabs.length;
      const index = current < 0 ? 0 : (current + action.delta + n) % n;
      return activate({ ...state, view: 'terminals' }, state.tabs[index]!);
    }
    case 'activate-index': {
      // Alt+9 means "last tab", as in browsers.
      const index = action.index >= 8 ? state.tabs.length - 1 : action.index;
      const id = state.tabs[index];
      return id ? activate({ ...state, view: 'terminals' }, id) : state;
    }
    case 'view':
      return clearSeen({ ...state, view: action.view });
    case 'window-visible':
      return clearSeen({ ...state, windowVisible: action.visible });
  }
}

function applyEvent(state: WorkspaceState, event: LiveEvent): WorkspaceState {
  switch (event.kind) {
    case 'session_created': {
      const next = upsertSession(state, event.session);
      if (next.tabs.includes(event.session.session_id)) return next;
      const tabs = [...next.tabs, event.session.session_id];
      return { ...next, tabs, active: next.active ?? event.session.session_id };
    }
    case 'session_state':
    case 'session_exited':
      return upsertSession(state, event.session);
    case 'session_removed': {
      const sessions = { ...state.sessions };
      delete sessions[event.session_id];
      const closed = workspaceReducer({ ...state, sessions }, { type: 'close', sessionId: event.session_id });
      return { ...closed, sessions, unseen: without(closed.unseen, event.session_id) };
    }
    default:
      return state;
  }
}

function upsertSession(state: WorkspaceState, session: SessionInfo): WorkspaceState {
  const previous = state.sessions[session.session_id];
  // Events can arrive out of order with REST answers: never let an older snapshot of a session win.
  if (previous && isOlder(session, previous)) return state;
  const sessions = { ...state.sessions, [session.session_id]: session };
  let attention = state.attention;
  const id = session.session_id;
  if (needsYou(session) && !needsYou(previous) && state.tabs.includes(id) && !isInView(state, id)) {
    attention = new Set(attention).add(id);
  } else if (!needsYou(session) && attention.has(id)) {
    attention = without(attention, id);
  }
  // Finished out of sight: it stopped working (or its process ended) while another view was in front.
  let unseen = state.unseen;
  const stopped = isWorking(previous) && !isWorking(session) && !needsYou(session);
  if (stopped && !isInView(state, id)) unseen = new Set(unseen).add(id);
  else if (unseen.has(id) && (needsYou(session) || isWorking(session))) unseen = without(unseen, id);
  return { ...state, sessions, attention, unseen };
}

function isOlder(candidate: SessionInfo, current: SessionInfo): boolean {
  if (hasEnded(current) && !hasEnded(candidate)) return true;
  return candidate.last_seq < current.last_seq && candidate.state_reason.at < current.state_reason.at;
}

function activate(state: WorkspaceState, sessionId: string): WorkspaceState {
  if (!state.tabs.includes(sessionId)) return state;
  return clearSeen({ ...state, active: sessionId });
}

/** Whatever is in view now has been seen. */
function clearSeen(state: WorkspaceState): WorkspaceState {
  const id = state.active;
  if (!id || !isInView(state, id) || (!state.attention.has(id) && !state.unseen.has(id))) return state;
  return { ...state, attention: without(state.attention, id), unseen: without(state.unseen, id) };
}

export function needsYou(session: SessionInfo | undefined): boolean {
  return session ? badgeFor(session).needsYou : false;
}

function without(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  if (!set.has(id)) return set;
  const next = new Set(set);
  next.delete(id);
  return next;
}

function byCreated(a: SessionInfo, b: SessionInfo): number {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
}
