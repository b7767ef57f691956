import { normalizeToken } from './token-store.ts';

/**
 * LAN pairing: the desktop's dashboard QR code / link is `https://host:port/#pair=<jwt>`. A fragment
 * never reaches a server (not in requests, not in logs), so the token travels only to this page. It
 * is read once at start-up and then removed from the address bar and the history entry, so it is not
 * left in bookmarks, screenshots or a shared URL.
 */
export interface PairingWindow {
  location: { hash: string; pathname: string; search: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url?: string | null): void };
}

/** The pairing token from the URL fragment (or null), with the fragment removed either way. */
export function takePairingToken(win: PairingWindow): string | null {
  const hash = win.location.hash.replace(/^#/, '');
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  if (!params.has('pair')) return null;
  const value = params.get('pair') ?? '';
  try {
    win.history.replaceState(win.history.state, '', `${win.location.pathname}${win.location.search}`);
  } catch {
    // A sandboxed document may refuse; the token is still used, never sent anywhere by us.
  }
  return normalizeToken(value);
}
