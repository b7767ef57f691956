/**
 * What a person submitted, assembled from the keys they typed: command history and search show lines,
 * not keystrokes (the raw keys stay in the journal, for durability and replay).
 *
 * A line-editor model, not a terminal: printable text and pastes append, Backspace/Ctrl-H delete a
 * character, Ctrl-W a word, Ctrl-U and Ctrl-C the line; Enter submits. Cursor keys, completion and
 * history recall happen inside the program and are not modelled (their escape sequences are skipped),
 * so a line edited with them is recorded as typed. Automatic terminal replies never get here: viewers
 * do not answer queries, and the mirror's answers bypass the input path.
 */
export class CommandLineAssembler {
  private _line = '';
  /** Inside a bracketed paste (ESC[200~ … ESC[201~): newlines are text, not Enter. */
  private _pasting = false;
  /** An escape sequence cut between two writes. */
  private _escape = '';
  private static readonly MAX_LINE = 100_000;

  /** Feed raw input; returns the lines completed by it (trimmed, empty ones dropped). */
  push(data: string): string[] {
    const lines: string[] = [];
    let i = 0;
    const text = this._escape + data;
    this._escape = '';
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '\x1b') {
        const end = escapeEnd(text, i);
        if (end < 0) {
          this._escape = text.slice(i); // wait for the rest of the sequence
          break;
        }
        const seq = text.slice(i, end);
        if (seq === '\x1b[200~') this._pasting = true;
        else if (seq === '\x1b[201~') this._pasting = false;
        i = end;
        continue;
      }
      i++;
      if (this._pasting) {
        this._append(ch === '\r' ? '\n' : ch);
        continue;
      }
      switch (ch) {
        case '\r':
        case '\n': {
          // CR LF from one Enter must not submit twice.
          if (ch === '\n' && text[i - 2] === '\r') break;
          const line = this._line.trim();
          this._line = '';
          if (line.length > 0) lines.push(line);
          break;
        }
        case '\x7f':
        case '\b':
          this._line = this._line.slice(0, -1);
          break;
        case '\x17':
          this._line = this._line.replace(/\S+\s*$/, '');
          break;
        case '\x15':
        case '\x03':
          this._line = '';
          break;
        default:
          if (ch >= ' ' || ch === '\t') this._append(ch);
      }
    }
    return lines;
  }

  private _append(text: string): void {
    if (this._line.length < CommandLineAssembler.MAX_LINE) this._line += text;
  }
}

/** Index after the escape sequence starting at `start`, or -1 when the input ends inside it. */
function escapeEnd(text: string, start: number): number {
  const next = text[start + 1];
  if (next === undefined) return -1;
  if (next === '[') {
    for (let j = start + 2; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) return j + 1;
    }
    return -1;
  }
  if (next === 'O') return start + 3 <= text.length ? start + 3 : -1; // SS3: F1–F4, keypad
  if (next === ']' || next === 'P') {
    // OSC / DCS: up to BEL or ST.
    for (let j = start + 2; j < text.length; j++) {
      if (text[j] === '\x07') return j + 1;
      if (text[j] === '\x1b' && text[j + 1] === '\\') return j + 2;
    }
    return -1;
  }
  return start + 2; // Alt+key
}
