// The output spool's on-disk format, shared by the writer (output-spool.ts, main thread) and the
// ingester (ingester.ts, worker thread). A spool run is a directory `<db>-spool/run-<pid>-<ticks>/` of
// segment files `00000001.spool`, … Each segment is a sequence of records:
//
//   u32 LE payload length | u32 LE crc32(payload) | u32 LE header length | header JSON | data (UTF-8)
//
// A torn or garbled tail (a crash inside a write, a power cut) fails the length or CRC check and ends
// the readable part of the segment: nothing after a bad record is trusted.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { SessionInfo } from '../../../src-shared/session.ts';

export type SpoolRecord =
  /** Redacted output of seqs a..b (r: raw UTF-8 bytes the agent printed; t: epoch ms). */
  | { k: 'o'; s: string; a: number; b: number; r: number; t: number; data: string }
  /** The last `removed.length` chars of the session's stored output, `removed`, become `data`. */
  | { k: 'a'; s: string; t: number; removed: string; data: string }
  /** Seqs a..b were printed but could not be kept (persistence paused past its memory bound). */
  | { k: 'g'; s: string; a: number; b: number; r: number; t: number }
  /** Redacted output that continues the session's last output (a held tail released after a quiet
   *  moment or at the end): appended to the row before it, no seq of its own. */
  | { k: 'c'; s: string; t: number; data: string }
  /** End of the session's output stream (its ANSI stripper releases what it held). */
  | { k: 'e'; s: string; t: number }
  /** A row boundary: output before it and after it never share a stored row (a person's command was
   *  journaled here, and a replay places it between the two rows). */
  | { k: 'b'; s: string; t: number }
  /** The session's row, so the spool can be stored even if the row never reached SQLite. */
  | { k: 's'; s: string; t: number; info: SessionInfo };

const HEAD = 12;

export function encodeRecord(record: SpoolRecord): Buffer {
  const { data, ...head } = record as SpoolRecord & { data?: string };
  const headJson = JSON.stringify(head);
  const headBytes = Buffer.byteLength(headJson);
  const dataBytes = data ? Buffer.byteLength(data) : 0;
  const buf = Buffer.allocUnsafe(HEAD + headBytes + dataBytes);
  buf.write(headJson, HEAD, 'utf8');
  if (data) buf.write(data, HEAD + headBytes, 'utf8');
  buf.writeUInt32LE(headBytes + dataBytes, 0);
  buf.writeUInt32LE(crc32(buf.subarray(HEAD)), 4);
  buf.writeUInt32LE(headBytes, 8);
  return buf;
}

export interface DecodedRecord {
  record: SpoolRecord;
  /** Offset of the record in the buffer and its encoded length. */
  offset: number;
  length: number;
}

/**
 * Records in buf[from, to). Stops at the first incomplete or corrupt record: `end` is where reading
 * stopped (the next record starts there), `corrupt` says whether it stopped on a bad record rather
 * than at the end of the data.
 */
export function decodeRecords(
  buf: Buffer,
  from = 0,
  to = buf.length,
): { records: DecodedRecord[]; end: number; corrupt: boolean } {
  const records: DecodedRecord[] = [];
  let pos = from;
  while (to - pos >= HEAD) {
    const payload = buf.readUInt32LE(pos);
    const headBytes = buf.readUInt32LE(pos + 8);
    if (headBytes > payload) return { records, end: pos, corrupt: true };
    if (to - pos - HEAD < payload) return { records, end: pos, corrupt: false };
    const body = buf.subarray(pos + HEAD, pos + HEAD + payload);
    if (crc32(body) !== buf.readUInt32LE(pos + 4)) return { records, end: pos, corrupt: true };
    let record: SpoolRecord;
    try {
      record = JSON.parse(body.toString('utf8', 0, headBytes)) as SpoolRecord;
    } catch {
      return { records, end: pos, corrupt: true };
    }
    if (record.k === 'o' || record.k === 'a' || record.k === 'c')
      record.data = body.toString('utf8', headBytes);
    records.push({ record, offset: pos, length: HEAD + payload });
    pos += HEAD + payload;
  }
  return { records, end: pos, corrupt: false };
}

export function segmentName(n: number): string {
  return `${String(n).padStart(8, '0')}.spool`;
}

/** Segment numbers in a run directory, ascending. */
export function segmentNumber(file: string): number | null {
  const m = /^(\d{8})\.spool$/.exec(file);
  return m ? Number(m[1]) : null;
}

/** Runs of this process whose writer is open (a process may open one database twice, e.g. tests). */
const openRuns = new Set<string>();
let runCounter = 0;

/**
 * `run-<pid>-<start ticks>-<n>`: the process that writes it, so a later start can tell a dead run from
 * a live one (another AutoDev on the same database) — PID reuse is caught by the start time — and
 * which of this process's writers it was.
 */
export function newRunName(): string {
  const name = `run-${process.pid}-${ownStartTicks()}-${++runCounter}`;
  openRuns.add(name);
  return name;
}

/** This process's writer of `name` closed: a later writer may store what it left. */
export function closeRun(name: string): void {
  openRuns.delete(name);
}

export function parseRunName(name: string): { pid: number; startTicks: number; n: number } | null {
  const m = /^run-(\d+)-(\d+)(?:-(\d+))?$/.exec(name);
  return m ? { pid: Number(m[1]), startTicks: Number(m[2]), n: Number(m[3] ?? 0) } : null;
}

/** This process's start time in clock ticks since boot (/proc/self/stat field 22); 0 elsewhere. */
export function ownStartTicks(): number {
  return startTicksOf(process.pid) ?? 0;
}

function startTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/** Whether the process that writes spool run `name` is still alive (then its spool is not ours). */
export function runOwnerAlive(name: string): boolean {
  const owner = parseRunName(name);
  if (!owner) return false;
  if (owner.pid === process.pid && owner.startTicks === ownStartTicks()) return openRuns.has(name);
  const ticks = startTicksOf(owner.pid);
  if (ticks !== null) return ticks === owner.startTicks;
  try {
    // No /proc (macOS): signal 0 says whether the PID exists (a reused PID looks alive: its spool
    // waits for the next start).
    process.kill(owner.pid, 0);
    return process.platform !== 'linux';
  } catch {
    return false;
  }
}

export function spoolDirFor(dbPath: string): string {
  return `${dbPath}-spool`;
}

export function runDir(spoolDir: string, run: string): string {
  return path.join(spoolDir, run);
}
