import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openViewer, sessionWsUrl, startTestServer, TestClient, until } from './harness.ts';

function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string> },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        setHost: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('Host and Origin allow-lists: DNS rebinding 421, foreign or null Origin 403 before any upgrade', async (t) => {
  const ts = await startTestServer(t);
  const port = ts.server.port;
  const host = `127.0.0.1:${port}`;
  const session = await ts.createShell();
  const token = await ts.token('control');

  // Plain HTTP.
  assert.equal((await rawRequest(port, { path: '/health', headers: { host } })).status, 200);
  assert.equal(
    (await rawRequest(port, { path: '/health', headers: { host: `localhost:${port}` } })).status,
    200,
  );
  const rebound = await rawRequest(port, {
    path: '/cli/sessions',
    headers: { host: `evil.example:${port}`, authorization: `Bearer ${token}` },
  });
  assert.equal(rebound.status, 421);
  assert.equal((await rawRequest(port, { path: '/', headers: { host: 'attacker.test' } })).status, 421);
  const evilOrigin = await rawRequest(port, {
    path: '/cli/sessions',
    headers: { host, origin: 'https://evil.example', authorization: `Bearer ${token}` },
  });
  assert.equal(evilOrigin.status, 403);
  assert.equal(evilOrigin.headers['access-control-allow-origin'], undefined);
  const nullOrigin = await rawRequest(port, {
    path: '/cli/sessions',
    headers: { host, origin: 'null', authorization: `Bearer ${token}` },
  });
  assert.equal(nullOrigin.status, 403);
  // Same-origin request: the exact origin is echoed, never `*`.
  const same = await rawRequest(port, {
    path: '/cli/sessions',
    headers: { host, origin: ts.origin, authorization: `Bearer ${token}` },
  });
  assert.equal(same.status, 200);
  assert.equal(same.headers['access-control-allow-origin'], ts.origin);
  // A cross-origin preflight from a foreign site is refused.
  const preflight = await rawRequest(port, {
    method: 'OPTIONS',
    path: '/cli/sessions',
    headers: { host, origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(preflight.status, 403);

  // WebSocket upgrades: every check happens before the upgrade (the client sees an HTTP status).
  const url = sessionWsUrl(ts.server, session.session_id);
  const cases: [string, ConstructorParameters<typeof TestClient>[1], number][] = [
    ['evil origin', { origin: 'https://evil.example' }, 403],
    ['null origin', { origin: 'null' }, 403],
    ['missing origin, no subprotocol token', { origin: null }, 403],
    [
      'evil origin with a valid subprotocol token',
      { origin: 'https://evil.example', protocols: [`autodev.bearer.${token}`] },
      403,
    ],
    ['rebound Host', { origin: ts.origin, wsOptions: { headers: { host: `evil.example:${port}` } } }, 421],
    ['bad subprotocol token', { origin: null, protocols: ['autodev.bearer.abc.def.ghi'] }, 401],
  ];
  for (const [name, options, status] of cases) {
    const client = new TestClient(url, options);
    await client.waitClosed();
    assert.equal(client.unexpected?.status, status, name);
    assert.equal(client.messages.length, 0, name);
  }
  // A token in the query string is refused with instructions.
  const query = new TestClient(`${url}?token=${token}`, { origin: ts.origin });
  await query.waitClosed();
  assert.equal(query.unexpected?.status, 400);
  assert.match(query.unexpected!.body, /Sec-WebSocket-Protocol|"auth"/);
  // Unknown WS path.
  const nowhere = new TestClient(`${ts.server.wsUrl}/cli/nowhere/ws`, { origin: ts.origin });
  await nowhere.waitClosed();
  assert.equal(nowhere.unexpected?.status, 404);
});

test('session ids with shell metacharacters are refused (400) and nothing is executed', async (t) => {
  const ts = await startTestServer(t);
  const cwd = path.join(ts.dataDir, 'inj');
  mkdirSync(cwd);
  const evil = [
    '"; touch pwned',
    '$(touch pwned)',
    '`touch pwned`',
    '../../etc/passwd',
    'a b',
    'x'.repeat(200),
  ];
  for (const id of evil) {
    const rest = await ts.api('GET', `/cli/sessions/${encodeURIComponent(id)}`);
    assert.equal(rest.status, 400, id);
    assert.equal(rest.body.error_code, 'VALIDATION_ERROR');
    const del = await ts.api('DELETE', `/cli/sessions/${encodeURIComponent(id)}`);
    assert.equal(del.status, 400, id);
    const ws = new TestClient(sessionWsUrl(ts.server, id), { origin: ts.origin });
    await ws.waitClosed();
    assert.equal(ws.unexpected?.status, 400, id);
  }
  // A working_directory full of metacharacters is just a (missing) path, never a shell string.
  const res = await ts.api('POST', '/cli/sessions', {
    body: { cli_tool: 'shell', working_directory: `${cwd}/$(touch pwned)` },
  });
  assert.equal(res.status, 400);
  assert.ok(!existsSync(path.join(cwd, 'pwned')));
  assert.ok(!existsSync(path.join(process.cwd(), 'pwned')));
  assert.ok(!existsSync(path.join(ts.dataDir, 'pwned')));
});

test('1000 random malformed frames: each answered with an error, server alive, memory bounded', async (t) => {
  const ts = await startTestServer(t, {
    rateLimits: { messages: { capacity: 100_000, perSecond: 100_000 } },
  });
  const session = await ts.createShell();
  const client = await openViewer(ts, session.session_id);
  await client.waitForType('status');
  const rssBefore = process.memoryUsage().rss;
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const junk = (): string | Buffer => {
    switch (rand(12)) {
      case 0:
        return Buffer.from(Array.from({ length: 1 + rand(200) }, () => rand(256)));
      case 1:
        return '{"type":';
      case 2:
        return JSON.stringify([1, 2, 3]);
      case 3:
        return JSON.stringify({ type: `t${rand(1e6)}`, data: {} });
      case 4:
        return JSON.stringify({ type: 'resize', data: { cols: -rand(5), rows: 1e9 } });
      case 5:
        return JSON.stringify({ type: 'input', data: { data: rand(100) } });
      case 6:
        return JSON.stringify({ type: 'resume', data: { last_seq: 'x' } });
      case 7:
        return JSON.stringify({ type: 'command' });
      case 8:
        return JSON.stringify({ __proto__: { type: 'input' }, constructor: { prototype: {} } });
      case 9:
        return 'null';
      case 10:
        return JSON.stringify({ type: 'auth', data: { token: 42 } });
      default:
        return String.fromCharCode(...Array.from({ length: 1 + rand(100) }, () => rand(0xd7ff)));
    }
  };
  const before = client.messages.filter((m) => m.type === 'error').length;
  for (let i = 0; i < 1000; i++) {
    const frame = junk();
    // Random bytes go as binary frames: invalid UTF-8 in a text frame is a protocol error (1007), tested below.
    if (Buffer.isBuffer(frame)) client.ws.send(frame, { binary: true });
    else client.ws.send(frame);
  }
  await client.waitFor(
    () => client.messages.filter((m) => m.type === 'error').length - before >= 1000,
    60_000,
    '1000 errors',
  );
  const codes = new Set(client.messages.filter((m) => m.type === 'error').map((m) => m.data.error_code));
  for (const code of codes)
    assert.ok(['MALFORMED_MESSAGE', 'UNKNOWN_MESSAGE_TYPE', 'VALIDATION_ERROR'].includes(code), code);
  assert.equal(client.closeCode, null, 'still connected');
  // Still serving: a ping is answered and REST works.
  client.send({ type: 'ping', data: {} });
  await client.waitForType('pong');
  assert.equal((await ts.api('GET', '/health', { token: '' })).status, 200);
  const grown = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
  assert.ok(grown < 200, `RSS grew ${grown.toFixed(1)} MiB`);
  client.close();
  // Invalid UTF-8 in a text frame: the RFC 6455 close (1007) for that socket only.
  const utf8 = await openViewer(ts, session.session_id);
  utf8.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  assert.equal(await utf8.waitClosed(), 1007);
  assert.equal((await ts.api('GET', '/health', { token: '' })).status, 200);
});

test('frame limits: >64 KiB closes 1009, deflate is never negotiated, floods close 1008', async (t) => {
  const ts = await startTestServer(t, {
    rateLimits: { messages: { capacity: 50, perSecond: 10 }, resizes: { capacity: 5, perSecond: 1 } },
  });
  const session = await ts.createShell();
  const big = await openViewer(ts, session.session_id);
  assert.equal(big.ws.extensions, '', 'no permessage-deflate even though the client offers it');
  big.ws.send('x'.repeat(70 * 1024));
  assert.equal(await big.waitClosed(), 1009);

  const flooder = await openViewer(ts, session.session_id);
  for (let i = 0; i < 200; i++) flooder.send({ type: 'ping', data: {} });
  assert.equal(await flooder.waitClosed(), 1008);

  const resizer = await openViewer(ts, session.session_id);
  for (let i = 0; i < 20; i++) resizer.send({ type: 'resize', data: { cols: 80 + i, rows: 24 } });
  assert.equal(await resizer.waitClosed(), 1008);
  // A well-behaved client on the same session is unaffected.
  const calm = await openViewer(ts, session.session_id);
  calm.send({ type: 'command', data: { command: 'echo calm-$((3*3))' } });
  await calm.waitFor(() => calm.output().text.includes('calm-9'), 20_000, 'calm output');
  calm.close();
});

test('per-IP connection cap (429) and auth-failure lockout on upgrades', async (t) => {
  const ts = await startTestServer(t, {
    connectionCaps: { perIp: 3, global: 100 },
    authFailures: { maxFailures: 2, windowMs: 60_000, baseLockoutMs: 60_000 },
  });
  const session = await ts.createShell();
  const url = sessionWsUrl(ts.server, session.session_id);
  const open = await Promise.all([0, 1, 2].map(() => openViewer(ts, session.session_id)));
  const fourth = new TestClient(url, { origin: ts.origin });
  await fourth.waitClosed();
  assert.equal(fourth.unexpected?.status, 429);
  for (const c of open) c.close();
  await until(
    async () => {
      const c = new TestClient(url, { origin: ts.origin });
      try {
        await c.opened;
        return true;
      } catch {
        return false;
      } finally {
        c.close();
      }
    },
    10_000,
    'slot released',
  );

  for (let i = 0; i < 3; i++) {
    const bad = new TestClient(url, { origin: ts.origin });
    await bad.opened.catch(() => {});
    bad.auth('invalid.token.value');
    await bad.waitClosed();
  }
  const locked = new TestClient(url, { origin: ts.origin });
  await locked.waitClosed();
  assert.equal(locked.unexpected?.status, 429);
});

test('heartbeat: a silent peer is terminated within two intervals; the session lives on', async (t) => {
  const ts = await startTestServer(t, { ws: { heartbeatMs: 250 } });
  const session = await ts.createShell();
  const token = await ts.token('read');
  const silent = new TestClient(sessionWsUrl(ts.server, session.session_id), {
    origin: ts.origin,
    wsOptions: { autoPong: false },
  });
  await silent.opened;
  silent.auth(token);
  await silent.waitForType('auth');
  const lively = await openViewer(ts, session.session_id);
  const started = Date.now();
  const code = await silent.waitClosed(10_000);
  assert.equal(code, 1006, 'terminated, not closed politely');
  assert.ok(Date.now() - started < 10_000);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(lively.closeCode, null, 'a client that answers pings stays');
  assert.equal(ts.core.sessions.get(session.session_id)!.ended_at, null, 'session still running');
  lively.close();
});

test('security headers, dashboard hosting with SPA fallback, and the missing-bundle page', async (t) => {
  const dist = path.join(os.tmpdir(), `autodev-dist-${process.pid}`);
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  writeFileSync(
    path.join(dist, 'index.html'),
    '<!doctype html><title>AutoDev</title><script type="module" src="/assets/index-AbCd1234.js"></script>',
  );
  writeFileSync(path.join(dist, 'assets', 'index-AbCd1234.js'), 'console.log(1)');
  const ts = await startTestServer(t, { dashboardDir: dist });
  const port = ts.server.port;
  const host = `127.0.0.1:${port}`;
  const index = await rawRequest(port, { path: '/', headers: { host } });
  assert.equal(index.status, 200);
  assert.match(index.headers['content-type'] as string, /text\/html/);
  const csp = index.headers['content-security-policy'] as string;
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  assert.equal(index.headers['access-control-allow-origin'], undefined);
  const asset = await rawRequest(port, { path: '/assets/index-AbCd1234.js', headers: { host } });
  assert.equal(asset.status, 200);
  assert.match(asset.headers['content-type'] as string, /javascript/);
  assert.match(asset.headers['cache-control'] as string, /immutable/);
  const spa = await rawRequest(port, { path: '/sessions/abc', headers: { host } });
  assert.equal(spa.status, 200);
  assert.match(spa.body, /AutoDev/);
  assert.equal((await rawRequest(port, { path: '/assets/missing.js', headers: { host } })).status, 404);
  assert.equal(
    (await rawRequest(port, { path: '/../../etc/passwd', headers: { host } })).status === 200 ? 'spa' : 'x',
    'spa',
  );
  assert.equal(
    (await rawRequest(port, { path: '/%2e%2e/%2e%2e/etc/passwd', headers: { host } })).body.includes('root:'),
    false,
  );
  // API errors carry the headers too.
  const api = await rawRequest(port, { path: '/cli/sessions', headers: { host } });
  assert.equal(api.status, 401);
  assert.ok(api.headers['content-security-policy']);
  assert.equal(api.headers['cache-control'], 'no-store');

  const bare = await startTestServer(t, { dashboardDir: path.join(dist, 'nope') });
  const missing = await rawRequest(bare.server.port, {
    path: '/',
    headers: { host: `127.0.0.1:${bare.server.port}` },
  });
  assert.equal(missing.status, 503);
  assert.match(missing.body, /vite build/);
});

test('oversized headers are refused and a slow header sender is cut off; the server keeps serving', async (t) => {
  const ts = await startTestServer(t, { timeouts: { headersMs: 500 } });
  const port = ts.server.port;
  const huge = await rawRequest(port, {
    path: '/health',
    headers: { host: `127.0.0.1:${port}`, 'x-big': 'a'.repeat(20 * 1024) },
  });
  assert.equal(huge.status, 431);
  // Slowloris: a socket that never finishes its headers gets closed by headersTimeout, not kept forever.
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let answer = '';
  let closed = false;
  socket.on('data', (c: Buffer) => {
    answer += c.toString();
  });
  socket.on('close', () => {
    closed = true;
  });
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ');
  assert.equal((await ts.api('GET', '/health', { token: '' })).status, 200);
  await until(() => closed, 20_000, 'slow header sender cut off');
  assert.match(answer, /^HTTP\/1\.1 408/);
  socket.destroy();
});

test('no token or secret ever reaches a log line', async (t) => {
  const ts = await startTestServer(t);
  const session = await ts.createShell();
  const token = await ts.token('control');
  // URL token attempts, bad tokens, good tokens, WS auth, errors.
  await ts.api('GET', `/cli/sessions?token=${token}`, { token: '' });
  await ts.api('GET', '/cli/sessions', { token: `${token}tampered` });
  await ts.api('GET', '/cli/sessions', { token });
  const q = new TestClient(`${sessionWsUrl(ts.server, session.session_id)}?token=${token}`, {
    origin: ts.origin,
  });
  await q.waitClosed();
  const ws = await openViewer(ts, session.session_id, { token });
  ws.send({ type: 'auth', data: { token: `${token}x` } });
  await ws.waitClosed();
  const sub = new TestClient(sessionWsUrl(ts.server, session.session_id), {
    origin: null,
    protocols: [`autodev.bearer.${token}`],
  });
  await sub.opened;
  sub.close();
  const all = ts.logs.join('');
  assert.ok(ts.logs.length > 5, 'something was logged');
  const [, payload, signature] = token.split('.');
  assert.ok(!all.includes(token), 'token in logs');
  assert.ok(!all.includes(signature!), 'token signature in logs');
  assert.ok(!all.includes(payload!), 'token payload in logs');
  assert.ok(!all.includes(Buffer.from(ts.key).toString('hex')));
  assert.ok(!all.includes(Buffer.from(ts.key).toString('base64')));
});
