import type { SessionInfo } from '../../../src-shared/session.ts';
import type { SessionManager } from '../sessions/types.ts';
import { ENDED_STATES } from './turn-log.ts';

export type WaitResult = { ok: true; session: SessionInfo } | { ok: false; session: SessionInfo | undefined };

/**
 * Resolves once `ok(session)` holds, the session is gone or ended, or the deadline passes. State events
 * wake it; a 100 ms poll covers conditions that change without one (a previous turn's answer being read).
 */
export function waitForSession(
  sessions: SessionManager,
  sessionId: string,
  deadline: number,
  ok: (s: SessionInfo) => boolean,
): Promise<WaitResult> {
  const now = sessions.get(sessionId);
  if (now && ok(now)) return Promise.resolve({ ok: true, session: now });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: WaitResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      listener.dispose();
      exit.dispose();
      resolve(r);
    };
    const check = () => {
      const s = sessions.get(sessionId);
      if (!s || s.ended_at !== null || ENDED_STATES.has(s.state)) finish({ ok: false, session: s });
      else if (ok(s)) finish({ ok: true, session: s });
    };
    const listener = sessions.onDidChangeState(({ session }) => {
      if (session.session_id === sessionId) queueMicrotask(check);
    });
    const exit = sessions.onDidExit((s) => {
      if (s.session_id === sessionId) finish({ ok: false, session: s });
    });
    // The previous turn's end is announced after its answer was read: poll for that too.
    const poll = setInterval(check, 100);
    const timer = setTimeout(
      () => finish({ ok: false, session: sessions.get(sessionId) }),
      Math.max(0, deadline - Date.now()),
    );
  });
}
