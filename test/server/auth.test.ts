import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import {
  loadSigningSecret,
  rotateSigningSecret,
  SigningSecretError,
} from '../../src-main/server/auth/signing-secret.ts';
import { issueToken, TOKEN_AUDIENCE, TOKEN_ISSUER, verifyToken } from '../../src-main/server/auth/tokens.ts';
import { sessionWsUrl, startTestServer, TestClient } from './harness.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function forge(
  key: Uint8Array,
  o: {
    alg?: string;
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    omit?: string[];
  } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    sub: 'local',
    scope: 'control',
    jti: 'j-1',
    iat: now,
    exp: now + 600,
    ...o.claims,
  };
  for (const k of o.omit ?? []) delete claims[k];
  return new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256', ...o.header }).sign(key);
}

test('JWT verification is pinned: every forged or stale token is rejected with a reason', async () => {
  const key = new Uint8Array(randomBytes(32));
  const now = Math.floor(Date.now() / 1000);
  const good = await forge(key);
  assert.equal((await verifyToken(key, good)).scope, 'control');
  const [h, p] = good.split('.');
  const cases: [string, string | Promise<string>, RegExp][] = [
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, /algorithm/],
    ['HS512', forge(key, { alg: 'HS512' }), /algorithm/],
    ['bad signature', `${h}.${p}.${'A'.repeat(43)}`, /signature/],
    ['other secret', forge(new Uint8Array(randomBytes(32))), /signature/],
    ['expired', forge(key, { claims: { iat: now - 7200, exp: now - 3600 } }), /expired/],
    ['nbf in the future', forge(key, { claims: { nbf: now + 3600 } }), /nbf/],
    ['iat in the future', forge(key, { claims: { iat: now + 3600, exp: now + 7200 } }), /iat/],
    ['stale iat', forge(key, { claims: { iat: now - 40 * 86400, exp: now + 600 } }), /iat|lifetime/],
    ['wrong issuer', forge(key, { claims: { iss: 'evil' } }), /iss/],
    ['wrong audience', forge(key, { claims: { aud: 'other-api' } }), /aud/],
    ['no exp', forge(key, { omit: ['exp'] }), /exp/],
    ['no jti', forge(key, { omit: ['jti'] }), /jti/],
    ['no sub', forge(key, { omit: ['sub'] }), /sub/],
    ['no scope', forge(key, { omit: ['scope'] }), /scope/],
    ['unknown scope', forge(key, { claims: { scope: 'admin' } }), /scope/],
    ['kid header', forge(key, { header: { kid: 'k1' } }), /kid/],
    ['jwk header', forge(key, { header: { jwk: { kty: 'oct', k: 'AA' } } }), /jwk/],
    ['jku header', forge(key, { header: { jku: 'https://evil.example/jwks' } }), /jku/],
    ['garbage', 'not-a-jwt', /malformed/],
  ];
  for (const [name, tokenPromise, reason] of cases) {
    const token = await tokenPromise;
    await assert.rejects(
      verifyToken(key, token),
      (e: Error) => {
        assert.match(e.message, reason, name);
        assert.ok(!e.message.includes(token), 'the error never echoes the token');
        return true;
      },
      name,
    );
  }
  // issueToken refuses silly lifetimes.
  await assert.rejects(issueToken(key, { scope: 'read', ttlSeconds: 0 }), RangeError);
  await assert.rejects(issueToken(key, { scope: 'read', ttlSeconds: 365 * 86400 }), RangeError);
});

