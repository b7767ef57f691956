import { type Activity, type ActivityInput, sessionActivity } from '../../../src-shared/activity.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';

/**
 * What a tab or list row shows for a session's state. The words come from the one shared vocabulary
 * (`sessionActivity` in src-shared/activity.ts); this only adds what the badge draws.
 */
export type BadgeKind = 'starting' | 'running' | 'processing' | 'waiting' | 'auth' | 'error' | 'exited';

export interface BadgeModel {
  /** The shared vocabulary's word for it (working, needs_you, ready, sign_in, error, exited, starting). */
  activity: Activity;
  /** Style class of the badge (badge-<kind>). */
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

type BadgeInput = ActivityInput;

/** Existing badge styles per activity: a shell that is ready looks calm, like a running program. */
const KIND: Readonly<Record<Activity, BadgeKind>> = {
  starting: 'starting',
  working: 'processing',
  needs_you: 'waiting',
  ready: 'running',
  sign_in: 'auth',
  error: 'error',
  exited: 'exited',
};

export function badgeFor(session: BadgeInput): BadgeModel {
  const a = sessionActivity(session);
  return {
    activity: a.activity,
    kind: KIND[a.activity],
    label: a.label,
    detail: a.reason,
    needsYou: a.attention,
    animated: a.activity === 'working' || a.activity === 'starting',
  };
}

/** Sessions whose process has ended: replayable, not attachable for input. */
export function isEnded(session: Pick<SessionInfo, 'state'>): boolean {
  return session.state === 'completed' || session.state === 'terminated';
}

/** A running agent: closing its tab needs confirmation because it ends the process. */
export function isLive(session: Pick<SessionInfo, 'state'>): boolean {
  return !isEnded(session);
}
