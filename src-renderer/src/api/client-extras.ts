import type { DesktopEvent } from '../../../src-shared/ipc.ts';

/**
 * What the app can do beyond AutoDevApi, depending on where it runs. Everything is optional: the UI
 * shows a feature only when its transport provides it.
 */
export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface DashboardStatus {
  enabled: boolean;
  /** The URL to open on another device, e.g. https://192.168.1.20:8001/ */
  url: string | null;
  /** A token to paste into the dashboard sign-in screen (shown only on demand). */
  token: string | null;
  /** QR code rows of '1' (dark) / '0' (light) for phones, when the desktop provides one. */
  qr?: string[] | null;
  error?: string | null;
}

export interface DashboardControl {
  getStatus(): Promise<DashboardStatus>;
  setEnabled(enabled: boolean): Promise<DashboardStatus>;
}

export interface ClientExtras {
  /** Server connection status (dashboard): the live events channel's socket state. */
  onConnectionChange?(listener: (state: ConnectionState) => void): () => void;
  /** Forget the token and go back to the sign-in screen (dashboard). */
  signOut?(): void;
  /** Open an http(s) URL in the user's browser (desktop: main process re-checks the scheme). */
  openExternal?(url: string): void;
  /** Native folder picker for the new-session dialog (desktop). */
  selectDirectory?(): Promise<string | null>;
  /** LAN dashboard switch (desktop settings). */
  dashboard?: DashboardControl;
  /** Tell the desktop which session is on screen (it suppresses notifications for that one). */
  setViewedSession?(sessionId: string | null): void;
  /** Desktop menu, notification clicks, LAN state. */
  onDesktopEvent?(listener: (event: DesktopEvent) => void): () => void;
}
