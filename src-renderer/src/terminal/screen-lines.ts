/** The part of xterm's IBuffer we read (the browser terminal and @xterm/headless both fit). */
export interface BufferLike {
  readonly baseY: number;
  readonly length: number;
  getLine(y: number): { translateToString(trimRight?: boolean): string } | undefined;
}

/**
 * The last `count` non-blank lines of the screen (bottom-up search over the visible rows, returned
 * top-down): what the agent said last, for the inbox. Box-drawing borders and prompt-only rows are
 * kept; callers decide what to show.
 */
export function lastLines(buffer: BufferLike, rows: number, count: number): string[] {
  const out: string[] = [];
  const top = Math.max(0, buffer.baseY);
  const bottom = Math.min(buffer.length, top + rows) - 1;
  for (let y = bottom; y >= top && out.length < count; y--) {
    const text = buffer.getLine(y)?.translateToString(true).trim() ?? '';
    if (text !== '') out.unshift(text);
  }
  return out;
}
