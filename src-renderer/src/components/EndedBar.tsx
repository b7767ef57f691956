import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { canResume } from '../api/session-actions.ts';
import { badgeFor } from '../model/state-badge.ts';
import { ReplayIcon, ResumeIcon, TrashIcon } from './Icons.tsx';
import type { SessionActions } from './Workspace.tsx';

/**
 * Under the transcript of an ended session: how it ended, and what can be done with it now — replay
 * it, resume it (when the agent can continue the conversation), or remove it from the inbox and tabs.
 */
export function EndedBar({
  session,
  api,
  actions,
  readOnly,
}: {
  session: SessionInfo;
  api: AutoDevApi;
  actions: SessionActions;
  readOnly: boolean;
}) {
  const badge = badgeFor(session);
  return (
    <section className="ended-bar" aria-label={`${session.name} has ended`}>
      <span className="ended-text">
        <strong>{badge.kind === 'error' ? 'Ended with an error' : badge.label}</strong>
        {badge.detail ? <span className="muted"> — {badge.detail}</span> : null}
      </span>
      <span className="ended-actions">
        <button
          type="button"
          className="button button-small"
          onClick={() => actions.replay(session.session_id)}
        >
          <ReplayIcon size={14} /> Replay
        </button>
        {!readOnly && actions.resume && canResume(api, session) ? (
          <button
            type="button"
            className="button button-small button-primary"
            onClick={() => actions.resume?.(session.session_id)}
          >
            <ResumeIcon size={14} /> Resume
          </button>
        ) : null}
        <button
          type="button"
          className="button button-small"
          title="Remove from the inbox and tabs (its history stays in Sessions)"
          onClick={() => actions.remove(session.session_id)}
        >
          <TrashIcon size={14} /> Remove
        </button>
      </span>
    </section>
  );
}
