import type { SessionInfo } from '../../../src-shared/session.ts';
import { hasEnded } from './session-life.ts';
import { badgeFor } from './state-badge.ts';

/**
 * Needs-you first: every session sorted into what it needs from the user. The groups come from the
 * state vocabulary (state-badge.ts) plus what this user has seen; this file only orders them.
 */
export type InboxGroup = 'needs-you' | 'working' | 'done-unseen' | 'ready' | 'ended';

export const INBOX_GROUPS: readonly { id: InboxGroup; title: string; empty: string }[] = [
  { id: 'needs-you', title: 'Needs you', empty: 'Nothing is waiting on you.' },
  { id: 'working', title: 'Working', empty: 'No agent is working.' },
  { id: 'done-unseen', title: 'Done · unseen', empty: '' },
  { id: 'ready', title: 'Ready', empty: '' },
  { id: 'ended', title: 'Ended', empty: '' },
];

/** The group a session is in (`unseen`: it finished while the user was looking elsewhere). */
export function inboxGroup(session: SessionInfo, unseen: ReadonlySet<string>): InboxGroup {
  const badge = badgeFor(session);
  if (hasEnded(session)) return unseen.has(session.session_id) ? 'done-unseen' : 'ended';
  // A live agent showing an error banner is blocked on the user too.
  if (badge.needsYou || badge.kind === 'error') return 'needs-you';
  if (badge.animated) return 'working';
  return unseen.has(session.session_id) ? 'done-unseen' : 'ready';
}

/** Whether a session counts as working (for "done · unseen": it stopped working out of sight). */
export function isWorking(session: SessionInfo | undefined): boolean {
  return !!session && !hasEnded(session) && inboxGroup(session, new Set()) === 'working';
}

export interface InboxItem {
  session: SessionInfo;
  group: InboxGroup;
  /** What the agent asks (needs-you) or why it stopped (error, exit); empty when there is nothing to say. */
  question: string;
  /** When the session entered its current state (ISO). */
  since: string;
}

/** The text a "matched …" state reason quotes: the prompt the agent showed. */
export function quotedEvidence(detail: string): string | null {
  const m = /^matched ("(?:[^"\\]|\\.)*")/.exec(detail);
  if (!m?.[1]) return null;
  try {
    return JSON.parse(m[1]) as string;
  } catch {
    return null;
  }
}

/** A line that is only a prompt (`>`, `$ `, `❯`, `choice:`…) asks nothing by itself. */
function isBarePrompt(line: string): boolean {
  return (
    line.length < 3 ||
    // No word in it: a rule, a progress bar, a box border.
    !/\p{L}{2}/u.test(line) ||
    /^[\s>$#%❯›»:]*$/.test(line) ||
    /^\S{1,24}[:>$#%❯]\s*$/.test(line)
  );
}

/**
 * What the session asks (needs-you) or why it stopped (ended): the agent's sign-in prompt, the text a
 * screen rule matched when it says something, else the last line on screen above a bare prompt.
 * `screen`: the last lines of its terminal, top-down (empty when no view holds it).
 */
export function questionFor(session: SessionInfo, screen: readonly string[] = []): string {
  const badge = badgeFor(session);
  if (session.authentication_required && session.auth_prompt?.trim()) return session.auth_prompt.trim();
  const detail = session.state_reason?.detail ?? '';
  if (hasEnded(session)) return badge.label + (detail ? ` — ${detail}` : '');
  if (!badge.needsYou && badge.kind !== 'error') return '';
  const evidence = quotedEvidence(detail);
  if (evidence && !isBarePrompt(evidence.trim())) return evidence.trim();
  for (let i = screen.length - 1; i >= 0; i--) {
    const line = screen[i]!.trim();
    if (line && !isBarePrompt(line)) return line;
  }
  return evidence?.trim() || badge.detail || detail;
}

const DEFAULT_ENDED_LIMIT = 12;

/** Every group's items, in the order the user should look at them. */
export function buildInbox(
  sessions: readonly SessionInfo[],
  unseen: ReadonlySet<string>,
  options: {
    hidden?: ReadonlySet<string>;
    endedLimit?: number;
    /** The last lines on a session's screen, when a view holds it. */
    screen?: (sessionId: string) => readonly string[];
  } = {},
): Record<InboxGroup, InboxItem[]> {
  const groups: Record<InboxGroup, InboxItem[]> = {
    'needs-you': [],
    working: [],
    'done-unseen': [],
    ready: [],
    ended: [],
  };
  for (const session of sessions) {
    if (options.hidden?.has(session.session_id)) continue;
    const group = inboxGroup(session, unseen);
    groups[group].push({
      session,
      group,
      question: questionFor(
        session,
        group === 'needs-you' ? (options.screen?.(session.session_id) ?? []) : [],
      ),
      since: session.state_reason?.at ?? session.last_activity,
    });
  }
  const byTime = (key: (i: InboxItem) => string, newestFirst: boolean) => (a: InboxItem, b: InboxItem) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : 0) * (newestFirst ? -1 : 1);
  };
  // Waiting longest first: the oldest question is the most overdue.
  groups['needs-you'].sort(byTime((i) => i.since, false));
  groups.working.sort(byTime((i) => i.session.last_activity, true));
  groups['done-unseen'].sort(byTime((i) => i.session.ended_at ?? i.since, true));
  groups.ready.sort(byTime((i) => i.session.last_activity, true));
  groups.ended.sort(byTime((i) => i.session.ended_at ?? i.session.last_activity, true));
  groups.ended = groups.ended.slice(0, options.endedLimit ?? DEFAULT_ENDED_LIMIT);
  return groups;
}

/** The session to jump to next: the first needing the user after `current` (wrapping), else null. */
export function nextNeedingYou(items: readonly InboxItem[], current: string | null): string | null {
  if (items.length === 0) return null;
  const index = items.findIndex((i) => i.session.session_id === current);
  const next = items[(index + 1) % items.length];
  return next && next.session.session_id !== current ? next.session.session_id : null;
}
