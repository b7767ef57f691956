import { FINAL_STATES, type SessionInfo } from '../../../src-shared/session.ts';

/**
 * Whether a session's process has ended. Not only `completed` / `terminated`: an agent that exited
 * with an error stays in `error` with `ended_at` set (the manager never leaves `error` after exit).
 * Ended sessions are replayed, resumed or removed — never attached, typed into or terminated.
 */
export function hasEnded(session: Pick<SessionInfo, 'state' | 'ended_at'>): boolean {
  return FINAL_STATES.has(session.state) || (session.ended_at ?? null) !== null;
}

export function isRunning(session: Pick<SessionInfo, 'state' | 'ended_at'>): boolean {
  return !hasEnded(session);
}
