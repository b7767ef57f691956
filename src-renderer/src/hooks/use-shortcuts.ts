import { useEffect, useRef } from 'react';
import type { ClientExtras } from '../api/client-extras.ts';
import { type ShortcutAction, type ShortcutMode, shortcutFor } from '../model/shortcuts.ts';

/**
 * Keyboard shortcuts (window, capture phase, so they win over the focused terminal) and the desktop
 * menu and notification clicks, which arrive as desktop events. Dialogs keep their own keys.
 */
export function useShortcuts(options: {
  mode: ShortcutMode;
  extras: ClientExtras;
  onAction(action: ShortcutAction): void;
  onFocusSession(sessionId: string): void;
  onOpenSettings(): void;
}): void {
  const latest = useRef(options);
  latest.current = options;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const action = shortcutFor(event, latest.current.mode);
      if (!action) return;
      const inModal = (event.target as HTMLElement | null)?.closest?.('[role="dialog"]');
      if (inModal) return;
      event.preventDefault();
      event.stopPropagation();
      latest.current.onAction(action);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);

  const { extras } = options;
  useEffect(
    () =>
      extras.onDesktopEvent?.((event) => {
        if (event.kind === 'focus_session') latest.current.onFocusSession(event.session_id);
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
        if (action) latest.current.onAction(action);
        else latest.current.onOpenSettings();
      }),
    [extras],
  );
}
