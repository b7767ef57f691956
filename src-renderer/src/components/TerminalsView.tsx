import { useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { NARROW_QUERY, useMedia } from '../hooks/use-media.ts';
import type { InboxGroup, InboxItem } from '../model/inbox.ts';
import type { Preferences } from '../model/preferences.ts';
import type { WorkspaceState } from '../model/tabs.ts';
import type { TerminalController } from '../terminal/terminal-controller.ts';
import { CloseIcon, InboxIcon, PlusIcon, SearchIcon } from './Icons.tsx';
import { Inbox, type InboxNotifications } from './Inbox.tsx';
import { SIDE_PANELS } from './side-panels.tsx';
import { TabBar } from './TabBar.tsx';
import { TerminalPane } from './TerminalPane.tsx';
import type { SessionActions } from './Workspace.tsx';

/**
 * The terminals view: the needs-you inbox (docked on wide screens, a drawer on phones), the session
 * tabs, the live terminals (all mounted, one visible) and the side panels (details, changes…).
 */
export function TerminalsView(props: {
  hidden: boolean;
  api: AutoDevApi;
  state: WorkspaceState;
  inbox: Record<InboxGroup, InboxItem[]>;
  prefs: Preferences;
  onPrefs(prefs: Preferences): void;
  readOnly: boolean;
  registry: Map<string, TerminalController>;
  actions: SessionActions;
  searchOpen: boolean;
  onSearch(open: boolean): void;
  openLink(uri: string): void;
  onStatus(session: SessionInfo): void;
  claim: { sessionId: string; tick: number } | null;
  onActivate(sessionId: string): void;
  onNew: (() => void) | null;
  onJump(): void;
  notifications: InboxNotifications | null;
}) {
  const { state, prefs, readOnly } = props;
  const narrow = useMedia(NARROW_QUERY);
  const [drawer, setDrawer] = useState(false);
  const [panel, setPanel] = useState<string | null>(null);
  const active = state.active ? state.sessions[state.active] : undefined;
  const waiting = props.inbox['needs-you'].length;
  const docked = !narrow && prefs.inbox;
  const inboxShown = docked || (narrow && drawer);
  const context = active ? { api: props.api, session: active, readOnly, actions: props.actions } : null;
  const panels = context ? SIDE_PANELS.filter((p) => p.available?.(context) ?? true) : [];
  const openPanel = panels.find((p) => p.id === panel);

  const toggleInbox = () => {
    if (narrow) setDrawer((v) => !v);
    else props.onPrefs({ ...prefs, inbox: !prefs.inbox });
  };

  return (
    <div className="terminals-view" hidden={props.hidden} data-inbox={inboxShown ? 'shown' : 'hidden'}>
      {inboxShown ? (
        <Inbox
          groups={props.inbox}
          active={state.active}
          registry={props.registry}
          onOpen={(id) => {
            setDrawer(false);
            props.actions.open(id);
          }}
          onJump={() => {
            setDrawer(false);
            props.onJump();
          }}
          notifications={props.notifications}
          {...(narrow ? { onClose: () => setDrawer(false) } : {})}
        />
      ) : null}
      <div className="terminal-column">
        <TabBar
          tabs={state.tabs}
          sessions={state.sessions}
          active={state.active}
          attention={state.attention}
          canRename={!readOnly}
          onActivate={props.onActivate}
          onClose={props.actions.requestClose}
          onRename={props.actions.rename}
          {...(props.onNew ? { onNew: props.onNew } : {})}
          leading={
            <button
              type="button"
              className={`icon-button inbox-toggle${inboxShown ? ' icon-button-on' : ''}`}
              aria-label={inboxShown ? 'Hide inbox' : 'Show inbox'}
              aria-expanded={inboxShown}
              title="Inbox: sessions grouped by what they need"
              onClick={toggleInbox}
            >
              <InboxIcon />
              {waiting > 0 && !inboxShown ? (
                <span className="count-pill count-pill-wait">{waiting}</span>
              ) : null}
            </button>
          }
          trailing={
            active ? (
              <span className="tabbar-tools">
                <button
                  type="button"
                  className="icon-button"
                  aria-label="Search in scrollback"
                  title="Search (Ctrl+Shift+F)"
                  onClick={() => props.onSearch(true)}
                >
                  <SearchIcon />
                </button>
                {panels.map((p) => (
                  <button
                    key={p.id}
                    type="button"
                    className={`icon-button${panel === p.id ? ' icon-button-on' : ''}`}
                    aria-label={`${panel === p.id ? 'Hide' : 'Show'} ${p.label}`}
                    aria-expanded={panel === p.id}
                    title={p.label.replace(/^./, (c) => c.toUpperCase())}
                    onClick={() => setPanel((current) => (current === p.id ? null : p.id))}
                  >
                    <p.Icon />
                  </button>
                ))}
              </span>
            ) : null
          }
        />
        <div className="terminal-area">
          <div className="terminal-stack">
            {state.tabs.map((id) => {
              const session = state.sessions[id];
              if (!session) return null;
              return (
                <TerminalPane
                  key={id}
                  api={props.api}
                  session={session}
                  visible={!props.hidden && state.active === id}
                  readOnly={readOnly}
                  fontSize={prefs.fontSize}
                  theme={prefs.theme}
                  webgl={prefs.gpu === 'auto'}
                  searchOpen={props.searchOpen}
                  registry={props.registry}
                  actions={props.actions}
                  claimTick={props.claim?.sessionId === id ? props.claim.tick : 0}
                  openLink={props.openLink}
                  onStatus={props.onStatus}
                  onSearchClose={() => props.onSearch(false)}
                  phoneKeys={narrow && !readOnly}
                />
              );
            })}
            {state.tabs.length === 0 ? (
              <div className="empty-state">
                <h2>No open sessions</h2>
                {props.onNew ? (
                  <>
                    <p className="muted">Start an agent or a shell; it opens here as a tab.</p>
                    <button type="button" className="button button-primary" onClick={props.onNew}>
                      <PlusIcon /> Start a session
                    </button>
                  </>
                ) : (
                  <p className="muted">Sessions started elsewhere appear here.</p>
                )}
              </div>
            ) : null}
          </div>
          {openPanel && context ? (
            <section
              className="side-panel"
              aria-label={openPanel.label.replace(/^./, (c) => c.toUpperCase())}
            >
              {narrow ? (
                <button
                  type="button"
                  className="icon-button side-panel-close"
                  aria-label="Close panel"
                  onClick={() => setPanel(null)}
                >
                  <CloseIcon />
                </button>
              ) : null}
              {openPanel.render(context)}
            </section>
          ) : null}
        </div>
      </div>
    </div>
  );
}