test('signing secret: JWT_SECRET >= 32 bytes, else a 0600 file generated once; rotation invalidates tokens', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-secret-'));
  try {
    assert.throws(() => loadSigningSecret(dir, { JWT_SECRET: 'short' }), SigningSecretError);
    const fromEnv = loadSigningSecret(dir, { JWT_SECRET: 'x'.repeat(32) });
    assert.equal(fromEnv.source, 'env');
    const generated = loadSigningSecret(dir, {});
    assert.equal(generated.source, 'generated');
    const file = path.join(dir, 'jwt-secret');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = loadSigningSecret(dir, {});
    assert.equal(again.source, 'file');
    assert.deepEqual(again.key, generated.key);
    const { token } = await issueToken(again.key, { scope: 'read' });
    await verifyToken(again.key, token);
    rotateSigningSecret(dir);
    const rotated = loadSigningSecret(dir, {});
    assert.notDeepEqual(rotated.key, generated.key);
    await assert.rejects(verifyToken(rotated.key, token), /signature/);
    // A truncated secret file refuses to start instead of signing with a weak key.
    writeFileSync(file, 'abc', { mode: 0o600 });
    assert.throws(() => loadSigningSecret(dir, {}), SigningSecretError);
    assert.equal(readFileSync(file, 'utf8'), 'abc');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('REST auth: missing/invalid tokens 401, read scope cannot mutate (403), lockout after repeated failures (429)', async (t) => {
  const ts = await startTestServer(t, {
    authFailures: { maxFailures: 5, windowMs: 60_000, baseLockoutMs: 60_000 },
  });
  const session = await ts.createShell();
  const read = await ts.token('read');
  assert.equal((await ts.api('GET', '/cli/sessions', { token: '' })).status, 401);
  assert.equal((await ts.api('GET', '/cli/sessions', { token: read })).status, 200);
  assert.equal(
    (await ts.api('GET', `/cli/sessions/${session.session_id}/diagnostics`, { token: read })).status,
    200,
  );
  const del = await ts.api('DELETE', `/cli/sessions/${session.session_id}`, { token: read });
  assert.equal(del.status, 403);
  assert.equal(del.body.error_code, 'FORBIDDEN');
  assert.equal(
    (await ts.api('POST', '/cli/sessions', { token: read, body: { cli_tool: 'shell' } })).status,
    403,
  );
  assert.equal(
    (await ts.api('PATCH', `/cli/sessions/${session.session_id}`, { token: read, body: { name: 'x' } }))
      .status,
    403,
  );
  assert.ok(ts.core.sessions.get(session.session_id)!.ended_at === null, 'still running');

  // A URL token is refused with instructions, and never used.
  const urlToken = await ts.api('GET', `/cli/sessions?token=${read}`, { token: '' });
  assert.equal(urlToken.status, 400);
  assert.match(urlToken.body.error, /Authorization: Bearer/);

  // Revocation: the next request fails.
  const { token: revocable, claims } = await ts.tokenWithClaims('read');
  assert.equal((await ts.api('GET', '/whoami', { token: revocable })).status, 200);
  ts.server.revokeToken(claims.jti);
  const revoked = await ts.api('GET', '/whoami', { token: revocable });
  assert.equal(revoked.status, 401);
  assert.match(revoked.body.error, /revoked/);

  // Repeated bad tokens from one address: locked out (429 + Retry-After), even for a good token.
  let locked = false;
  for (let i = 0; i < 10 && !locked; i++) {
    const res = await ts.api('GET', '/whoami', { token: `${read}x` });
    if (res.status === 429) locked = true;
    else assert.equal(res.status, 401);
  }
  assert.ok(locked, 'locked out');
  const lockedGood = await ts.api('GET', '/whoami', { token: read });
  assert.equal(lockedGood.status, 429);
  assert.ok(Number(lockedGood.headers.get('retry-after')) > 0);
  assert.equal((await ts.api('GET', '/health', { token: '' })).status, 200, '/health stays public');
});

test('WS auth: first-message auth, subprotocol auth, timeouts, scopes, expiry and revocation close sockets', async (t) => {
  const ts = await startTestServer(t, { ws: { authTimeoutMs: 300, revocationCheckMs: 100 } });
  const session = await ts.createShell();
  const url = sessionWsUrl(ts.server, session.session_id);

  // Right Origin, no token: closed 4401 after the auth deadline.
  const silent = new TestClient(url, { origin: ts.origin });
  await silent.opened;
  assert.equal(await silent.waitClosed(), 4401);

  // Non-auth first message: error then 4401.
  const eager = new TestClient(url, { origin: ts.origin });
  await eager.opened;
  eager.send({ type: 'input', data: { data: 'ls\r' } });
  assert.equal(await eager.waitClosed(), 4401);
  assert.equal(eager.messages.find((m) => m.type === 'error')?.data.error_code, 'UNAUTHORIZED');

  // Bad token in the auth message: 4401 with the reason.
  const bad = new TestClient(url, { origin: ts.origin });
  await bad.opened;
  bad.auth('eyJhbGciOiJub25lIn0.e30.');
  assert.equal(await bad.waitClosed(), 4401);
  assert.match(bad.messages.find((m) => m.type === 'error')!.data.error, /algorithm/);

  // Subprotocol auth (a script without Origin): the bearer subprotocol is echoed back.
  const control = await ts.token('control');
  const script = new TestClient(url, { origin: null, protocols: [`autodev.bearer.${control}`] });
  await script.opened;
  assert.equal(script.ws.protocol, `autodev.bearer.${control}`);
  await script.waitForType('auth');
  // Offering a plain protocol too: that one is echoed instead of the token.
  const script2 = new TestClient(url, {
    origin: null,
    protocols: ['autodev.v1', `autodev.bearer.${control}`],
  });
  await script2.opened;
  assert.equal(script2.ws.protocol, 'autodev.v1');
  script.close();
  script2.close();

  // Read scope: may watch, may not type (error FORBIDDEN, socket stays open).
  const reader = new TestClient(url, { origin: ts.origin });
  await reader.opened;
  reader.auth(await ts.token('read'));
  reader.send({ type: 'resume', data: { last_seq: 0 } });
  await reader.waitForType('auth');
  for (const msg of [
    { type: 'input', data: { data: 'touch /tmp/should-not-exist\r' } },
    { type: 'command', data: { command: 'echo nope' } },
    { type: 'resize', data: { cols: 50, rows: 10 } },
    { type: 'cancel', data: {} },
  ]) {
    const from = reader.messages.length;
    reader.send(msg);
    const err = await reader.waitForType('error', 20_000, from);
    assert.equal(err.data.error_code, 'FORBIDDEN', msg.type);
  }
  assert.equal(reader.closeCode, null, 'a read-only viewer stays connected');
  assert.equal(ts.core.sessions.get(session.session_id)!.cols, 100, 'resize did not happen');
  reader.close();

  // Expiry: a 2 s token closes the open socket with 4408.
  const shortLived = await issueToken(ts.key, { scope: 'read', ttlSeconds: 2 });
  const expiring = new TestClient(url, { origin: ts.origin });
  await expiring.opened;
  expiring.auth(shortLived.token);
  await expiring.waitForType('auth');
  assert.equal(await expiring.waitClosed(10_000), 4408);

  // In-process revocation closes at once; a revocation found in the store by the sweep too.
  const { token: rt, claims } = await ts.tokenWithClaims('read');
  const revokedClient = new TestClient(url, { origin: ts.origin });
  await revokedClient.opened;
  revokedClient.auth(rt);
  await revokedClient.waitForType('auth');
  ts.server.revokeToken(claims.jti);
  assert.equal(await revokedClient.waitClosed(2_000), 4401);
  assert.match(revokedClient.messages.find((m) => m.type === 'error')!.data.error, /revoked/);

  const events = new TestClient(`${ts.server.wsUrl}/cli/events/ws`, { origin: ts.origin });
  const { token: et, claims: ec } = await ts.tokenWithClaims('read');
  await events.opened;
  events.auth(et);
  await events.waitForType('auth');
  ts.core
    .database!.db.prepare(
      "INSERT INTO auth_tokens (jti, subject, scope, issued_at, expires_at, revoked_at) VALUES (?, 'local', 'read', ?, ?, ?)",
    )
    .run(
      ec.jti,
      new Date().toISOString(),
      new Date(Date.now() + 60_000).toISOString(),
      new Date().toISOString(),
    );
  assert.equal(await events.waitClosed(5_000), 4401);

  // Unknown (but well-formed) session: 4404 after auth.
  const ghost = new TestClient(sessionWsUrl(ts.server, 'no-such-session'), { origin: ts.origin });
  await ghost.opened;
  ghost.auth(control);
  assert.equal(await ghost.waitClosed(), 4404);
});
