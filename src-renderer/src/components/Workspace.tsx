import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { CreateSessionRequest, SessionInfo } from '../../../src-shared/session.ts';
import type { TokenScope } from '../../../src-shared/ws-protocol.ts';
import { describeError } from '../api/api-error.ts';
import type { ClientExtras, ConnectionState } from '../api/client-extras.ts';
import { resumeApi } from '../api/session-actions.ts';
import { useAttentionNotifications } from '../hooks/use-attention-notifications.ts';
import { usePreferences } from '../hooks/use-preferences.ts';
import { useShortcuts } from '../hooks/use-shortcuts.ts';
import { useProviders, useWorkspace } from '../hooks/use-workspace.ts';
import { buildInbox, nextNeedingYou } from '../model/inbox.ts';
import { safeExternalUrl } from '../model/links.ts';
import { ptyHostNotice } from '../model/pty-host.ts';
import { hasEnded } from '../model/session-life.ts';
import { zoomFont } from '../model/shortcuts.ts';
import type { View } from '../model/tabs.ts';
import type { TerminalController } from '../terminal/terminal-controller.ts';
import { ConfirmDialog } from './Modal.tsx';
import { NewSessionDialog } from './NewSessionDialog.tsx';
import { SessionsPage } from './SessionsPage.tsx';
import { SettingsView } from './SettingsView.tsx';
import { TasksView } from './TasksView.tsx';
import { TerminalsView } from './TerminalsView.tsx';
import { TopBar } from './TopBar.tsx';

type Identity = { user_id: string; scope: TokenScope; mode: 'desktop' | 'dashboard' };

export interface WorkspaceProps {
  api: AutoDevApi;
  extras: ClientExtras;
  identity: Identity;
}

/** What a session action needs from the workspace (tabs, notices, dialogs). */
export interface SessionActions {
  /** A person chose this session (tab click, inbox, Alt+J, notification): show it and let it take the size. */
  open(sessionId: string): void;
  replay(sessionId: string): void;
  resume?: (sessionId: string) => void;
  remove(sessionId: string): void;
  requestClose(sessionId: string): void;
  rename(sessionId: string, name: string): void;
}

