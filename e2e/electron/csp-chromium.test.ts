import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { createBundleHandler } from '../../src-main/electron/app-protocol.ts';
import { CHROMIUM_LAUNCH } from '../dashboard/helpers/browser.ts';
import { ensureBuilt, ROOT } from './electron-binary.ts';

/**
 * The renderer bundle under the desktop app's CSP, in real Chromium (Debian's; Electron's own
 * Chromium is not available here). The bundle is served by the same handler `app://bundle` uses,
 * through a loopback HTTP shim, so 'self' means the same thing. Proves the CSP does not break the
 * app, and that agent-output-style XSS (inline script, onerror, javascript: URL) does not run and
 * raises `securitypolicyviolation`.
 */
test('renderer runs under the app:// CSP; injected script, onerror and javascript: URLs do not run', async (t) => {
  if (!existsSync('/usr/bin/chromium')) return t.skip('Chromium not installed (/usr/bin/chromium)');
  ensureBuilt();
  const handle = createBundleHandler(path.join(ROOT, 'src-renderer', 'dist'));
  const server = http.createServer(async (req, res) => {
    const response = await handle({ url: `app://bundle${req.url ?? '/'}`, method: req.method ?? 'GET' });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/index.html`);
  await page.waitForFunction(() => (document.getElementById('root')?.childElementCount ?? 0) > 0, null, {
    timeout: 20_000,
  });
  const onLoad = await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
  // The one expected report: zod 4 probes `Function('')` (in try/catch) to decide whether it may JIT
  // its parsers; the CSP refuses and zod falls back. `z.config({ jitless: true })` in the renderer
  // silences it. Anything else would be the CSP breaking the app.
  assert.deepEqual(
    onLoad.filter((v) => v !== 'script-src eval'),
    [],
    'the renderer itself triggers no CSP violation',
  );
  assert.deepEqual(pageErrors, []);

  const result = await page.evaluate(async () => {
    const w = window as unknown as { __violations: string[]; __xss?: number };
    const host = document.createElement('div');
    // What an agent might print if it ever reached the DOM as HTML.
    host.innerHTML =
      '<img src="x" onerror="window.__xss=1"><a id="jl" href="javascript:window.__xss=2">x</a>';
    document.body.append(host);
    const script = document.createElement('script');
    script.textContent = 'window.__xss = 3';
    document.body.append(script);
    (document.getElementById('jl') as HTMLAnchorElement).click();
    await new Promise((r) => setTimeout(r, 500));
    return { xss: w.__xss ?? null, violations: w.__violations };
  });
  assert.equal(result.xss, null, 'no injected code ran');
  assert.ok(
    result.violations.some((v) => v.startsWith('script-src')),
    `violations: ${result.violations.join(', ')}`,
  );
});
