// Where held commands go when the database refuses writes (disk full…): a file in another directory
// (by default the system temp directory, or `spillDir`), 0600 in a 0700 directory, one JSON line per
// entry, fsynced. If AutoDev stops (or is killed) before the database takes them, the next start
// journals them from here first. One file per database (named by a hash of its path).
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { SpawnRecord } from '../sessions/types.ts';
import type { CommandEntry } from './session-store.ts';

export type SpillEntry =
  | { k: 'session'; info: SessionInfo }
  | { k: 'command'; entry: CommandEntry }
  | { k: 'spawn'; record: SpawnRecord }
  | { k: 'release'; session_id: string; reason: string; at: string }
  /** Output that could not be kept (close while paused): becomes a gap row. */
  | { k: 'lost'; session_id: string; seq_start: number; seq_end: number; bytes: number; at: string };

export function defaultSpillDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(os.tmpdir(), `autodev-spill-${uid}`);
}

export function spillPathFor(dbPath: string, dir = defaultSpillDir()): string {
  const id = createHash('sha256').update(path.resolve(dbPath)).digest('hex').slice(0, 16);
  return path.join(dir, `journal-${id}.jsonl`);
}

export class SpillFile {
  readonly path: string;
  private _fd: number | null = null;

  constructor(file: string) {
    this.path = file;
  }

  /** Appends and fsyncs; false when the spill directory refuses too (then memory is all there is). */
  append(entries: SpillEntry[]): boolean {
    if (entries.length === 0) return true;
    try {
      if (this._fd === null) {
        const dir = path.dirname(this.path);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Never follow someone else's directory in /tmp: ours or nothing.
        if (typeof process.getuid === 'function') chmodSync(dir, 0o700);
        this._fd = openSync(this.path, 'a', 0o600);
        chmodSync(this.path, 0o600);
      }
      writeSync(this._fd, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
      fsyncSync(this._fd);
      return true;
    } catch {
      return false;
    }
  }

  /** Every whole entry (a torn last line is ignored). */
  read(): SpillEntry[] {
    if (!existsSync(this.path)) return [];
    const out: SpillEntry[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as SpillEntry);
      } catch {
        // torn write at a crash
      }
    }
    return out;
  }

  get exists(): boolean {
    return existsSync(this.path);
  }

  clear(): void {
    if (this._fd !== null) {
      try {
        closeSync(this._fd);
      } catch {}
      this._fd = null;
    }
    rmSync(this.path, { force: true });
  }

  close(): void {
    if (this._fd !== null) closeSync(this._fd);
    this._fd = null;
  }
}