/** The app once connected: top bar, needs-you inbox, tabs with live terminals, the other views, dialogs. */
export function Workspace({ api, extras, identity }: WorkspaceProps) {
  const { state, dispatch, loaded, loadError, removed, remove } = useWorkspace(api, extras);
  const { providers, error: providersError } = useProviders(api);
  const [prefs, setPrefs] = usePreferences();
  const [connection, setConnection] = useState<ConnectionState>('open');
  const [showNew, setShowNew] = useState(false);
  const [confirmClose, setConfirmClose] = useState<SessionInfo | null>(null);
  const [searchOpen, setSearchOpen] = useState(false);
  const [replay, setReplay] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const registry = useRef(new Map<string, TerminalController>()).current;
  const readOnly = identity.scope !== 'control';
  // A person activated this session: its pane claims the PTY size once it is visible.
  const [claim, setClaim] = useState<{ sessionId: string; tick: number } | null>(null);
  const requestClaim = useCallback(
    (sessionId: string) => setClaim((c) => ({ sessionId, tick: (c?.tick ?? 0) + 1 })),
    [],
  );

  useEffect(() => extras.onConnectionChange?.(setConnection), [extras]);
  // The PTY host (where the agents live) stopped or came back: say what happened.
  useEffect(() => {
    let previous: Parameters<typeof ptyHostNotice>[1] = null;
    return api.onEvent((event) => {
      if (event.kind !== 'pty_host') return;
      const message = ptyHostNotice(event.status, previous);
      previous = event.status;
      if (message) setNotice(message);
    });
  }, [api]);
  useEffect(() => {
    if (loadError) setNotice(`Could not load sessions: ${loadError}`);
  }, [loadError]);

  const sessionList = useMemo(() => Object.values(state.sessions), [state.sessions]);
  const inbox = useMemo(
    () => buildInbox(sessionList, state.unseen, { hidden: removed }),
    [sessionList, state.unseen, removed],
  );

  /** Bring a session to the front; a person asked for it, so it also takes the PTY size. */
  const open = useCallback(
    (sessionId: string) => {
      setReplay(null);
      if (state.sessions[sessionId]) {
        dispatch({ type: 'open', sessionId });
        requestClaim(sessionId);
        return;
      }
      void api
        .getSession(sessionId)
        .then((s) => {
          dispatch({ type: 'upsert', session: s, open: true, activate: true });
          dispatch({ type: 'view', view: 'terminals' });
          requestClaim(sessionId);
        })
        .catch(() => setNotice('That session is no longer known to the server.'));
    },
    [api, dispatch, requestClaim, state.sessions],
  );

  const showReplay = useCallback(
    (sessionId: string) => {
      const show = () => {
        setReplay(sessionId);
        dispatch({ type: 'view', view: 'sessions' });
      };
      if (state.sessions[sessionId]) show();
      else
        void api
          .getSession(sessionId)
          .then((s) => dispatch({ type: 'upsert', session: s }))
          .then(show)
          .catch(() => setNotice('That session is no longer known to the server.'));
    },
    [api, dispatch, state.sessions],
  );

  const resumer = resumeApi(api);
  const resume = resumer
    ? (sessionId: string) =>
        void resumer
          .resumeSession(sessionId)
          .then((session) => {
            dispatch({ type: 'upsert', session, open: true, activate: true });
            dispatch({ type: 'view', view: 'terminals' });
          })
          .catch((e) => setNotice(`Could not resume: ${describeError(e)}`))
    : undefined;

  const requestClose = useCallback(
    (sessionId: string) => {
      const session = state.sessions[sessionId];
      // Only a running agent is stopped by closing its tab; an ended one just closes.
      if (session && !hasEnded(session) && !readOnly) setConfirmClose(session);
      else dispatch({ type: 'close', sessionId });
    },
    [state.sessions, readOnly, dispatch],
  );

  const terminate = async (sessionId: string, closeTab: boolean) => {
    try {
      await api.terminateSession(sessionId);
      if (closeTab) dispatch({ type: 'close', sessionId });
    } catch (e) {
      setNotice(`Could not stop the session: ${describeError(e)}`);
    }
  };

  const rename = async (sessionId: string, name: string) => {
    try {
      dispatch({ type: 'upsert', session: await api.renameSession(sessionId, name) });
    } catch (e) {
      setNotice(`Could not rename: ${describeError(e)}`);
    }
  };

  const actions: SessionActions = {
    open,
    replay: showReplay,
    ...(resume ? { resume } : {}),
    remove,
    requestClose,
    rename: (id, name) => void rename(id, name),
  };

  const jumpToNeedsYou = () => {
    const next = nextNeedingYou(inbox['needs-you'], state.view === 'terminals' ? state.active : null);
    if (next) open(next);
  };

  const notifications = useAttentionNotifications({
    // The desktop app notifies from the main process (native notifications).
    enabled: identity.mode === 'dashboard' && prefs.notify,
    loaded,
    sessions: state.sessions,
    onOpen: open,
  });

  useShortcuts({
    mode: identity.mode,
    extras,
    onAction: (action) => {
      switch (action.type) {
        case 'new-session':
          if (!readOnly) setShowNew(true);
          return;
        case 'close-tab':
          if (state.active) requestClose(state.active);
          return;
        case 'next-tab':
        case 'previous-tab': {
          const n = state.tabs.length;
          if (n === 0) return;
          const current = state.active ? state.tabs.indexOf(state.active) : -1;
          const delta = action.type === 'next-tab' ? 1 : -1;
          const id = state.tabs[current < 0 ? 0 : (current + delta + n) % n];
          if (id) open(id);
          return;
        }
        case 'tab-index': {
          const index = action.index >= 8 ? state.tabs.length - 1 : action.index;
          const id = state.tabs[index];
          if (id) open(id);
          return;
        }
        case 'next-needs-you':
          jumpToNeedsYou();
          return;
        case 'zoom':
          setPrefs({ ...prefs, fontSize: zoomFont(prefs.fontSize, action.delta) });
          return;
        case 'search':
          if (state.view === 'terminals' && state.active) setSearchOpen(true);
          return;
      }
    },
    onFocusSession: open,
    onOpenSettings: () => dispatch({ type: 'view', view: 'settings' }),
  });

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

  const createSession = async (request: CreateSessionRequest) => {
    // Start the PTY at the size this window's terminals fit, so the agent's first screen is drawn
    // for it (not at the default size and then redrawn).
    const fitted = state.active ? registry.get(state.active)?.fittedSize : null;
    const sized =
      fitted && request.cols === undefined ? { ...request, cols: fitted.cols, rows: fitted.rows } : request;
    const session = await api.createSession(sized);
    dispatch({ type: 'upsert', session, open: true, activate: true });
    dispatch({ type: 'view', view: 'terminals' });
    requestClaim(session.session_id);
    setShowNew(false);
  };

  const setView = (view: View) => {
    if (view !== 'sessions') setReplay(null);
    dispatch({ type: 'view', view });
  };
  const activeSession = state.active ? state.sessions[state.active] : undefined;

  return (
    <div className="app" data-mode={identity.mode} data-scope={identity.scope}>
      <TopBar
        view={state.view}
        onView={setView}
        needsYou={inbox['needs-you'].length}
        readOnly={readOnly}
        connection={identity.mode === 'dashboard' ? connection : null}
        onNew={readOnly ? null : () => setShowNew(true)}
        onSignOut={extras.signOut ?? null}
      />
      {notice ? (
        <div className="notice" role="alert">
          <span>{notice}</span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      ) : null}

      <main className="main">
        <TerminalsView
          hidden={state.view !== 'terminals'}
          api={api}
          state={state}
          inbox={inbox}
          prefs={prefs}
          onPrefs={setPrefs}
          readOnly={readOnly}
          registry={registry}
          actions={actions}
          searchOpen={searchOpen}
          onSearch={setSearchOpen}
          openLink={openLink}
          onStatus={(s) => dispatch({ type: 'upsert', session: s })}
          claim={claim}
          onActivate={(id) => {
            dispatch({ type: 'activate', sessionId: id });
            requestClaim(id);
          }}
          onNew={readOnly ? null : () => setShowNew(true)}
          onJump={jumpToNeedsYou}
          notifications={identity.mode === 'dashboard' ? notifications : null}
        />

        {state.view === 'sessions' ? (
          <SessionsPage
            api={api}
            sessions={state.sessions}
            removed={removed}
            readOnly={readOnly}
            prefs={prefs}
            replay={replay}
            onCloseReplay={() => setReplay(null)}
            actions={actions}
            onTerminate={(s) => setConfirmClose(s)}
            onKnown={(s) => dispatch({ type: 'upsert', session: s })}
          />
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
            notifications={identity.mode === 'dashboard' ? notifications : null}
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
          message={`${confirmClose.name} is still running. Stopping it ends the agent and everything it started.`}
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
            ...(state.tabs.includes(confirmClose.session_id)
              ? [
                  {
                    label: 'Hide tab, keep running',
                    onClick: () => {
                      dispatch({ type: 'close', sessionId: confirmClose.session_id });
                      setConfirmClose(null);
                    },
                  },
                ]
              : []),
          ]}
          onCancel={() => setConfirmClose(null)}
        />
      ) : null}
    </div>
  );
}
