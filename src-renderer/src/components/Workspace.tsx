import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { ProviderSummary } from '../../../src-shared/rest.ts';
import type { CreateSessionRequest, SessionInfo } from '../../../src-shared/session.ts';
import type { TokenScope } from '../../../src-shared/ws-protocol.ts';
import { describeError } from '../api/api-error.ts';
import type { ClientExtras, ConnectionState } from '../api/client-extras.ts';
import { safeExternalUrl } from '../model/links.ts';
import {
  loadPreferences,
  loadTabLayout,
  type Preferences,
  savePreferences,
  saveTabLayout,
} from '../model/preferences.ts';
import { type ShortcutAction, shortcutFor, zoomFont } from '../model/shortcuts.ts';
import { isLive } from '../model/state-badge.ts';
import { initialWorkspace, type View, workspaceReducer } from '../model/tabs.ts';
import type { TerminalController } from '../terminal/terminal-controller.ts';
import { InfoIcon, SearchIcon } from './Icons.tsx';
import { ConfirmDialog } from './Modal.tsx';
import { NewSessionDialog } from './NewSessionDialog.tsx';
import { ReplayView } from './ReplayView.tsx';
import { SessionDetail } from './SessionDetail.tsx';
import { SessionsView } from './SessionsView.tsx';
import { SettingsView } from './SettingsView.tsx';
import { TabBar } from './TabBar.tsx';
import { TasksView } from './TasksView.tsx';
import { TerminalPane } from './TerminalPane.tsx';

type Identity = { user_id: string; scope: TokenScope; mode: 'desktop' | 'dashboard' };

export interface WorkspaceProps {
  api: AutoDevApi;
  extras: ClientExtras;
  identity: Identity;
}

const storage = (kind: 'local' | 'session'): Storage | null => {
  try {
    return kind === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    return null;
  }
};

