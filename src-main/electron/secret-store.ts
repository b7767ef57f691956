import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SecretStatus, SecretStorageInfo } from '../../src-shared/ipc.ts';
import { IpcError } from './ipc-router.ts';

/** The parts of Electron's `safeStorage` the store uses (a fake in tests). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text' means the "encryption" is a hard-coded key — obfuscation, not secrecy. */
  getSelectedStorageBackend?(): string;
}

interface SecretFile {
  version: 1;
  /** name → base64 of safeStorage ciphertext */
  secrets: Record<string, { data: string; backend: string; updated_at: string }>;
}

export const PLAINTEXT_BACKEND = 'basic_text';

/**
 * API keys entered in settings, encrypted with the OS keychain through `safeStorage`, in one JSON
 * file written atomically with mode 0600. Refuses when only the Linux `basic_text` backend exists
 * unless the user explicitly opted in (field notes §4.4, fault test 34). Values never leave the main
 * process: the renderer sees names and "set / not set" only.
 */
export class SecretStore {
  private readonly _file: string;
  private readonly _safe: SafeStorageLike;
  private readonly _names: readonly string[];

  constructor(dir: string, safeStorage: SafeStorageLike, knownNames: readonly string[] = []) {
    this._file = path.join(dir, 'secrets.json');
    this._safe = safeStorage;
    this._names = knownNames;
  }

  get file(): string {
    return this._file;
  }

  backend(): string {
    if (!this._safe.isEncryptionAvailable()) return 'unavailable';
    return this._safe.getSelectedStorageBackend?.() ?? 'os';
  }

  encrypted(): boolean {
    const backend = this.backend();
    return backend !== PLAINTEXT_BACKEND && backend !== 'unavailable';
  }

  private _read(): SecretFile {
    try {
      const parsed = JSON.parse(readFileSync(this._file, 'utf8')) as SecretFile;
      if (parsed && parsed.version === 1 && typeof parsed.secrets === 'object') return parsed;
    } catch {
      // Missing or unreadable: start empty (a corrupt file is replaced on the next write).
    }
    return { version: 1, secrets: Object.create(null) };
  }

  private _write(content: SecretFile): void {
    mkdirSync(path.dirname(this._file), { recursive: true, mode: 0o700 });
    const tmp = `${this._file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(content), { mode: 0o600, flag: 'wx' });
      chmodSync(tmp, 0o600); // umask can only remove bits; be explicit anyway
      renameSync(tmp, this._file);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw error;
    }
  }

  info(): SecretStorageInfo {
    const stored = this._read().secrets;
    const names = [...new Set([...this._names, ...Object.keys(stored)])].sort();
    const secrets: SecretStatus[] = names.map((name) => ({ name, set: Object.hasOwn(stored, name) }));
    return { backend: this.backend(), encrypted: this.encrypted(), secrets };
  }

  set(name: string, value: string, options: { allowPlaintext?: boolean } = {}): SecretStorageInfo {
    const backend = this.backend();
    if (backend === 'unavailable')
      throw new IpcError('FORBIDDEN', 'No OS secret storage is available; the key was not stored.');
    if (backend === PLAINTEXT_BACKEND && options.allowPlaintext !== true)
      throw new IpcError(
        'FORBIDDEN',
        'Only the basic_text backend is available (no keyring): the key would be stored unencrypted. ' +
          'Install/unlock a keyring (gnome-keyring, KWallet) or explicitly allow plaintext storage.',
      );
    const content = this._read();
    content.secrets[name] = {
      data: this._safe.encryptString(value).toString('base64'),
      backend,
      updated_at: new Date().toISOString(),
    };
    this._write(content);
    return this.info();
  }

  delete(name: string): SecretStorageInfo {
    const content = this._read();
    if (Object.hasOwn(content.secrets, name)) {
      delete content.secrets[name];
      this._write(content);
    }
    return this.info();
  }

  /** Main-process only: the decrypted value for a provider's environment, or undefined. */
  get(name: string): string | undefined {
    const secrets = this._read().secrets;
    if (!Object.hasOwn(secrets, name)) return undefined;
    const entry = secrets[name]!;
    try {
      return this._safe.decryptString(Buffer.from(entry.data, 'base64'));
    } catch {
      return undefined;
    }
  }

  /** All stored secrets, decrypted, for composing provider environments. */
  all(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of Object.keys(this._read().secrets)) {
      const value = this.get(name);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }
}
