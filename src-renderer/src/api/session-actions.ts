import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';

/**
 * Resume: the hook for ended sessions that can be continued (an agent CLI with a resumable
 * conversation). The server marks such a session with `resumable: true` on its SessionInfo (or in
 * `metadata.resumable`) and serves `POST /cli/sessions/{id}/resume`, answering the new live session.
 * The UI shows Resume only when both are true; until then ended sessions offer Replay and Remove.
 */
export interface ResumeCapable {
  resumeSession(sessionId: string): Promise<SessionInfo>;
}

export function isResumable(session: SessionInfo): boolean {
  const flagged = session as SessionInfo & { resumable?: unknown };
  return flagged.resumable === true || session.metadata?.['resumable'] === true;
}

export function resumeApi(api: AutoDevApi): ResumeCapable | null {
  const candidate = api as AutoDevApi & Partial<ResumeCapable>;
  return typeof candidate.resumeSession === 'function' ? (candidate as unknown as ResumeCapable) : null;
}

export function canResume(api: AutoDevApi, session: SessionInfo): boolean {
  return isResumable(session) && resumeApi(api) !== null;
}
