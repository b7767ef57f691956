import type { NotificationPermissionState } from '../hooks/use-attention-notifications.ts';
import { useNow } from '../hooks/use-now.ts';
import { INBOX_GROUPS, type InboxGroup, type InboxItem, questionFor } from '../model/inbox.ts';
import { formatAge } from '../model/session-filter.ts';
import type { TerminalController } from '../terminal/terminal-controller.ts';
import { BellIcon, CloseIcon, JumpIcon } from './Icons.tsx';
import { ProviderIcon } from './ProviderIcon.tsx';
import { StateBadge } from './StateBadge.tsx';

export interface InboxNotifications {
  permission: NotificationPermissionState;
  request(): Promise<NotificationPermissionState>;
}

/**
 * Needs-you first: every session grouped by what it needs from you — waiting on you (with the
 * question itself), working, done and unseen, ready, ended — each with its last line and age.
 * Alt+J (or the jump button) goes to the next session that needs you.
 */
export function Inbox(props: {
  groups: Record<InboxGroup, InboxItem[]>;
  active: string | null;
  registry: ReadonlyMap<string, TerminalController>;
  onOpen(sessionId: string): void;
  onJump(): void;
  notifications: InboxNotifications | null;
  /** Phone: the inbox is a drawer with its own close button. */
  onClose?: () => void;
}) {
  const now = useNow(1000);
  const waiting = props.groups['needs-you'].length;
  const total = INBOX_GROUPS.reduce((n, g) => n + props.groups[g.id].length, 0);
  return (
    <aside className="inbox" aria-label="Inbox">
      <header className="inbox-header">
        <h2>
          Inbox
          {waiting > 0 ? <span className="count-pill count-pill-wait">{waiting}</span> : null}
        </h2>
        <button
          type="button"
          className="icon-button"
          aria-label="Next session that needs you"
          title="Next session that needs you (Alt+J)"
          disabled={waiting === 0}
          onClick={props.onJump}
        >
          <JumpIcon />
        </button>
        {props.notifications && props.notifications.permission === 'default' ? (
          <button
            type="button"
            className="icon-button"
            aria-label="Turn on notifications"
            title="Notify me when an agent needs me while this page is in the background"
            onClick={() => void props.notifications?.request()}
          >
            <BellIcon />
          </button>
        ) : null}
        {props.onClose ? (
          <button type="button" className="icon-button" aria-label="Close inbox" onClick={props.onClose}>
            <CloseIcon />
          </button>
        ) : null}
      </header>
      <div className="inbox-scroll">
        {total === 0 ? <p className="inbox-empty muted">No sessions yet.</p> : null}
        {INBOX_GROUPS.map((group) => {
          const items = props.groups[group.id];
          if (items.length === 0 && group.id !== 'needs-you') return null;
          if (items.length === 0 && total === 0) return null;
          return (
            <section key={group.id} className="inbox-group" data-group={group.id} aria-label={group.title}>
              <h3 className="inbox-group-title">
                {group.title} <span className="muted">{items.length}</span>
              </h3>
              {items.length === 0 ? (
                <p className="inbox-empty muted">{group.empty}</p>
              ) : (
                <ul className="plain-list">
                  {items.map((item) => (
                    <InboxRow
                      key={item.session.session_id}
                      item={item}
                      now={now}
                      active={item.session.session_id === props.active}
                      screen={props.registry.get(item.session.session_id)?.lastLines(4) ?? []}
                      onOpen={() => props.onOpen(item.session.session_id)}
                    />
                  ))}
                </ul>
              )}
            </section>
          );
        })}
      </div>
    </aside>
  );
}

function InboxRow({
  item,
  now,
  active,
  screen,
  onOpen,
}: {
  item: InboxItem;
  now: number;
  active: boolean;
  /** The last lines of its terminal (re-read every second with the clock). */
  screen: readonly string[];
  onOpen(): void;
}) {
  const { session, group } = item;
  const question = group === 'needs-you' ? questionFor(session, screen) : item.question;
  // The question is the point of the row; the last line adds context when it says something else.
  const lastLine = screen.at(-1) ?? '';
  const line = lastLine && lastLine !== question ? lastLine : '';
  return (
    <li>
      <button
        type="button"
        className={`inbox-row${active ? ' inbox-row-active' : ''}`}
        data-session-id={session.session_id}
        data-group={group}
        aria-current={active ? 'true' : undefined}
        onClick={onOpen}
      >
        <span className="inbox-row-head">
          <ProviderIcon provider={session.cli_tool} size={16} />
          <span className="inbox-name">{session.name}</span>
          <span className="inbox-age" title={new Date(item.since).toLocaleString()}>
            {formatAge(group === 'needs-you' ? item.since : session.last_activity, now)}
          </span>
        </span>
        {question ? (
          <span className="inbox-question" data-field="question">
            {question}
          </span>
        ) : null}
        {line ? (
          <span className="inbox-line mono" data-field="last-line">
            {line}
          </span>
        ) : null}
        <span className="inbox-row-foot">
          <StateBadge session={session} compact />
        </span>
      </button>
    </li>
  );
}
