import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { badgeFor } from '../model/state-badge.ts';
import { CloseIcon, PlusIcon } from './Icons.tsx';
import { ProviderIcon } from './ProviderIcon.tsx';
import { StateBadge } from './StateBadge.tsx';

export interface TabBarProps {
  tabs: readonly string[];
  sessions: Readonly<Record<string, SessionInfo>>;
  active: string | null;
  attention: ReadonlySet<string>;
  canRename: boolean;
  onActivate(sessionId: string): void;
  onClose(sessionId: string): void;
  onRename(sessionId: string, name: string): void;
  onNew?: () => void;
  /** Before the tabs (the inbox toggle) and after them (search, side panels). */
  leading?: ReactNode;
  trailing?: ReactNode;
}

export function tabDomId(sessionId: string): string {
  return `tab-${sessionId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function panelDomId(sessionId: string): string {
  return `panel-${sessionId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Session tabs (WAI-ARIA tabs pattern: arrow keys move between tabs, Delete closes). */
export function TabBar(props: TabBarProps) {
  const { tabs, sessions, active } = props;
  const refs = useRef(new Map<string, HTMLElement>());
  const [renaming, setRenaming] = useState<string | null>(null);

  const onKeyDown = (event: KeyboardEvent, sessionId: string) => {
    const index = tabs.indexOf(sessionId);
    let target: string | undefined;
    if (event.key === 'ArrowRight') target = tabs[(index + 1) % tabs.length];
    else if (event.key === 'ArrowLeft') target = tabs[(index - 1 + tabs.length) % tabs.length];
    else if (event.key === 'Home') target = tabs[0];
    else if (event.key === 'End') target = tabs[tabs.length - 1];
    else if (event.key === 'F2' && props.canRename) {
      event.preventDefault();
      setRenaming(sessionId);
      return;
    } else if (event.key === 'Delete') {
      event.preventDefault();
      props.onClose(sessionId);
      return;
    }
    if (target) {
      event.preventDefault();
      props.onActivate(target);
      refs.current.get(target)?.focus();
    }
  };

  return (
    <div className="tabbar">
      {props.leading}
      <div className="tabs" role="tablist" aria-label="Sessions">
        {tabs.map((id) => {
          const session = sessions[id];
          if (!session) return null;
          const selected = id === active;
          const marked = props.attention.has(id);
          return (
            <div
              key={id}
              className={`tab${selected ? ' tab-selected' : ''}${marked ? ' tab-attention' : ''}`}
              data-session-id={id}
            >
              <div
                ref={(el) => {
                  if (el) refs.current.set(id, el);
                  else refs.current.delete(id);
                }}
                role="tab"
                id={tabDomId(id)}
                aria-selected={selected}
                aria-controls={panelDomId(id)}
                aria-label={`${session.name}, ${badgeFor(session).label}${marked ? ', needs your attention' : ''}`}
                tabIndex={selected ? 0 : -1}
                className="tab-main"
                onClick={() => props.onActivate(id)}
                onDoubleClick={() => props.canRename && setRenaming(id)}
                onKeyDown={(e) => onKeyDown(e, id)}
              >
                <ProviderIcon provider={session.cli_tool} />
                <TabName
                  session={session}
                  editing={renaming === id}
                  canRename={props.canRename}
                  onDone={(name) => {
                    setRenaming(null);
                    if (name !== null) props.onRename(id, name);
                    refs.current.get(id)?.focus();
                  }}
                />
                <StateBadge session={session} compact />
                {marked ? <span className="attention-dot" aria-hidden="true" /> : null}
              </div>
              <button
                type="button"
                className="icon-button tab-close"
                aria-label={`Close ${session.name}`}
                title="Close tab"
                tabIndex={selected ? 0 : -1}
                onClick={() => props.onClose(id)}
              >
                <CloseIcon size={14} />
              </button>
            </div>
          );
        })}
      </div>
      {props.onNew ? (
        <button
          type="button"
          className="icon-button tab-new"
          aria-label="New session"
          title="New session"
          onClick={props.onNew}
        >
          <PlusIcon />
        </button>
      ) : null}
      <span className="spacer" />
      {props.trailing}
    </div>
  );
}

/** The tab's label; an input while renaming (F2 or double-click on the tab, Enter saves, Esc cancels). */
function TabName({
  session,
  editing,
  canRename,
  onDone,
}: {
  session: SessionInfo;
  editing: boolean;
  canRename: boolean;
  onDone(name: string | null): void;
}) {
  const [value, setValue] = useState(session.name);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (editing) {
      setValue(session.name);
      queueMicrotask(() => input.current?.select());
    }
  }, [editing, session.name]);
  if (!editing) {
    return (
      <span
        className="tab-name"
        title={canRename ? `${session.name} (F2 or double-click to rename)` : session.name}
      >
        {session.name}
      </span>
    );
  }
  const commit = () => {
    const name = value.trim().slice(0, 200);
    onDone(name && name !== session.name ? name : null);
  };
  return (
    <input
      ref={input}
      className="tab-rename"
      aria-label="Session name"
      value={value}
      maxLength={200}
      onChange={(e) => setValue(e.target.value)}
      onClick={(e) => e.stopPropagation()}
      onDoubleClick={(e) => e.stopPropagation()}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') commit();
        if (e.key === 'Escape') onDone(null);
      }}
      onBlur={commit}
    />
  );
}
