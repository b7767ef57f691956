import type { ScreenReplySpec } from '../providers/conversation-spec.ts';
import { isRuleLine } from '../state/screen-text.ts';
import type { ScreenLines } from './screen-lines.ts';

/**
 * The agent's answer from the screen: what appeared between the screen before a turn and the screen
 * after it, without the agent's interface. coder/agentapi's screen-difference extraction is the model
 * (lib/screentracker/diff.go, lib/msgfmt): take the new part of the screen, cut the input box and what
 * is below it, drop the echoed prompt. Differences from it:
 * - the text includes the scrollback, so an answer longer than the screen is whole;
 * - the new part starts after an anchor (the last lines of the old transcript found again), not at the
 *   first line absent from the old screen, so an answer that repeats an earlier line is kept;
 * - the interface is provider data (ScreenReplySpec), not code per agent.
 */

export interface CompiledReplySpec {
  inputLine: RegExp | 'cursor';
  searchLines: number;
  interfaceLines: RegExp[];
  echoMarker: RegExp | null;
  replyMarker: RegExp | null;
}

const GENERIC: CompiledReplySpec = {
  inputLine: 'cursor',
  searchLines: 16,
  interfaceLines: [],
  echoMarker: null,
  replyMarker: null,
};

export function compileReplySpec(spec: ScreenReplySpec | undefined): CompiledReplySpec {
  if (!spec) return GENERIC;
  return {
    inputLine: spec.input_line === '@cursor' ? 'cursor' : new RegExp(spec.input_line, 'iu'),
    searchLines: spec.search_lines ?? 16,
    interfaceLines: spec.interface_lines.map((p) => new RegExp(p, 'iu')),
    echoMarker: spec.echo_marker ? new RegExp(`^\\s*(?:${spec.echo_marker})`, 'u') : null,
    replyMarker: spec.reply_marker ? new RegExp(`^(?:${spec.reply_marker})`, 'u') : null,
  };
}

const blank = (line: string) => line.trim().length === 0;
const compact = (s: string) => s.replace(/\s+/g, '');

/** A bar of half blocks (Gemini CLI 0.61 frames its prompts and input box with ▄▄▄ / ▀▀▀ rows). */
const BLOCK_BAR = /^\s*[▀▄▁▔█]{8,}\s*$/u;

function isInterface(line: string, spec: CompiledReplySpec): boolean {
  return (
    blank(line) || isRuleLine(line) || BLOCK_BAR.test(line) || spec.interfaceLines.some((re) => re.test(line))
  );
}

/**
 * The transcript part of a screen: everything above the agent's input area. The input line is the
 * lowest line matching `input_line` near the bottom (or the cursor line); the interface lines directly
 * above it (rules, hints, a spinner, the turn summary, blank lines) go with it.
 */
export function transcriptOf(
  screen: ScreenLines,
  spec: CompiledReplySpec,
  prompt: string | null = null,
): string[] {
  const { lines } = screen;
  // The echoed prompt can look like an input line (`> text`); when a question replaced the input box
  // (a permission dialog), the echo must not be taken for it.
  const head = prompt === null ? '' : [...compact(prompt)].slice(0, 12).join('');
  const isEcho = (line: string) =>
    head.length > 0 && compact(spec.echoMarker ? line.replace(spec.echoMarker, '') : line).startsWith(head);
  let input = -1;
  if (spec.inputLine === 'cursor') {
    input = screen.cursorLine >= 0 ? screen.cursorLine : lastNonBlank(lines);
  } else {
    const floor = Math.max(0, lines.length - spec.searchLines);
    for (let i = lines.length - 1; i >= floor; i--) {
      if (spec.inputLine.test(lines[i]!) && !isEcho(lines[i]!)) {
        input = i;
        break;
      }
    }
  }
  if (input < 0) return trimEdges(lines, spec);
  let top = input;
  while (top > 0 && isInterface(lines[top - 1]!, spec)) top--;
  return lines.slice(0, top);
}

function lastNonBlank(lines: string[]): number {
  for (let i = lines.length - 1; i >= 0; i--) if (!blank(lines[i]!)) return i;
  return -1;
}

/** Interface lines (and blanks) at either end removed. */
function trimEdges(lines: string[], spec: CompiledReplySpec): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && isInterface(lines[start]!, spec)) start++;
  while (end > start && isInterface(lines[end - 1]!, spec)) end--;
  return lines.slice(start, end);
}

const ANCHOR_LINES = 4;

/**
 * Where the new part of `after` starts: just after the last non-blank lines of `before` (up to four, in
 * order, blanks between them ignored), found again in `after`. When the screen was redrawn from
 * scratch (no anchor found), agentapi's rule: from the first line that is not on the old screen.
 */
