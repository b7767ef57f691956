import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentTypeFor } from '../../core/util/content-type.ts';

/** Vite's content-hashed file names (`index-Bx3k9_aQ.js`): safe to cache forever. */
const HASHED_ASSET = /[.-][A-Za-z0-9_-]{8,}\.(js|mjs|css|woff2?|ttf|svg|png|jpg|webp|wasm)$/;

/** src-renderer/dist next to the sources (also when running from dist/src-main after a build). */
export function defaultDashboardDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const candidate = path.resolve(here, up, 'src-renderer', 'dist');
    if (existsSync(candidate)) return candidate;
  }
  return path.resolve(here, '../../..', 'src-renderer', 'dist');
}

const MISSING_BUNDLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AutoDev</title></head>
<body><h1>AutoDev dashboard is not built</h1>
<p>The server is running and the REST/WebSocket API works, but the dashboard bundle is missing.</p>
<p>Build it with <code>npx vite build</code> in <code>src-renderer/</code> (output: <code>src-renderer/dist/</code>), then reload.</p>
</body></html>`;

/**
 * Serves the built renderer with an SPA fallback: unknown extension-less paths get index.html. Paths are
 * resolved inside the root only (no `..` escape, no symlink-free guarantee needed: the bundle is ours).
 */
export function serveDashboard(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  root: string,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed');
    return;
  }
  const index = path.join(root, 'index.html');
  if (!existsSync(index)) {
    res.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : MISSING_BUNDLE_PAGE);
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('bad path');
    return;
  }
  const target = path.resolve(root, `.${path.posix.normalize(`/${relative}`)}`);
  if (target !== root && !target.startsWith(root + path.sep)) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found');
    return;
  }
  let file = target;
  let isFile = false;
  try {
    isFile = statSync(target).isFile();
  } catch {}
  if (!isFile) {
    // SPA fallback for client-side routes; a missing asset (has an extension) is a real 404.
    if (path.extname(target) !== '') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found');
      return;
    }
    file = index;
  }
  const size = statSync(file).size;
  res.writeHead(200, {
    'Content-Type': contentTypeFor(file),
    'Content-Length': size,
    'Cache-Control': HASHED_ASSET.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}
