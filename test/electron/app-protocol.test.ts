import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  CONTENT_SECURITY_POLICY,
  createBundleHandler,
  resolveBundlePath,
} from '../../src-main/electron/app-protocol.ts';

const base = mkdtempSync(path.join(tmpdir(), 'autodev-proto-'));
const root = path.join(base, 'dist');
mkdirSync(path.join(root, 'assets'), { recursive: true });
writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>AutoDev</title>');
writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(path.join(base, 'secret.txt'), 'TOP SECRET');
symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
after(() => rmSync(base, { recursive: true, force: true }));

test('path resolution stays inside the bundle directory', () => {
  assert.equal(resolveBundlePath(root, 'app://bundle/'), path.join(root, 'index.html'));
  assert.equal(
    resolveBundlePath(root, 'app://bundle/assets/app.js?v=1#x'),
    path.join(root, 'assets', 'app.js'),
  );
  // WHATWG URL folds literal and %2e%2e dot segments before we see the path: the result must
  // still be inside the root (and never the file beside it).
  for (const url of [
    'app://bundle/../secret.txt',
    'app://bundle/%2e%2e/secret.txt',
    'app://bundle/assets/%2e%2e/%2e%2e/secret.txt',
    'app://bundle/assets/../../../etc/passwd',
  ]) {
    const resolved = resolveBundlePath(root, url);
    assert.ok(resolved === null || resolved.startsWith(root + path.sep), `${url} -> ${resolved}`);
  }
  const refused = [
    'app://bundle/assets/..%2f..%2fsecret.txt',
    'app://bundle/..%2fsecret.txt',
    'app://bundle/..%5csecret.txt',
    'app://bundle/assets%5c..%5c..%5csecret.txt',
    'app://bundle/index.html%00.js',
    'app://bundle/%E0%A4%A', // malformed escape
    'app://bundle.evil/index.html',
    'app://other/index.html',
    'file:///etc/passwd',
    'https://bundle/index.html',
    'garbage',
  ];
  for (const url of refused) assert.equal(resolveBundlePath(root, url), null, url);
});

test('handler serves bundle files with the CSP header and the right MIME types', async () => {
  const handle = createBundleHandler(root);
  const index = await handle({ url: 'app://bundle/' });
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await index.text(), /AutoDev/);
  const js = await handle({ url: 'app://bundle/assets/app.js' });
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const head = await handle({ url: 'app://bundle/assets/app.js', method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('handler refuses traversal, symlinks out of the bundle, other methods; 404 for missing files', async () => {
  const handle = createBundleHandler(root);
  for (const url of [
    'app://bundle/%2e%2e/secret.txt',
    'app://bundle/..%2fsecret.txt',
    'app://bundle/../secret.txt',
  ]) {
    const traversal = await handle({ url });
    assert.ok(traversal.status === 403 || traversal.status === 404, `${url}: ${traversal.status}`);
    assert.doesNotMatch(await traversal.text(), /TOP SECRET/);
  }
  const link = await handle({ url: 'app://bundle/assets/link.txt' });
  assert.equal(link.status, 403, 'a symlink pointing outside the bundle is refused');
  assert.doesNotMatch(await link.text(), /TOP SECRET/);
  assert.equal((await handle({ url: 'app://bundle/missing.js' })).status, 404);
  assert.equal((await handle({ url: 'app://bundle/', method: 'POST' })).status, 405);
  const refused = await handle({ url: 'app://bundle.evil/index.html' });
  assert.equal(refused.status, 403);
  assert.ok(refused.headers.get('content-security-policy'), 'error responses carry the CSP too');
});

test('the CSP forbids inline and foreign scripts, framing, plugins and base/form hijacks', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }),
  );
  assert.deepEqual(directives.get('default-src'), ["'none'"]);
  assert.deepEqual(directives.get('script-src'), ["'self'"]);
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
  assert.deepEqual(directives.get('base-uri'), ["'none'"]);
  assert.deepEqual(directives.get('form-action'), ["'none'"]);
  assert.ok(!CONTENT_SECURITY_POLICY.includes('unsafe-eval'));
  assert.ok(!/script-src[^;]*unsafe-inline/.test(CONTENT_SECURITY_POLICY));
});
