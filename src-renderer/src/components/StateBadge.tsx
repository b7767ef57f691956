import type { SessionInfo } from '../../../src-shared/session.ts';
import { badgeFor } from '../model/state-badge.ts';

type BadgeSession = Parameters<typeof badgeFor>[0];

/** The live state of a session: colour + text (never colour alone), with the reason as tooltip. */
export function StateBadge({
  session,
  compact = false,
}: {
  session: BadgeSession | SessionInfo;
  compact?: boolean;
}) {
  const badge = badgeFor(session);
  const title = badge.detail ? `${badge.label}: ${badge.detail}` : badge.label;
  return (
    <span
      className={`badge badge-${badge.kind}${badge.animated ? ' badge-animated' : ''}${compact ? ' badge-compact' : ''}`}
      data-state={badge.kind}
      title={title}
    >
      <span className="badge-dot" aria-hidden="true" />
      <span className="badge-label">{badge.label}</span>
    </span>
  );
}
