import { type Dispatch, useCallback, useEffect, useReducer, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { ProviderSummary } from '../../../src-shared/rest.ts';
import { describeError } from '../api/api-error.ts';
import type { ClientExtras } from '../api/client-extras.ts';
import { loadRemoved, loadTabLayout, saveRemoved, saveTabLayout } from '../model/preferences.ts';
import {
  initialWorkspace,
  type WorkspaceAction,
  type WorkspaceState,
  workspaceReducer,
} from '../model/tabs.ts';
import { browserStorage } from './storage.ts';

export interface WorkspaceData {
  state: WorkspaceState;
  dispatch: Dispatch<WorkspaceAction>;
  loaded: boolean;
  loadError: string | null;
  /** Sessions removed from the inbox and tabs in this browser. */
  removed: ReadonlySet<string>;
  remove(sessionId: string): void;
}

/**
 * The live session list: subscribe to events first, then load, so nothing between the two is lost;
 * the tab layout of this browser tab survives a reload; the window's visibility feeds "seen".
 */
export function useWorkspace(api: AutoDevApi, extras: ClientExtras): WorkspaceData {
  const [state, dispatch] = useReducer(workspaceReducer, undefined, initialWorkspace);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [removed, setRemoved] = useState<ReadonlySet<string>>(() => loadRemoved(browserStorage('local')));

  useEffect(() => {
    const off = api.onEvent((event) => dispatch({ type: 'event', event }));
    let cancelled = false;
    const layout = loadTabLayout(browserStorage('session'));
    api
      .listSessions({ limit: 500 })
      .then((page) => {
        if (cancelled) return;
        dispatch({ type: 'loaded', sessions: page.items, restore: layout });
        setLoaded(true);
      })
      .catch((e) => !cancelled && setLoadError(describeError(e)));
    return () => {
      cancelled = true;
      off();
    };
  }, [api]);

  // Desktop: tell the main process which session is on screen (no notification for it).
  const viewed = state.windowVisible && state.view === 'terminals' ? state.active : null;
  useEffect(() => extras.setViewedSession?.(viewed), [extras, viewed]);

  useEffect(() => {
    if (loaded)
      saveTabLayout(browserStorage('session'), {
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

  const remove = useCallback((sessionId: string) => {
    setRemoved((current) => {
      const next = new Set(current).add(sessionId);
      saveRemoved(browserStorage('local'), next);
      return next;
    });
    dispatch({ type: 'close', sessionId });
  }, []);

  return { state, dispatch, loaded, loadError, removed, remove };
}

/** The provider list (new-session dialog, settings, tasks). */
export function useProviders(api: AutoDevApi): { providers: ProviderSummary[] | null; error: string | null } {
  const [providers, setProviders] = useState<ProviderSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    api
      .listProviders()
      .then((p) => !cancelled && setProviders(p))
      .catch((e) => !cancelled && setError(describeError(e)));
    return () => {
      cancelled = true;
    };
  }, [api]);
  return { providers, error };
}
