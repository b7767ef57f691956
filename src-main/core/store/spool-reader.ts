// Reading the output spool (spool-format.ts) for the ingester: cursors over a run's segments, the
// runs earlier processes left behind, and slices of whole records.
import { existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import {
  type DecodedRecord,
  decodeRecords,
  parseRunName,
  runOwnerAlive,
  segmentName,
  segmentNumber,
} from './spool-format.ts';
import type { LoggerLike } from './types.ts';

export interface Cursor {
  run: string;
  dir: string;
  segment: number;
  offset: number;
  /** Leftover runs (a previous process's) are read to the end of each file. */
  leftover: boolean;
  fd: number | null;
}

/** Runs of earlier processes (or closed writers of this one) not stored yet: oldest first. */
export function findLeftoverRuns(
  spoolDir: string,
  currentRun: string,
  progress: (run: string) => { segment: number; offset: number } | undefined,
): Cursor[] {
  let names: string[] = [];
  try {
    names = readdirSync(spoolDir);
  } catch {
    return [];
  }
  const runs = names
    .filter((n) => n !== currentRun && parseRunName(n) !== null && !runOwnerAlive(n))
    .sort((a, b) => {
      const x = parseRunName(a);
      const y = parseRunName(b);
      return (x?.startTicks ?? 0) - (y?.startTicks ?? 0) || (x?.n ?? 0) - (y?.n ?? 0);
    });
  return runs.map((run) => {
    const dir = path.join(spoolDir, run);
    const segments = readdirSync(dir)
      .map(segmentNumber)
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
    const saved = progress(run);
    const first = segments[0] ?? 1;
    const at = saved && saved.segment >= first ? saved : { segment: first, offset: 0 };
    return { run, dir, segment: at.segment, offset: at.offset, leftover: true, fd: null };
  });
}

/**
 * Records from the cursor on, about `sliceBytes` of them; null when there is nothing to read yet.
 * The current run is read up to what the writer reported written; a leftover run to the end of each
 * file. A damaged record ends its segment (nothing after it is trusted).
 */
export function readSlice(
  c: Cursor,
  written: { segment: number; offset: number },
  sliceBytes: number,
  logger: LoggerLike,
): { records: DecodedRecord[]; end: number; segmentEnded: boolean } | null {
  for (;;) {
    const file = path.join(c.dir, segmentName(c.segment));
    let limit: number;
    let complete: boolean; // the segment will not grow any more
    if (c.leftover) {
      if (c.fd === null) {
        if (!existsSync(file)) {
          // A gap in the numbering (deleted): the next segment, if any.
          const next = nextSegment(c);
          if (next === null) return null;
          c.segment = next;
          c.offset = 0;
          continue;
        }
        c.fd = openSync(file, 'r');
      }
      limit = fstatSync(c.fd).size;
      complete = true;
    } else {
      if (written.segment < c.segment) return null;
      if (c.fd === null) c.fd = openSync(file, 'r');
      complete = written.segment > c.segment;
      limit = complete ? fstatSync(c.fd).size : written.offset;
    }
    if (c.offset >= limit) {
      if (!complete) return null;
      // End of a finished segment: record it (progress moves to the next one).
      return { records: [], end: c.offset, segmentEnded: true };
    }
    let want = Math.min(limit - c.offset, sliceBytes + 64 * 1024);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const n = readSync(c.fd, buf, 0, want, c.offset);
      const decoded = decodeRecords(buf, 0, n);
      let take = 0;
      let end = c.offset;
      for (const r of decoded.records) {
        take++;
        end = c.offset + r.offset + r.length;
        if (end - c.offset >= sliceBytes) break;
      }
      const records = decoded.records.slice(0, take);
      if (records.length > 0) {
        const segmentEnded = complete && end >= limit && take === decoded.records.length && !decoded.corrupt;
        return { records, end, segmentEnded };
      }
      if (decoded.corrupt || (n < want && n === limit - c.offset && complete)) {
        // A torn or garbled record: nothing after it in this segment is trusted.
        logger.warn('spool segment ends in a damaged record: the rest of it is skipped', {
          run: c.run,
          segment: c.segment,
          offset: c.offset,
        });
        return { records: [], end: limit, segmentEnded: true };
      }
      if (want >= limit - c.offset) return null; // an incomplete record still being written
      want = Math.min(limit - c.offset, want * 2);
    }
  }
}

function nextSegment(c: Cursor): number | null {
  let next: number | null = null;
  for (const f of readdirSync(c.dir)) {
    const n = segmentNumber(f);
    if (n !== null && n > c.segment && (next === null || n < next)) next = n;
  }
  return next;
}
