import type { SessionInfo } from '../../../src-shared/session.ts';
import type { ConnectionState } from '../api/client-extras.ts';
import { hasEnded } from '../model/session-life.ts';
import { badgeFor } from '../model/state-badge.ts';

/**
 * The line above a terminal that says what the agent needs: its sign-in prompt, its error and why, or
 * how it exited; plus read-only and connection notices. Agent text is rendered as text, never HTML.
 */
export function SessionBanner({
  session,
  readOnly,
  connection,
  streamError,
}: {
  session: SessionInfo;
  readOnly: boolean;
  connection: ConnectionState;
  streamError: string | null;
}) {
  const badge = badgeFor(session);
  const notes: { key: string; tone: string; text: string; role?: 'alert' | 'status' }[] = [];
  // An ended session says how it ended in its own bar (with Replay / Resume / Remove).
  const ended = hasEnded(session);
  if (!ended && badge.kind === 'auth')
    notes.push({ key: 'auth', tone: 'auth', text: `Sign-in required — ${badge.detail}`, role: 'alert' });
  else if (!ended && badge.kind === 'error')
    notes.push({ key: 'error', tone: 'error', text: `Error — ${badge.detail}`, role: 'alert' });

  if (streamError) notes.push({ key: 'stream', tone: 'error', text: streamError, role: 'alert' });
  else if (connection === 'closed' && !ended)
    notes.push({ key: 'conn', tone: 'warn', text: 'Connection lost — reconnecting…', role: 'status' });
  if (readOnly) notes.push({ key: 'ro', tone: 'readonly', text: 'Read-only: you can watch but not type.' });
  if (notes.length === 0) return null;
  return (
    <div className="session-banner">
      {notes.map((n) => (
        <p key={n.key} className={`note note-${n.tone}`} role={n.role} data-note={n.key}>
          {n.text}
        </p>
      ))}
    </div>
  );
}
