import { useCallback, useEffect, useRef, useState } from 'react';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { inboxGroup, questionFor } from '../model/inbox.ts';

export type NotificationPermissionState = 'unsupported' | 'default' | 'granted' | 'denied';

function currentPermission(): NotificationPermissionState {
  if (typeof window === 'undefined' || !('Notification' in window)) return 'unsupported';
  return window.Notification.permission as NotificationPermissionState;
}

/** The page is out of sight: another browser tab, a minimised window, or another app in front. */
function pageOutOfSight(): boolean {
  return document.visibilityState !== 'visible' || !document.hasFocus();
}

/**
 * Browser notifications when an agent starts needing the user while the page is out of sight. The
 * permission is asked only from a user gesture (`request`, bound to a button), as browsers require.
 * One notification per session (tagged with its id); clicking it brings the page back and opens the
 * session.
 */
export function useAttentionNotifications(options: {
  enabled: boolean;
  /** The session list has loaded: before it, the (empty or event-built) list is no baseline. */
  loaded: boolean;
  sessions: Readonly<Record<string, SessionInfo>>;
  onOpen(sessionId: string): void;
}): { permission: NotificationPermissionState; request(): Promise<NotificationPermissionState> } {
  const [permission, setPermission] = useState<NotificationPermissionState>(currentPermission);
  const needing = useRef<Set<string> | null>(null);
  const onOpen = useRef(options.onOpen);
  onOpen.current = options.onOpen;

  useEffect(() => {
    // Until the list has loaded, every waiting session would look new (a page opened in the background
    // would announce all of them): the first loaded list is the baseline.
    if (!options.loaded) return;
    const now = new Set<string>();
    for (const s of Object.values(options.sessions))
      if (inboxGroup(s, new Set()) === 'needs-you') now.add(s.session_id);
    const before = needing.current;
    needing.current = now;
    // The first list is what was already waiting when the page opened: the inbox shows it.
    if (!before || !options.enabled || permission !== 'granted' || !pageOutOfSight()) return;
    for (const id of now) {
      if (before.has(id)) continue;
      const session = options.sessions[id];
      if (!session) continue;
      try {
        const note = new window.Notification(`${session.name} needs you`, {
          body: questionFor(session).slice(0, 180) || 'The agent is waiting for your input.',
          tag: `autodev-${id}`,
        });
        note.onclick = () => {
          window.focus();
          onOpen.current(id);
          note.close();
        };
      } catch {
        // Some browsers only allow notifications from a service worker: the inbox still shows it.
      }
    }
  }, [options.sessions, options.loaded, options.enabled, permission]);

  const request = useCallback(async () => {
    if (currentPermission() === 'unsupported') return 'unsupported' as const;
    const result = (await window.Notification.requestPermission()) as NotificationPermissionState;
    setPermission(result);
    return result;
  }, []);

  return { permission, request };
}
