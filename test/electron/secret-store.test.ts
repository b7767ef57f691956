import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { type SafeStorageLike, SecretStore } from '../../src-main/electron/secret-store.ts';

/** safeStorage stand-in: reversible "encryption" that never leaves the plaintext visible. */
function fakeSafeStorage(backend: string, available = true): SafeStorageLike {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (plain) =>
      Buffer.from(`ENC(${Buffer.from(plain).toString('hex').split('').reverse().join('')})`),
    decryptString: (buf) => {
      const hex = /^ENC\((.*)\)$/.exec(buf.toString())![1]!.split('').reverse().join('');
      return Buffer.from(hex, 'hex').toString();
    },
    getSelectedStorageBackend: () => backend,
  };
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'autodev-secrets-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY = 'sk-ant-api03-CANARY-0123456789';

test('stores encrypted, 0600, atomically; the renderer view is names and set/not set only', () => {
  const dir = tempDir();
  const store = new SecretStore(dir, fakeSafeStorage('gnome_libsecret'), [
    'ANTHROPIC_API_KEY',
    'OPENAI_API_KEY',
  ]);
  const info = store.set('ANTHROPIC_API_KEY', KEY);
  assert.deepEqual(info, {
    backend: 'gnome_libsecret',
    encrypted: true,
    secrets: [
      { name: 'ANTHROPIC_API_KEY', set: true },
      { name: 'OPENAI_API_KEY', set: false },
    ],
  });
  assert.ok(!JSON.stringify(info).includes(KEY));
  assert.equal(statSync(store.file).mode & 0o777, 0o600);
  assert.ok(!readFileSync(store.file, 'utf8').includes(KEY), 'no plaintext on disk');
  assert.deepEqual(readdirSync(dir), ['secrets.json'], 'no temp files left behind');
  assert.equal(store.get('ANTHROPIC_API_KEY'), KEY, 'main process can decrypt for the agent env');
  assert.deepEqual(store.all(), { ANTHROPIC_API_KEY: KEY });
  assert.equal(store.get('OPENAI_API_KEY'), undefined);
  assert.equal(store.get('__proto__'), undefined);
  store.delete('ANTHROPIC_API_KEY');
  assert.equal(store.get('ANTHROPIC_API_KEY'), undefined);
  assert.equal(statSync(store.file).mode & 0o777, 0o600);
});

test('basic_text backend: refused unless the user opts in; nothing written on refusal', () => {
  const dir = tempDir();
  const store = new SecretStore(dir, fakeSafeStorage('basic_text'));
  assert.equal(store.info().encrypted, false);
  assert.throws(
    () => store.set('ANTHROPIC_API_KEY', KEY),
    (e: Error & { error_code?: string }) => e.error_code === 'FORBIDDEN' && /basic_text/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), [], 'no file under userData after a refusal');
  const info = store.set('ANTHROPIC_API_KEY', KEY, { allowPlaintext: true });
  assert.equal(info.secrets[0]!.set, true);
  assert.equal(statSync(store.file).mode & 0o777, 0o600);
});

test('no encryption available at all: refused even with the opt-in', () => {
  const dir = tempDir();
  const store = new SecretStore(dir, fakeSafeStorage('unknown', false));
  assert.equal(store.info().backend, 'unavailable');
  assert.throws(() => store.set('X_KEY', 'v', { allowPlaintext: true }), /No OS secret storage/);
  assert.deepEqual(readdirSync(dir), []);
});

test('a corrupt file is treated as empty and replaced on the next write', async () => {
  const dir = tempDir();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'secrets.json'), '{not json', { mode: 0o600 });
  const store = new SecretStore(dir, fakeSafeStorage('keychain'));
  assert.deepEqual(store.info().secrets, []);
  store.set('GEMINI_API_KEY', 'g-123');
  assert.equal(store.get('GEMINI_API_KEY'), 'g-123');
});
