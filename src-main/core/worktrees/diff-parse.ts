import type { ChangeStatus } from '../../../src-shared/worktrees.ts';
import { splitZ } from './git.ts';

/** Parsers for `git diff -z --name-status`, `-z --numstat` and unified patches, and the size caps. */

export interface NameStatus {
  path: string;
  old_path: string | null;
  status: ChangeStatus;
}

const STATUS_BY_LETTER: Record<string, ChangeStatus> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'type_changed',
};

/** `M\0path\0`, `R087\0old\0new\0`… */
export function parseNameStatus(output: string): NameStatus[] {
  const fields = splitZ(output);
  const result: NameStatus[] = [];
  for (let i = 0; i < fields.length; ) {
    const code = fields[i++] ?? '';
    const letter = code.charAt(0);
    if (letter === 'R' || letter === 'C') {
      const from = fields[i++] ?? '';
      const to = fields[i++] ?? '';
      result.push({ path: to, old_path: from, status: STATUS_BY_LETTER[letter]! });
    } else {
      const file = fields[i++] ?? '';
      result.push({ path: file, old_path: null, status: STATUS_BY_LETTER[letter] ?? 'modified' });
    }
  }
  return result;
}

export interface NumStat {
  path: string;
  additions: number;
  deletions: number;
  binary: boolean;
}

/** `12\t3\tpath\0`, or for a rename `12\t3\t\0old\0new\0`; binary files count `-\t-`. */
export function parseNumstat(output: string): NumStat[] {
  const fields = splitZ(output);
  const result: NumStat[] = [];
  for (let i = 0; i < fields.length; ) {
    const head = fields[i++] ?? '';
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(head);
    if (!m) continue;
    let file = m[3] ?? '';
    if (file === '') {
      i++; // old path
      file = fields[i++] ?? '';
    }
    const binary = m[1] === '-' && m[2] === '-';
    result.push({
      path: file,
      additions: binary ? 0 : Number(m[1]),
      deletions: binary ? 0 : Number(m[2]),
      binary,
    });
  }
  return result;
}

/**
 * `git diff -z --raw --numstat` in one run: raw entries (`:<modes> <shas> <STATUS>\0path\0`, two paths
 * for a rename or copy) come first, then the numstat entries.
 */
export function parseRawNumstat(output: string): { names: NameStatus[]; stats: NumStat[] } {
  const fields = splitZ(output);
  const names: NameStatus[] = [];
  let i = 0;
  for (; i < fields.length && (fields[i] ?? '').startsWith(':'); ) {
    const code = (fields[i++] ?? '').split(' ').pop() ?? '';
    const letter = code.charAt(0);
    if (letter === 'R' || letter === 'C') {
      const from = fields[i++] ?? '';
      const to = fields[i++] ?? '';
      names.push({ path: to, old_path: from, status: STATUS_BY_LETTER[letter]! });
    } else {
      names.push({ path: fields[i++] ?? '', old_path: null, status: STATUS_BY_LETTER[letter] ?? 'modified' });
    }
  }
  return { names, stats: parseNumstat(fields.slice(i).join('\0')) };
}

/** A unified patch split per file (`diff --git` blocks, in git's order). */
export function splitPatch(patch: string): string[] {
  if (patch.length === 0) return [];
  const blocks: string[] = [];
  let start = patch.startsWith('diff --git ') ? 0 : patch.indexOf('\ndiff --git ') + 1;
  if (start <= 0 && !patch.startsWith('diff --git ')) return [];
  for (;;) {
    const next = patch.indexOf('\ndiff --git ', start);
    if (next < 0) {
      blocks.push(patch.slice(start));
      return blocks;
    }
    blocks.push(patch.slice(start, next + 1));
    start = next + 1;
  }
}

/**
 * One file's block cut to at most `maxBytes` at a hunk boundary, so what is kept still parses as a
 * unified diff (a hunk cut in its middle would not). Returns the block and whether it was cut.
 */
export function capFileBlock(block: string, maxBytes: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(block) <= maxBytes) return { text: block, truncated: false };
  const firstHunk = block.indexOf('\n@@ ');
  const header = firstHunk < 0 ? block : block.slice(0, firstHunk + 1);
  let kept = header;
  let size = Buffer.byteLength(header);
  let at = firstHunk < 0 ? -1 : firstHunk + 1;
  while (at >= 0) {
    const next = block.indexOf('\n@@ ', at);
    const hunk = next < 0 ? block.slice(at) : block.slice(at, next + 1);
    const hunkSize = Buffer.byteLength(hunk);
    if (size + hunkSize > maxBytes) break;
    kept += hunk;
    size += hunkSize;
    at = next < 0 ? -1 : next + 1;
  }
  return { text: kept, truncated: true };
}

export interface CappedPatch {
  diff: string;
  /** Per block (in order): whether that file's diff was cut or left out. */
  truncated: boolean[];
  anyTruncated: boolean;
}

/**
 * Caps a patch at `maxTotal` bytes and each file at `maxPerFile`: files keep whole hunks while they
 * fit; a file past the total keeps only its header lines. `expected` is how many files the patch
 * should have (the stream may have been cut before the last ones).
 */
export function capPatch(patch: string, expected: number, maxTotal: number, maxPerFile: number): CappedPatch {
  const blocks = splitPatch(patch);
  const truncated: boolean[] = [];
  let out = '';
  let total = 0;
  for (const block of blocks) {
    const room = Math.max(0, Math.min(maxPerFile, maxTotal - total));
    const capped = capFileBlock(block, room);
    out += capped.text;
    total += Buffer.byteLength(capped.text);
    truncated.push(capped.truncated);
  }
  while (truncated.length < expected) truncated.push(true);
  return { diff: out, truncated, anyTruncated: truncated.some(Boolean) };
}
