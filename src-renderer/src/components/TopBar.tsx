import type { ComponentType } from 'react';
import type { ConnectionState } from '../api/client-extras.ts';
import type { View } from '../model/tabs.ts';
import { BrandMark, GearIcon, ListIcon, PlusIcon, SignOutIcon, TasksIcon, TerminalIcon } from './Icons.tsx';

const VIEWS: readonly { view: View; label: string; Icon: ComponentType<{ size?: number }> }[] = [
  { view: 'terminals', label: 'Terminals', Icon: TerminalIcon },
  { view: 'sessions', label: 'Sessions', Icon: ListIcon },
  { view: 'tasks', label: 'Tasks', Icon: TasksIcon },
  { view: 'settings', label: 'Settings', Icon: GearIcon },
];

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  open: 'Connected',
  connecting: 'Connecting…',
  closed: 'Reconnecting…',
};

/**
 * The app bar: brand, the four views (with the count of sessions that need you on Terminals),
 * connection state, read-only chip, New session and Sign out. On a phone it wraps into two rows: the
 * actions stay on screen and the views become full-width tabs.
 */
export function TopBar(props: {
  view: View;
  onView(view: View): void;
  needsYou: number;
  readOnly: boolean;
  /** Dashboard only: the live connection to the server. */
  connection: ConnectionState | null;
  onNew: (() => void) | null;
  onSignOut: (() => void) | null;
}) {
  return (
    <header className="topbar">
      <span className="brand">
        <span className="brand-mark">
          <BrandMark size={22} />
        </span>
        <span className="brand-name">AutoDev</span>
      </span>
      <nav aria-label="Main" className="nav">
        {VIEWS.map(({ view, label, Icon }) => (
          <button
            key={view}
            type="button"
            className={`nav-button${props.view === view ? ' nav-current' : ''}`}
            aria-current={props.view === view ? 'page' : undefined}
            onClick={() => props.onView(view)}
          >
            <Icon />
            <span className="nav-label">{label}</span>
            {view === 'terminals' && props.needsYou > 0 ? (
              <span className="count-pill" title={`${props.needsYou} need you`}>
                {props.needsYou}
                <span className="visually-hidden"> need you</span>
              </span>
            ) : null}
          </button>
        ))}
      </nav>
      <span className="topbar-actions">
        {props.readOnly ? (
          <span
            className="chip chip-warn"
            role="note"
            title="This token can watch but not type or change anything"
          >
            Read-only
          </span>
        ) : null}
        {props.connection ? (
          <span
            className={`connection connection-${props.connection}`}
            role="status"
            data-connection={props.connection}
          >
            <span className="connection-dot" aria-hidden="true" />
            <span className="connection-text">{CONNECTION_TEXT[props.connection]}</span>
          </span>
        ) : null}
        {props.onNew ? (
          <button
            type="button"
            className="button button-primary button-new"
            aria-label="New session"
            onClick={props.onNew}
          >
            <PlusIcon />
            <span className="button-new-label">New session</span>
          </button>
        ) : null}
        {props.onSignOut ? (
          <button
            type="button"
            className="icon-button"
            aria-label="Sign out"
            title="Sign out"
            onClick={props.onSignOut}
          >
            <SignOutIcon />
          </button>
        ) : null}
      </span>
    </header>
  );
}
