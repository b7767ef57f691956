/**
 * The rendered screen as plain text lines, the way screen rules see it: ANSI-free (it comes from the
 * terminal grid, not the byte stream), unusual spaces normalised (Claude draws `❯\u00a0`), soft-wrapped
 * rows joined into one logical line, box borders (`│`) trimmed, and URLs that an app hard-wrapped at the
 * right margin joined back (siteboon/claudecodeui does the same before looking for OAuth URLs).
 */

/** The slice of the xterm buffer API we read (kept minimal so tests can feed plain grids). */
export interface GridBuffer {
  readonly baseY: number;
  /** Cursor row, relative to baseY. */
  readonly cursorY: number;
  readonly length: number;
  getLine(
    y: number,
  ): { readonly isWrapped: boolean; translateToString(trimRight?: boolean): string } | undefined;
}

const ODD_SPACES = /[\u00a0\u2000-\u200a\u202f\u205f\u3000]/g;
// Box borders at either edge (with the padding next to them); plain indentation is kept.
const BORDER_LEFT = /^\s*[│┃║]+\s*/;
const BORDER_RIGHT = /\s*[│┃║]*\s*$/;
const RULE_CHARS = /^[─━═╌╍┄┅┈┉╭╮╰╯┌┐└┘├┤┬┴┼▔▁-]+$/;
const URL_TAIL = /https?:\/\/\S+$/;
const URL_CONTINUATION = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

export function normaliseLine(text: string): string {
  return text.replace(ODD_SPACES, ' ').replace(BORDER_LEFT, '').replace(BORDER_RIGHT, '');
}

/** A horizontal rule such as an input box edge: at least 8 box-drawing characters and nothing else. */
export function isRuleLine(line: string): boolean {
  const compact = line.replace(/\s+/g, '');
  return compact.length >= 8 && RULE_CHARS.test(compact) && /[─━═╌╍┄┅┈┉]/.test(compact);
}

interface RawLine {
  text: string;
  /** Rendered width of the last physical row (to spot rows filled to the margin). */
  lastRowWidth: number;
  hasCursor: boolean;
}

export interface ScreenLines {
  lines: string[];
  /** Index in `lines` of the logical line holding the cursor (-1 if off screen). */
  cursorLine: number;
}

/** Visible screen rows (the bottom page) as normalised logical lines. */
export function readScreenLines(buffer: GridBuffer, rows: number, cols: number): string[] {
  return readScreen(buffer, rows, cols).lines;
}

export function readScreen(buffer: GridBuffer, rows: number, cols: number): ScreenLines {
  const raw: RawLine[] = [];
  const top = buffer.baseY;
  const cursorRow = top + buffer.cursorY;
  for (let y = top; y < top + rows && y < buffer.length; y++) {
    const line = buffer.getLine(y);
    if (line === undefined) continue;
    const text = line.translateToString(true);
    const last = raw[raw.length - 1];
    if (line.isWrapped && last !== undefined) {
      last.text += text;
      last.lastRowWidth = text.length;
      last.hasCursor ||= y === cursorRow;
    } else {
      raw.push({ text, lastRowWidth: text.length, hasCursor: y === cursorRow });
    }
  }
  // Hard-wrapped URLs: a row that reaches the right margin ending in a URL, followed by a row that is
  // only URL characters, is one URL.
  const joined: RawLine[] = [];
  for (const line of raw) {
    const prev = joined[joined.length - 1];
    const trimmed = line.text.trim();
    if (
      prev !== undefined &&
      prev.lastRowWidth >= cols - 1 &&
      URL_TAIL.test(prev.text.trimEnd()) &&
      trimmed.length > 0 &&
      URL_CONTINUATION.test(trimmed)
    ) {
      prev.text = prev.text.trimEnd() + trimmed;
      prev.lastRowWidth = line.lastRowWidth;
      prev.hasCursor ||= line.hasCursor;
    } else {
      joined.push({ ...line });
    }
  }
  return {
    lines: joined.map((l) => normaliseLine(l.text)),
    cursorLine: joined.findIndex((l) => l.hasCursor),
  };
}
