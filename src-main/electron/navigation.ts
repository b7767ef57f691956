import { isAppUrl } from './sender-guard.ts';

/**
 * Navigation, pop-ups and permissions. The window only ever shows app://bundle; links the user
 * clicks (including OSC 8 hyperlinks in agent output) open in the system browser when they are
 * https to an allow-listed host, and are dropped otherwise. `file:`, `smb:`, `ms-msdt:`,
 * `javascript:` and everything else never reach `shell.openExternal`.
 */

/** Hosts (and their subdomains) we open in the system browser. Anything else https is refused. */
export const EXTERNAL_HOST_ALLOWLIST: readonly string[] = [
  'github.com',
  'docs.anthropic.com',
  'docs.claude.com',
  'anthropic.com',
  'console.anthropic.com',
  'claude.ai',
  'openai.com',
  'platform.openai.com',
  'chatgpt.com',
  'ai.google.dev',
  'cloud.google.com',
  'cursor.com',
  'developer.mozilla.org',
  'npmjs.com',
  'www.npmjs.com',
];

export function isAllowedExternalUrl(
  url: string,
  allowlist: readonly string[] = EXTERNAL_HOST_ALLOWLIST,
): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.port !== '') return false;
  const host = parsed.hostname.toLowerCase();
  return allowlist.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
}

/** In-window navigation is allowed only within the bundle (the SPA reloading itself). */
export function isAllowedNavigation(url: string): boolean {
  return isAppUrl(url);
}

export interface NavigationEventLike {
  preventDefault(): void;
}

/** The webContents events the guards hook (a fake in tests). */
export interface GuardedContents {
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate',
    listener: (event: NavigationEventLike, url: string) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (event: NavigationEventLike) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

export interface NavigationDeps {
  openExternal(url: string): unknown;
  log?(message: string): void;
  allowlist?: readonly string[];
}

export function installNavigationGuards(contents: GuardedContents, deps: NavigationDeps): void {
  const log = deps.log ?? (() => {});
  const allowlist = deps.allowlist ?? EXTERNAL_HOST_ALLOWLIST;
  const guard = (kind: string) => (event: NavigationEventLike, url: string) => {
    if (isAllowedNavigation(url)) return;
    event.preventDefault();
    log(`[nav] blocked ${kind} to ${url}`);
    if (kind === 'will-navigate' && isAllowedExternalUrl(url, allowlist)) void deps.openExternal(url);
  };
  contents.on('will-navigate', guard('will-navigate'));
  contents.on('will-redirect', guard('will-redirect'));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log('[nav] blocked webview');
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url, allowlist)) void deps.openExternal(url);
    else log(`[nav] blocked window.open to ${url}`);
    return { action: 'deny' };
  });
}

/** The session permission hooks (a fake in tests): everything is denied. */
export interface PermissionSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler?(handler: () => boolean): void;
  setDisplayMediaRequestHandler?(
    handler: (request: unknown, callback: (streams: object) => void) => void,
  ): void;
}

export function denyAllPermissions(session: PermissionSession, log: (m: string) => void = () => {}): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log(`[perm] denied ${permission}`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler?.(() => false);
  // No streams: the request is refused.
  session.setDisplayMediaRequestHandler?.((_request, callback) => callback({}));
}
