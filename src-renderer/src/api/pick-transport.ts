/**
 * Start-up choice: inside Electron the preload has put `window.autodev` on the page, so we are the
 * desktop app and talk IPC. Otherwise we are the LAN dashboard in a browser and talk to the server
 * that served this page (same origin), after the user signs in with a token.
 */
import { isDesktopBridge } from './ipc.ts';

export type TransportChoice = { kind: 'ipc' } | { kind: 'remote'; baseUrl: string };

export function pickTransport(win: { autodev?: unknown; location: { origin: string } }): TransportChoice {
  if (win.autodev !== undefined && isDesktopBridge(win.autodev)) return { kind: 'ipc' };
  return { kind: 'remote', baseUrl: win.location.origin };
}
