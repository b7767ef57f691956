import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createPreferenceStore } from '../../src-main/core/store/preferences.ts';
import { createTokenStore } from '../../src-main/core/store/tokens.ts';
import { schemaDir, tempDir } from './helpers.ts';

test('token revocation: one, per subject, all; an unknown jti is not revoked until revoked by id; purge of expired', (t) => {
  const opened = openDatabase({ schemaDir, path: path.join(tempDir(t), 't.db') });
  t.after(() => opened.close());
  const tokens = createTokenStore(opened.db);
  const iso = (d: number) => new Date(Date.now() + d * 1000).toISOString();
  tokens.record({ jti: 'a', subject: 'phone', scope: 'control', issued_at: iso(-10), expires_at: iso(3600) });
  tokens.record({ jti: 'b', subject: 'phone', scope: 'view', issued_at: iso(-5), expires_at: iso(3600) });
  tokens.record({ jti: 'c', subject: 'laptop', scope: 'control', issued_at: iso(-5), expires_at: iso(-1) });
  assert.equal(tokens.isRevoked('a'), false);
  assert.equal(tokens.isRevoked('nope'), false);
  assert.equal(tokens.revoke('nope'), false);
  assert.equal(tokens.isRevoked('nope'), true);
  assert.equal(tokens.revoke('a'), true);
  assert.equal(tokens.revoke('a'), false);
  assert.equal(tokens.isRevoked('a'), true);
  assert.equal(tokens.revokeSubject('phone'), 1);
  assert.equal(tokens.isRevoked('b'), true);
  assert.equal(tokens.purgeExpired(), 1);
  assert.deepEqual(
    tokens
      .list()
      .map((r) => r.jti)
      .sort(),
    ['a', 'b', 'nope'],
  );
  assert.equal(tokens.revokeAll(), 0);
});

test('preferences are per user JSON values', (t) => {
  const opened = openDatabase({ schemaDir, path: path.join(tempDir(t), 'p.db') });
  t.after(() => opened.close());
  const prefs = createPreferenceStore(opened.db);
  prefs.set('alice', 'theme', 'dark');
  prefs.set('alice', 'layout', { columns: 2 });
  prefs.set('bob', 'theme', 'light');
  prefs.set('alice', 'theme', 'solarized');
  assert.equal(prefs.get('alice', 'theme'), 'solarized');
  assert.deepEqual(prefs.all('alice'), { layout: { columns: 2 }, theme: 'solarized' });
  assert.equal(prefs.delete('bob', 'theme'), true);
  assert.equal(prefs.get('bob', 'theme'), undefined);
});
