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
  error?: string | null;
}

/**
 * Extension point for the Electron preload: optional members of `window.autodev` next to the
 * AutoDevApi methods. The desktop settings page shows the LAN dashboard switch only when `dashboard`
 * exists, and terminal links go through `openExternal` when present.
 */
export interface DesktopBridgeExtras {
  /** Open an http(s) URL in the user's browser (main process must re-check the scheme). */
  openExternal?(url: string): Promise<void> | void;
  dashboard?: {
    getStatus(): Promise<DashboardStatus>;
    setEnabled(enabled: boolean): Promise<DashboardStatus>;
  };
  /** Native folder picker for the new-session dialog. */
  selectDirectory?(): Promise<string | null>;
}

export interface ClientExtras extends DesktopBridgeExtras {
  /** Server connection status (dashboard): the live events channel's socket state. */
  onConnectionChange?(listener: (state: ConnectionState) => void): () => void;
  /** Forget the token and go back to the sign-in screen (dashboard). */
  signOut?(): void;
}
