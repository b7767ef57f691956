import type { SessionInfo } from '../../../src-shared/session.ts';

/** What a tab or list row shows for a session's state: one pure function so the badge is testable. */
export type BadgeKind = 'starting' | 'running' | 'processing' | 'waiting' | 'auth' | 'error' | 'exited';

export interface BadgeModel {
  kind: BadgeKind;
  /** Short text on the badge. */
  label: string;
  /** Longer text for the tooltip / detail panel (reason, prompt, exit code). */
  detail: string;
  /** The user is needed: the tab gets highlighted and marked when not in view. */
  needsYou: boolean;
  /** Show activity animation. */
  animated: boolean;
}

type BadgeInput = Pick<
  SessionInfo,
  'state' | 'state_reason' | 'authentication_required' | 'auth_prompt' | 'exit_code' | 'exit_signal'
>;

export function badgeFor(session: BadgeInput): BadgeModel {
  const reason = session.state_reason?.detail ?? '';
  const ended = session.state === 'completed' || session.state === 'terminated';
  // Authentication outranks the raw state while the process lives: the agent is blocked on the user.
  if (session.authentication_required && !ended) {
    return {
      kind: 'auth',
      label: 'Sign-in required',
      detail: session.auth_prompt?.trim() || reason || 'The agent asks you to authenticate.',
      needsYou: true,
      animated: false,
    };
  }
  switch (session.state) {
    case 'initializing':
    case 'starting':
      return { kind: 'starting', label: 'Starting', detail: reason, needsYou: false, animated: true };
    case 'processing':
      return { kind: 'processing', label: 'Working', detail: reason, needsYou: false, animated: true };
    case 'running':
      return { kind: 'running', label: 'Running', detail: reason, needsYou: false, animated: false };
    case 'waiting_input':
      return { kind: 'waiting', label: 'Needs you', detail: reason, needsYou: true, animated: false };
    case 'error':
      return {
        kind: 'error',
        label: 'Error',
        detail: reason || 'The session reported an error.',
        needsYou: false,
        animated: false,
      };
    case 'completed':
    case 'terminated':
      return { kind: 'exited', label: exitLabel(session), detail: reason, needsYou: false, animated: false };
  }
}

function exitLabel(session: BadgeInput): string {
  if (session.exit_code !== null && session.exit_code !== undefined) return `Exited (${session.exit_code})`;
  if (session.exit_signal) return `Exited (${session.exit_signal})`;
  return session.state === 'terminated' ? 'Terminated' : 'Exited';
}

/** Sessions whose process has ended: replayable, not attachable for input. */
export function isEnded(session: Pick<SessionInfo, 'state'>): boolean {
  return session.state === 'completed' || session.state === 'terminated';
}

/** A running agent: closing its tab needs confirmation because it ends the process. */
export function isLive(session: Pick<SessionInfo, 'state'>): boolean {
  return !isEnded(session);
}
