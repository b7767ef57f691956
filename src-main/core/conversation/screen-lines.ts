import xtermHeadless from '@xterm/headless';
import { normaliseLine } from '../state/screen-text.ts';

const { Terminal } = xtermHeadless;

/** The session's terminal as text: every logical line, scrollback first, plus where the cursor is. */
export interface ScreenLines {
  /** ANSI-free logical lines (soft-wrapped rows joined), box borders and odd spaces normalised. */
  lines: string[];
  /** Index in `lines` of the line holding the cursor, -1 when unknown. */
  cursorLine: number;
}

export interface SerializedScreen {
  screen: string;
  cols: number;
  rows: number;
}

/** Scrollback kept when a snapshot is replayed (the PTY host's mirror keeps 1000 lines by default). */
const SCROLLBACK = 5000;

/**
 * Replays a serialized screen (SessionManager.snapshot(): the serialize addon's output, scrollback
 * included) into a private headless terminal and reads it back as text. A snapshot per turn edge is the
 * whole cost: nothing here follows the live output stream.
 */
export async function readSerializedScreen(snapshot: SerializedScreen): Promise<ScreenLines> {
  const terminal = new Terminal({
    cols: snapshot.cols,
    rows: snapshot.rows,
    scrollback: SCROLLBACK,
    allowProposedApi: true,
  });
  try {
    await new Promise<void>((resolve) => terminal.write(snapshot.screen, resolve));
    return readBuffer(terminal.buffer.active);
  } finally {
    terminal.dispose();
  }
}

interface BufferLike {
  readonly length: number;
  readonly baseY: number;
  readonly cursorY: number;
  getLine(
    y: number,
  ): { readonly isWrapped: boolean; translateToString(trimRight?: boolean): string } | undefined;
}

/** Every row of the buffer as logical lines; trailing empty rows dropped. */
export function readBuffer(buffer: BufferLike): ScreenLines {
  const lines: string[] = [];
  let cursorLine = -1;
  const cursorRow = buffer.baseY + buffer.cursorY;
  for (let y = 0; y < buffer.length; y++) {
    const row = buffer.getLine(y);
    if (!row) continue;
    const text = row.translateToString(true);
    if (row.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
    if (y === cursorRow) cursorLine = lines.length - 1;
  }
  const normalised = lines.map((l) => normaliseLine(l));
  while (
    normalised.length > 0 &&
    normalised[normalised.length - 1] === '' &&
    normalised.length - 1 > cursorLine
  )
    normalised.pop();
  return { lines: normalised, cursorLine };
}
