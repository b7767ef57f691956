import type { ProviderKind, SessionInfo } from './session.ts';

export { PROVIDER_KINDS, type ProviderKind } from './session.ts';

/**
 * The ONE vocabulary every surface uses for "what is this session doing, and does it need me?" (tabs,
 * badges, notifications, filters, API docs). It is derived from the session state machine
 * (src-shared/session.ts) plus the kind of program the provider runs; it is not stored.
 *
 * | activity   | label              | when                                                                    |
 * |------------|--------------------|-------------------------------------------------------------------------|
 * | starting   | Starting           | `initializing`, `starting`                                              |
 * | working    | Working            | `processing`, `running` (the agent or a shell command is at work)       |
 * | needs_you  | Needs you          | an AGENT in `waiting_input`: turn finished, permission or trust question |
 * | ready      | Ready              | a plain SHELL in `waiting_input`: at its prompt, nobody is waiting       |
 * | sign_in    | Sign-in required   | `authentication_required` while the process lives (login, API key)      |
 * | error      | Error              | `error`: a live agent showing an error banner, or a failed start/exit   |
 * | exited     | Exited             | `completed`, `terminated`                                               |
 *
 * "Needs you" is kept for an agent waiting on its user. A shell at its prompt is the normal resting
 * state of a terminal, so it is `ready`, never amber.
 */
export const ACTIVITIES = [
  'starting',
  'working',
  'needs_you',
  'ready',
  'sign_in',
  'error',
  'exited',
] as const;
export type Activity = (typeof ACTIVITIES)[number];

export const ACTIVITY_LABELS: Readonly<Record<Activity, string>> = {
  starting: 'Starting',
  working: 'Working',
  needs_you: 'Needs you',
  ready: 'Ready',
  sign_in: 'Sign-in required',
  error: 'Error',
  exited: 'Exited',
};

export type ActivityInput = Pick<
  SessionInfo,
  'state' | 'state_reason' | 'authentication_required' | 'auth_prompt' | 'exit_code' | 'exit_signal'
> &
  Partial<Pick<SessionInfo, 'provider_kind' | 'ended_at'>>;

export interface SessionActivity {
  activity: Activity;
  /** Short text for a badge ("Needs you", "Exited (1)"). */
  label: string;
  /** Why: the agent's prompt for sign-in, the banner for an error, the exit's last error line… */
  reason: string;
  /** The user is wanted: highlight the tab, notify. True for needs_you, sign_in and a live error. */
  attention: boolean;
  /** The process is still running. */
  live: boolean;
}

export function sessionActivity(session: ActivityInput, kind?: ProviderKind): SessionActivity {
  const providerKind = kind ?? session.provider_kind ?? 'agent';
  const reason = session.state_reason?.detail ?? '';
  const ended =
    session.state === 'completed' ||
    session.state === 'terminated' ||
    (session.ended_at !== undefined && session.ended_at !== null);
  const make = (activity: Activity, why: string, attention: boolean, label = ACTIVITY_LABELS[activity]) => ({
    activity,
    label,
    reason: why,
    attention,
    live: !ended,
  });
  if (session.authentication_required && !ended) {
    return make('sign_in', session.auth_prompt?.trim() || reason || 'The agent asks you to sign in.', true);
  }
  switch (session.state) {
    case 'initializing':
    case 'starting':
      return make('starting', reason, false);
    case 'running':
    case 'processing':
      return make('working', reason, false);
    case 'waiting_input':
      return providerKind === 'shell' ? make('ready', reason, false) : make('needs_you', reason, true);
    case 'error':
      return make(
        'error',
        reason || 'The session reported an error.',
        !ended,
        ended ? failedLabel(session) : 'Error',
      );
    case 'completed':
    case 'terminated':
      return make('exited', reason, false, exitLabel(session));
  }
}

function exitLabel(session: ActivityInput): string {
  if (session.exit_code !== null && session.exit_code !== undefined) return `Exited (${session.exit_code})`;
  if (session.exit_signal) return `Exited (${session.exit_signal})`;
  return session.state === 'terminated' ? 'Terminated' : 'Exited';
}

function failedLabel(session: ActivityInput): string {
  if (session.exit_code !== null && session.exit_code !== undefined) return `Failed (${session.exit_code})`;
  if (session.exit_signal) return `Failed (${session.exit_signal})`;
  return 'Failed';
}