export function newPartStart(before: string[], after: string[]): { index: number; anchored: boolean } {
  const old = nonBlank(before);
  if (old.length === 0) return { index: 0, anchored: true };
  const now = nonBlank(after);
  for (let k = Math.min(ANCHOR_LINES, old.length); k >= 2 || (k === 1 && old.length === 1); k--) {
    const anchor = old.slice(-k).map((l) => l.text);
    const originalIndex = old[old.length - 1]!.index;
    let best: { index: number; distance: number } | null = null;
    for (let j = k - 1; j < now.length; j++) {
      let match = true;
      for (let m = 0; m < k; m++) {
        if (now[j - k + 1 + m]!.text !== anchor[m]) {
          match = false;
          break;
        }
      }
      if (!match) continue;
      // Prefer the occurrence closest to where the anchor was (lines scrolled away shift it up, never
      // down): a repeated answer must not be taken for the anchor.
      const shift = now[j]!.index - originalIndex;
      const distance = shift <= 0 ? -shift : shift * 4;
      if (!best || distance < best.distance) best = { index: now[j]!.index, distance };
    }
    if (best) return { index: best.index + 1, anchored: true };
  }
  const seen = new Set(before);
  const first = after.findIndex((line) => !blank(line) && !seen.has(line));
  return { index: first < 0 ? after.length : first, anchored: false };
}

function nonBlank(lines: string[]): { index: number; text: string }[] {
  const out: { index: number; text: string }[] = [];
  lines.forEach((text, index) => {
    if (!blank(text)) out.push({ index, text: text.trimEnd() });
  });
  return out;
}

/**
 * The echoed prompt in `lines` at or after `from`: the first occurrence when `first`, else the last
 * (agentapi's RemoveUserInput, by characters with whitespace ignored). The echo starts on a line
 * holding the prompt's first characters (after the echo marker, when the agent has one) and ends on
 * the line holding its last character; characters the agent dropped or restyled are tolerated
 * (five ahead, as agentapi does). A folded paste (`[Pasted text #1 +12 lines]`) is an echo too.
 */
export function findEcho(
  lines: string[],
  prompt: string,
  spec: CompiledReplySpec,
  from: number,
  first: boolean,
): { start: number; end: number } | null {
  const wanted = [...compact(prompt)];
  if (wanted.length === 0) return null;
  const head = wanted.slice(0, Math.min(12, wanted.length)).join('');
  let found: { start: number; end: number } | null = null;
  for (let i = Math.max(0, from); i < lines.length; i++) {
    const line = lines[i]!;
    if (spec.echoMarker && !spec.echoMarker.test(line)) continue;
    const body = spec.echoMarker ? line.replace(spec.echoMarker, '') : line;
    let match: { start: number; end: number } | null = null;
    if (/\[Pasted text[^\]]*\]/i.test(body)) match = { start: i, end: i };
    else {
      const at = compact(body).indexOf(head);
      if (at >= 0 && (!spec.echoMarker || at === 0))
        match = { start: i, end: echoEnd(lines, i, body, at, wanted) };
    }
    if (!match) continue;
    if (first) return match;
    found = match;
  }
  return found;
}

function echoEnd(lines: string[], i: number, body: string, at: number, wanted: string[]): number {
  let w = 0;
  let end = i;
  for (let j = i; j < lines.length && w < wanted.length; j++) {
    const chars = [...compact(j === i ? body : lines[j]!)].slice(j === i ? at : 0);
    let progressed = false;
    for (const ch of chars) {
      if (w >= wanted.length) break;
      if (ch === wanted[w]) {
        w++;
        progressed = true;
        continue;
      }
      const ahead = wanted.slice(w, w + 5).indexOf(ch);
      if (ahead > 0) {
        w += ahead + 1;
        progressed = true;
      }
    }
    if (!progressed) break;
    end = j;
  }
  return end;
}

/**
 * Removes the agent's bullet before each block of the answer, with the block's continuation indent.
 * When the first block's bullet scrolled away, the indentation common to the answer goes instead.
 */
export function removeReplyMarkers(lines: string[], spec: CompiledReplySpec): string[] {
  const marker = spec.replyMarker;
  const firstText = lines.find((l) => !blank(l));
  let indent = 0;
  if (firstText !== undefined && !marker?.test(firstText) && firstText.startsWith(' ')) {
    indent = Math.min(...lines.filter((l) => !blank(l)).map((l) => l.length - l.trimStart().length));
  }
  return lines.map((line) => {
    const m = marker?.exec(line);
    if (m) {
      indent = [...m[0]].length;
      return line.slice(m[0].length);
    }
    if (indent > 0 && line.startsWith(' '.repeat(indent))) return line.slice(indent);
    if (!blank(line) && !line.startsWith(' ')) indent = 0;
    return line;
  });
}

export interface ScreenReplyInput {
  before: ScreenLines;
  after: ScreenLines;
  /** What was submitted (null for a turn whose prompt is unknown). */
  prompt: string | null;
  spec: CompiledReplySpec;
}

/** The answer text, lines right-trimmed and blank edges removed ('' when nothing new appeared). */
export function screenReply(input: ScreenReplyInput): string {
  const { spec } = input;
  const before = transcriptOf(input.before, spec);
  const after = transcriptOf(input.after, spec, input.prompt);
  const start = newPartStart(before, after);
  let from = start.index;
  if (input.prompt !== null) {
    // The echo is the better anchor: after the old transcript, its first occurrence; when the screen
    // was redrawn (no anchor), its last.
    const echo =
      findEcho(after, input.prompt, input.spec, start.anchored ? start.index : 0, start.anchored) ??
      (start.anchored ? null : findEcho(after, input.prompt, spec, 0, false));
    if (echo) from = echo.end + 1;
  }
  let part = trimEdges(after.slice(from), spec);
  part = removeReplyMarkers(part, spec);
  return part
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}
