/**
 * Who may call the IPC API: only the top frame of one of our windows, showing our bundle.
 * Fails closed: a null or detached frame (navigated away mid-call), a sub-frame, `file://`, any
 * http(s) origin and look-alike hosts (`app://bundle.evil`) are all refused.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'bundle';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The parts of Electron's WebFrameMain the check reads (a fake in tests). */
export interface FrameLike {
  readonly url: string;
  readonly parent: unknown | null;
  readonly detached?: boolean;
  isDestroyed?(): boolean;
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string };

/** True when `url` is exactly on our bundle origin (scheme and host compared literally). */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // Custom schemes have an opaque `origin` ('null') in WHATWG URL: compare protocol and host instead.
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.host === APP_HOST &&
    parsed.username === '' &&
    parsed.password === ''
  );
}

export function checkSender(frame: FrameLike | null | undefined): SenderVerdict {
  if (frame === null || frame === undefined) return { ok: false, reason: 'no sender frame' };
  try {
    if (frame.isDestroyed?.() === true) return { ok: false, reason: 'sender frame destroyed' };
    if (frame.detached === true) return { ok: false, reason: 'sender frame detached' };
    if (frame.parent !== null) return { ok: false, reason: 'sender is not the top frame' };
    const url = frame.url;
    if (typeof url !== 'string' || !isAppUrl(url)) return { ok: false, reason: `foreign origin: ${url}` };
  } catch (error) {
    // Reading a property of a frame that went away throws in Electron: treat as untrusted.
    return { ok: false, reason: `sender frame unreadable: ${(error as Error).message}` };
  }
  return { ok: true };
}
