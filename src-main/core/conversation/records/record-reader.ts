import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ParsedRecord, RecordParser } from './types.ts';

/** Longest line kept while waiting for its end (a transcript line holding a huge tool result). */
const MAX_LINE = 32 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/**
 * Reads an agent's record file incrementally: JSON Lines from where the last read stopped (a line
 * still being written waits for its newline), a `.json` document whole whenever it changed. A file that
 * shrank or was replaced is read again from the start. Never throws: a file that cannot be read keeps
 * the last state and says why in `error`.
 */
export class RecordReader {
  readonly path: string;
  private readonly _parser: RecordParser;
  private _state: ParsedRecord;
  private _offset = 0;
  private _pending = '';
  private _decoder = new TextDecoder('utf-8');
  private _ino = -1;
  private _mtimeMs = -1;
  private _size = -1;
  error: string | null = null;

  constructor(path: string, parser: RecordParser) {
    this.path = path;
    this._parser = parser;
    this._state = parser.create();
  }

  get state(): ParsedRecord {
    return this._state;
  }

  /** Reads what was added since the last call. Returns whether anything changed. */
  refresh(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      this.error = `cannot open ${this.path}: ${(error as Error).message}`;
      return false;
    }
    try {
      const st = fstatSync(fd);
      if (st.ino === this._ino && st.size === this._size && st.mtimeMs === this._mtimeMs) return false;
      const json = this.path.endsWith('.json');
      if (json || st.ino !== this._ino || st.size < this._offset) this._reset();
      this._ino = st.ino;
      this._size = st.size;
      this._mtimeMs = st.mtimeMs;
      if (json) {
        const text = readAll(fd, 0, st.size);
        try {
          this._parser.feed(this._state, JSON.parse(text));
          this.error = null;
        } catch (error) {
          // A document being rewritten: keep the last good state, try again next time.
          this.error = `unreadable JSON in ${this.path}: ${(error as Error).message}`;
          this._size = -1;
        }
      } else {
        this._readLines(fd, st.size);
      }
      this._parser.finish?.(this._state);
      return true;
    } catch (error) {
      this.error = `cannot read ${this.path}: ${(error as Error).message}`;
      return false;
    } finally {
      closeSync(fd);
    }
  }

  private _reset(): void {
    this._state = this._parser.create();
    this._offset = 0;
    this._pending = '';
    this._decoder = new TextDecoder('utf-8');
  }

  private _readLines(fd: number, size: number): void {
    const buffer = Buffer.alloc(CHUNK);
    while (this._offset < size) {
      const n = readSync(fd, buffer, 0, Math.min(CHUNK, size - this._offset), this._offset);
      if (n <= 0) break;
      this._offset += n;
      this._pending += this._decoder.decode(buffer.subarray(0, n), { stream: true });
      let newline = this._pending.indexOf('\n');
      while (newline >= 0) {
        const line = this._pending.slice(0, newline);
        this._pending = this._pending.slice(newline + 1);
        this._feedLine(line);
        newline = this._pending.indexOf('\n');
      }
      if (this._pending.length > MAX_LINE) this._pending = ''; // never a line; skip it
    }
    this.error = null;
  }

  private _feedLine(line: string): void {
    const trimmed = line.trim();
    if (trimmed.length === 0) return;
    try {
      this._parser.feed(this._state, JSON.parse(trimmed));
    } catch {
      // A corrupt line (a crash mid-write) is skipped; the rest of the record still counts.
    }
  }
}

function readAll(fd: number, from: number, size: number): string {
  const buffer = Buffer.alloc(Math.max(0, size - from));
  let read = 0;
  while (read < buffer.length) {
    const n = readSync(fd, buffer, read, buffer.length - read, from + read);
    if (n <= 0) break;
    read += n;
  }
  return buffer.subarray(0, read).toString('utf8');
}
