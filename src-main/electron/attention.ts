import { sessionActivity } from '../../src-shared/activity.ts';
import type { SessionInfo, SessionState } from '../../src-shared/session.ts';

/**
 * Which session changes deserve the user's attention, and whether to raise a desktop notification
 * for them: only when the session's tab is not what the user is looking at (window unfocused, or
 * another tab in view). Pure functions; the Electron Notification is created by the caller.
 */

export type AttentionKind = 'needs_input' | 'needs_auth' | 'finished' | 'failed';

export interface AttentionEvent {
  kind: AttentionKind;
  session_id: string;
  title: string;
  body: string;
}

export interface ViewState {
  windowFocused: boolean;
  /** The session whose tab is visible in the focused window, if any. */
  viewedSessionId: string | null;
}

function attentionKind(
  session: SessionInfo,
  previous: SessionState,
  previousAuth: boolean,
): AttentionKind | null {
  if (session.authentication_required && !previousAuth) return 'needs_auth';
  if (session.state === previous) return null;
  switch (session.state) {
    case 'waiting_input':
      // Waiting right after start is the normal idle prompt, not news; a shell back at its prompt is
      // ready, nobody waits on the user (src-shared/activity.ts).
      if (sessionActivity(session).activity !== 'needs_you') return null;
      return previous === 'starting' || previous === 'initializing' ? null : 'needs_input';
    case 'completed':
      return session.exit_code !== null && session.exit_code !== 0 ? 'failed' : 'finished';
    case 'error':
      return 'failed';
    case 'terminated':
      // The user terminated it: they know. Limits and crashes are worth telling.
      return session.state_reason.source === 'user' ? null : 'failed';
    default:
      return null;
  }
}

const TITLES: Record<AttentionKind, string> = {
  needs_input: 'needs your input',
  needs_auth: 'needs authentication',
  finished: 'finished',
  failed: 'failed',
};

export function describeAttention(
  session: SessionInfo,
  previous: SessionState,
  previousAuth = false,
): AttentionEvent | null {
  const kind = attentionKind(session, previous, previousAuth);
  if (kind === null) return null;
  const detail =
    kind === 'needs_auth'
      ? (session.auth_prompt ?? session.state_reason.detail)
      : kind === 'failed' && session.exit_code !== null
        ? `exit code ${session.exit_code}`
        : session.state_reason.detail;
  return {
    kind,
    session_id: session.session_id,
    title: `${session.name} ${TITLES[kind]}`,
    body: detail.slice(0, 200),
  };
}

export function isInView(sessionId: string, view: ViewState): boolean {
  return view.windowFocused && view.viewedSessionId === sessionId;
}

/** The notification to show for this change, or null (not attention-worthy, or already in view). */
export function notificationFor(
  session: SessionInfo,
  previous: SessionState,
  view: ViewState,
  previousAuth = false,
): AttentionEvent | null {
  const event = describeAttention(session, previous, previousAuth);
  if (event === null || isInView(session.session_id, view)) return null;
  return event;
}

/** Sessions that wait on the user (tray badge count). */
export function waitingCount(sessions: readonly SessionInfo[]): number {
  return sessions.filter((s) => {
    const { activity } = sessionActivity(s);
    return activity === 'needs_you' || activity === 'sign_in';
  }).length;
}

/** Agents still running (their process alive): what quitting keeps in the PTY host or stops. */
export function runningCount(sessions: readonly SessionInfo[]): number {
  return sessions.filter((s) => sessionActivity(s).live).length;
}

/** What the tray says about the agents: "3 agents running, 1 needs you" (its tooltip and menu). */
export function trayStatus(sessions: readonly SessionInfo[]): string {
  const running = runningCount(sessions);
  const waiting = waitingCount(sessions);
  const parts = [running === 0 ? 'no agents running' : `${running} agent${running === 1 ? '' : 's'} running`];
  if (waiting > 0) parts.push(`${waiting} need${waiting === 1 ? 's' : ''} you`);
  return parts.join(', ');
}

export function trayTooltip(sessions: readonly SessionInfo[]): string {
  return `AutoDev — ${trayStatus(sessions)}`;
}
