import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { startHeadless } from '../../src-main/server/headless.ts';

test('startHeadless: config → secret → core → server in one call; tokens work and are revocable; close stops both', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-headless-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { PATH: process.env['PATH'], HOME: dataDir, SHELL: '/bin/bash', LANG: 'C.UTF-8' };
  const app = await startHeadless({
    dataDir,
    env,
    server: { port: 0 },
    allowedOrigins: ['http://localhost:5173'],
    coreOptions: { logger: createLogger({ level: 'error', sink: () => {} }), tasks: false },
  });
  t.after(() => app.close());
  assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.ok(app.server.allowedOrigins.includes('http://localhost:5173'));
  const token = await app.token('read');
  const who = await fetch(`${app.url}whoami`, {
    headers: { authorization: `Bearer ${token}`, origin: 'http://localhost:5173' },
  });
  assert.equal(who.status, 200);
  assert.equal(who.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  // The token was recorded, so revoking it by id in the store takes effect.
  const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
  app.core.tokens!.revoke(jti);
  assert.equal(
    (await fetch(`${app.url}whoami`, { headers: { authorization: `Bearer ${token}` } })).status,
    401,
  );
  await app.close();
  await assert.rejects(fetch(`${app.url}health`));
});