/** The app once connected: nav, tabs with live terminals, sessions list, settings, dialogs. */
export function Workspace({ api, extras, identity }: WorkspaceProps) {
  const [state, dispatch] = useReducer(workspaceReducer, undefined, initialWorkspace);
  const [prefs, setPrefsState] = useState<Preferences>(() =>
    loadPreferences(storage('local'), window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? true),
  );
  const [providers, setProviders] = useState<ProviderSummary[] | null>(null);
  const [providersError, setProvidersError] = useState<string | null>(null);
  const [connection, setConnection] = useState<ConnectionState>('open');
  const [showNew, setShowNew] = useState(false);
  const [confirmClose, setConfirmClose] = useState<SessionInfo | null>(null);
  const [searchOpen, setSearchOpen] = useState(false);
  const [detailOpen, setDetailOpen] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [replay, setReplay] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const registry = useRef(new Map<string, TerminalController>()).current;
  const readOnly = identity.scope !== 'control';

  const setPrefs = useCallback((next: Preferences) => {
    setPrefsState(next);
    savePreferences(storage('local'), next);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = prefs.theme;
  }, [prefs.theme]);

  // Live session list: subscribe first, then load, so nothing between the two is lost.
  useEffect(() => {
    const off = api.onEvent((event) => dispatch({ type: 'event', event }));
    let cancelled = false;
    const layout = loadTabLayout(storage('session'));
    api
      .listSessions({ limit: 500 })
      .then((page) => {
        if (cancelled) return;
        dispatch({
          type: 'loaded',
          sessions: page.items,
          restore: layout,
        });
        setLoaded(true);
      })
      .catch((e) => !cancelled && setNotice(`Could not load sessions: ${describeError(e)}`));
    api
      .listProviders()
      .then((p) => !cancelled && setProviders(p))
      .catch((e) => !cancelled && setProvidersError(describeError(e)));
    return () => {
      cancelled = true;
      off();
    };
  }, [api]);

  useEffect(() => extras.onConnectionChange?.(setConnection), [extras]);

  // Desktop: tell the main process which session is on screen (no notification for it).
  const viewed = state.windowVisible && state.view === 'terminals' ? state.active : null;
  useEffect(() => extras.setViewedSession?.(viewed), [extras, viewed]);

  useEffect(() => {
    if (loaded)
      saveTabLayout(storage('session'), {
        tabs: [...state.tabs],
        active: state.active,
        attention: [...state.attention],
      });
  }, [loaded, state.tabs, state.active, state.attention]);

  useEffect(() => {
    const onVisibility = () =>
      dispatch({ type: 'window-visible', visible: document.visibilityState === 'visible' });
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, []);

  // The window title counts sessions that need the user, so a background browser tab shows it too.
  useEffect(() => {
    const n = state.attention.size;
    document.title = n > 0 ? `(${n}) AutoDev` : 'AutoDev';
  }, [state.attention]);

  const openLink = useCallback(
    (uri: string) => {
      const url = safeExternalUrl(uri);
      if (!url) {
        setNotice(`Blocked a link that is not http(s): ${uri.slice(0, 80)}`);
        return;
      }
      if (extras.openExternal) void extras.openExternal(url);
      else window.open(url, '_blank', 'noopener,noreferrer');
    },
    [extras],
  );

  const activeSession = state.active ? state.sessions[state.active] : undefined;

  const requestClose = useCallback(
    (sessionId: string) => {
      const session = state.sessions[sessionId];
      if (session && isLive(session) && !readOnly) setConfirmClose(session);
      else dispatch({ type: 'close', sessionId });
    },
    [state.sessions, readOnly],
  );

  const terminate = useCallback(
    async (sessionId: string, closeTab: boolean) => {
      try {
        await api.terminateSession(sessionId);
        if (closeTab) dispatch({ type: 'close', sessionId });
      } catch (e) {
        setNotice(`Could not terminate: ${describeError(e)}`);
      }
    },
    [api],
  );

  const onShortcut = useCallback(
    (action: ShortcutAction) => {
      switch (action.type) {
        case 'new-session':
          if (!readOnly) setShowNew(true);
          return;
        case 'close-tab':
          if (state.active) requestClose(state.active);
          return;
        case 'next-tab':
          return dispatch({ type: 'cycle', delta: 1 });
        case 'previous-tab':
          return dispatch({ type: 'cycle', delta: -1 });
        case 'tab-index':
          return dispatch({ type: 'activate-index', index: action.index });
        case 'zoom':
          return setPrefs({ ...prefs, fontSize: zoomFont(prefs.fontSize, action.delta) });
        case 'search':
          if (state.view === 'terminals' && state.active) setSearchOpen(true);
          return;
        case 'copy': {
          const text = state.active ? registry.get(state.active)?.getSelection() : '';
          if (text) void navigator.clipboard?.writeText(text);
          return;
        }
        case 'paste': {
          const controller = state.active ? registry.get(state.active) : undefined;
          if (controller && !readOnly)
            void navigator.clipboard
              ?.readText()
              .then((text) => controller.paste(text))
              .catch(() => {});
          return;
        }
      }
    },
    [readOnly, state.active, state.view, prefs, requestClose, setPrefs, registry],
  );

  // Desktop menu items and notification clicks arrive as events.
  const onShortcutRef = useRef(onShortcut);
  onShortcutRef.current = onShortcut;
  useEffect(
    () =>
      extras.onDesktopEvent?.((event) => {
        if (event.kind === 'focus_session') dispatch({ type: 'open', sessionId: event.session_id });
        if (event.kind !== 'menu') return;
        const map = {
          new_session: { type: 'new-session' },
          close_tab: { type: 'close-tab' },
          next_tab: { type: 'next-tab' },
          previous_tab: { type: 'previous-tab' },
          find: { type: 'search' },
          open_settings: null,
        } as const satisfies Record<string, ShortcutAction | null>;
        const action = map[event.action];
        if (action) onShortcutRef.current(action);
        else dispatch({ type: 'view', view: 'settings' });
      }),
    [extras],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // Leave dialogs and text fields their own keys, except the tab-level chords.
      const action = shortcutFor(event);
      if (!action) return;
      const inModal = (event.target as HTMLElement | null)?.closest?.('[role="dialog"]');
      if (inModal) return;
      event.preventDefault();
      event.stopPropagation();
      onShortcut(action);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onShortcut]);

  const createSession = async (request: CreateSessionRequest) => {
    const session = await api.createSession(request);
    dispatch({ type: 'upsert', session, open: true, activate: true });
    dispatch({ type: 'view', view: 'terminals' });
    setShowNew(false);
  };

  const rename = async (sessionId: string, name: string) => {
    try {
      dispatch({ type: 'upsert', session: await api.renameSession(sessionId, name) });
    } catch (e) {
      setNotice(`Could not rename: ${describeError(e)}`);
    }
  };

  const setView = (view: View) => dispatch({ type: 'view', view });
  const replaySession = replay ? state.sessions[replay] : undefined;
  const selectedSession = selected ? state.sessions[selected] : undefined;

  return (
    <div className="app" data-mode={identity.mode} data-scope={identity.scope}>
      <header className="topbar">
        <span className="brand" aria-hidden="true">
          AutoDev
        </span>
        <nav aria-label="Main">
          {(
            [
              ['terminals', 'Terminals'],
              ['sessions', 'Sessions'],
              ['tasks', 'Tasks'],
              ['settings', 'Settings'],
            ] as const
          ).map(([view, label]) => (
            <button
              key={view}
              type="button"
              className={`nav-button${state.view === view ? ' nav-current' : ''}`}
              aria-current={state.view === view ? 'page' : undefined}
              onClick={() => setView(view)}
            >
              {label}
            </button>
          ))}
        </nav>
        <span className="spacer" />
        {readOnly ? (
          <span className="readonly-banner" role="note">
            Read-only access
          </span>
        ) : null}
        {identity.mode === 'dashboard' ? (
          <span className={`connection connection-${connection}`} role="status" data-connection={connection}>
            {connection === 'open'
              ? 'Connected'
              : connection === 'connecting'
                ? 'Connecting…'
                : 'Reconnecting…'}
          </span>
        ) : null}
        {!readOnly ? (
          <button type="button" className="button button-primary" onClick={() => setShowNew(true)}>
            New session
          </button>
        ) : null}
        {extras.signOut ? (
          <button type="button" className="button" onClick={extras.signOut}>
            Sign out
          </button>
        ) : null}
      </header>
      {readOnly ? (
        <p className="readonly-strip" role="note">
          Read-only: this token can watch sessions but cannot type, create, rename or terminate them.
        </p>
      ) : null}
      {notice ? (
        <div className="notice" role="alert">
          <span>{notice}</span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      ) : null}

      <main className="main">
        <div className="terminals-view" hidden={state.view !== 'terminals'}>
          <TabBar
            tabs={state.tabs}
            sessions={state.sessions}
            active={state.active}
            attention={state.attention}
            canRename={!readOnly}
            onActivate={(id) => dispatch({ type: 'activate', sessionId: id })}
            onClose={requestClose}
            onRename={rename}
            {...(readOnly ? {} : { onNew: () => setShowNew(true) })}
          />
          <div className="terminal-area">
            <div className="terminal-stack">
              {state.tabs.map((id) => {
                const session = state.sessions[id];
                if (!session) return null;
                return (
                  <TerminalPane
                    key={id}
                    api={api}
                    session={session}
                    visible={state.view === 'terminals' && state.active === id}
                    readOnly={readOnly}
                    fontSize={prefs.fontSize}
                    theme={prefs.theme}
                    webgl={prefs.gpu === 'auto'}
                    searchOpen={searchOpen}
                    registry={registry}
                    openLink={openLink}
                    onStatus={(s) => dispatch({ type: 'upsert', session: s })}
                    onSearchClose={() => setSearchOpen(false)}
                  />
                );
              })}
              {state.tabs.length === 0 ? (
                <div className="empty">
                  <p>No open sessions.</p>
                  {!readOnly ? (
                    <button type="button" className="button button-primary" onClick={() => setShowNew(true)}>
                      Start a session (Ctrl+Shift+T)
                    </button>
                  ) : (
                    <p className="muted">Sessions started elsewhere appear here.</p>
                  )}
                </div>
              ) : null}
            </div>
            {activeSession ? (
              <div className="terminal-side">
                <button
                  type="button"
                  className="icon-button"
                  aria-label={detailOpen ? 'Hide session details' : 'Show session details'}
                  aria-expanded={detailOpen}
                  title="Session details"
                  onClick={() => setDetailOpen((v) => !v)}
                >
                  <InfoIcon />
                </button>
                <button
                  type="button"
                  className="icon-button"
                  aria-label="Search in scrollback"
                  title="Search (Ctrl+Shift+F)"
                  onClick={() => setSearchOpen(true)}
                >
                  <SearchIcon />
                </button>
                {detailOpen ? (
                  <SessionDetail
                    api={api}
                    session={activeSession}
                    readOnly={readOnly}
                    onTerminate={() => requestClose(activeSession.session_id)}
                  />
                ) : null}
              </div>
            ) : null}
          </div>
        </div>

        {state.view === 'sessions' ? (
          <div className="sessions-layout">
            {replaySession ? (
              <ReplayView
                api={api}
                session={replaySession}
                theme={prefs.theme}
                fontSize={prefs.fontSize}
                onClose={() => setReplay(null)}
              />
            ) : (
              <SessionsView
                api={api}
                live={state.sessions}
                selected={selected}
                onSelect={(id) => {
                  setSelected(id);
                  if (!state.sessions[id])
                    void api
                      .getSession(id)
                      .then((s) => dispatch({ type: 'upsert', session: s }))
                      .catch(() => {});
                }}
                onOpen={(id) => {
                  if (state.sessions[id]) dispatch({ type: 'open', sessionId: id });
                  else
                    void api
                      .getSession(id)
                      .then((s) => dispatch({ type: 'upsert', session: s, open: true, activate: true }))
                      .then(() => dispatch({ type: 'view', view: 'terminals' }));
                }}
                onReplay={(id) => {
                  const show = () => setReplay(id);
                  if (state.sessions[id]) show();
                  else
                    void api
                      .getSession(id)
                      .then((s) => dispatch({ type: 'upsert', session: s }))
                      .then(show);
                }}
              />
            )}
            {selectedSession && !replaySession ? (
              <SessionDetail
                api={api}
                session={selectedSession}
                readOnly={readOnly}
                onOpen={() => dispatch({ type: 'open', sessionId: selectedSession.session_id })}
                onReplay={() => setReplay(selectedSession.session_id)}
                onTerminate={() => setConfirmClose(selectedSession)}
              />
            ) : null}
          </div>
        ) : null}

        {state.view === 'tasks' ? (
          <TasksView
            api={api}
            providers={providers}
            providersError={providersError}
            readOnly={readOnly}
            {...(extras.selectDirectory ? { selectDirectory: extras.selectDirectory } : {})}
          />
        ) : null}

        {state.view === 'settings' ? (
          <SettingsView
            api={api}
            prefs={prefs}
            onPrefs={setPrefs}
            providers={providers}
            providersError={providersError}
            limitsSessionId={state.active}
            identity={identity}
            {...(extras.dashboard ? { dashboard: extras.dashboard } : {})}
            {...(extras.signOut ? { onSignOut: extras.signOut } : {})}
          />
        ) : null}
      </main>

      {showNew ? (
        <NewSessionDialog
          providers={providers}
          providersError={providersError}
          defaultProvider={activeSession?.cli_tool ?? 'shell'}
          {...(activeSession ? { defaultDirectory: activeSession.current_directory } : {})}
          onCreate={createSession}
          onClose={() => setShowNew(false)}
          {...(extras.selectDirectory ? { selectDirectory: extras.selectDirectory } : {})}
          inspectRepository={(dir) => api.inspectRepository(dir)}
        />
      ) : null}
      {confirmClose ? (
        <ConfirmDialog
          title={`Stop ${confirmClose.name}?`}
          message={`${confirmClose.name} is still running. Closing its tab terminates the agent and everything it started.`}
          actions={[
            {
              label: 'Terminate',
              tone: 'danger',
              onClick: () => {
                const id = confirmClose.session_id;
                setConfirmClose(null);
                void terminate(id, state.tabs.includes(id));
              },
            },
            {
              label: 'Hide tab, keep running',
              onClick: () => {
                dispatch({ type: 'close', sessionId: confirmClose.session_id });
                setConfirmClose(null);
              },
            },
          ]}
          onCancel={() => setConfirmClose(null)}
        />
      ) : null}
    </div>
  );
}
