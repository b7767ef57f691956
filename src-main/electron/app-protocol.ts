import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { contentTypeFor } from '../core/util/content-type.ts';
import { APP_HOST, APP_SCHEME } from './sender-guard.ts';

/**
 * The renderer is served from `app://bundle/`, never `file://`: a real origin for the sender check
 * and the CSP, and no ambient access to the file system. Files come only from the renderer dist
 * directory; anything that resolves outside it (`..`, encoded `%2e%2e`, backslashes, NUL, symlinks
 * pointing out) is refused.
 */

/** Strict CSP sent as a response header on every bundle response. `style-src 'unsafe-inline'` is for
 *  xterm's and React's runtime style attributes; scripts are only our own files. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** `protocol.registerSchemesAsPrivileged` entry (must run before app `ready`). */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
} as const;

export const mimeType = contentTypeFor;

/**
 * Maps a request URL to a file path inside `root`, or null when the URL is not ours or the path
 * would leave `root`. Pure string logic; symlinks are checked by the handler.
 */
export function resolveBundlePath(root: string, requestUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  // Refuse any `..` segment outright (after decoding) rather than normalising it away.
  if (pathname.split('/').some((segment) => segment === '..')) return null;
  if (pathname === '' || pathname.endsWith('/')) pathname += 'index.html';
  const base = path.resolve(root);
  const resolved = path.resolve(base, `.${path.posix.normalize(pathname)}`);
  if (resolved !== base && !resolved.startsWith(base + path.sep)) return null;
  return resolved;
}

export function securityHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

/** Builds the `protocol.handle('app', …)` handler serving `root`. */
export function createBundleHandler(
  root: string,
): (request: { url: string; method?: string }) => Promise<Response> {
  const realRoot = realpath(path.resolve(root)).catch(() => path.resolve(root));
  const text = (status: number, body: string) =>
    new Response(body, { status, headers: securityHeaders('text/plain; charset=utf-8') });
  return async (request) => {
    const method = (request.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'Method Not Allowed');
    const file = resolveBundlePath(root, request.url);
    if (file === null) return text(403, 'Forbidden');
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      return text(404, 'Not Found');
    }
    const base = await realRoot;
    if (real !== base && !real.startsWith(base + path.sep)) return text(403, 'Forbidden');
    let body: Buffer;
    try {
      body = await readFile(real);
    } catch {
      return text(404, 'Not Found');
    }
    return new Response(method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: securityHeaders(mimeType(real)),
    });
  };
}
