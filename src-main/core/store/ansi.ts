/**
 * Terminal control sequences, for turning stored output into searchable, readable text: CSI (colours,
 * cursor moves), OSC (titles, hyperlinks; BEL or ST terminated), DCS/SOS/PM/APC strings, two-byte ESC
 * sequences, and C0 controls other than tab and newline.
 */
const ANSI =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-OQ-WYZ\\`a-~]|\x9b[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Every ANSI alternative starts with one of these: text without any needs no regex pass (floods of
 *  plain text: the worker strips every byte an agent prints). */
const ANY_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x9b]/;

export function stripAnsi(text: string): string {
  const plain = ANY_CONTROL.test(text) ? text.replace(ANSI, '') : text;
  if (!plain.includes('\r')) return plain;
  const lf = plain.replaceAll('\r\n', '\n');
  return lf.includes('\r') ? lf.replace(/\r/g, '\n') : lf;
}

const COMPLETE_AT_START =
  /^(?:\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[ -/]*[0-OQ-WYZ\\`a-~]|\x9b[0-?]*[ -/]*[@-~])/;
/** An unfinished escape sequence longer than this is not waited for (a stray ESC must not eat output). */
const MAX_CARRY = 4096;

/**
 * stripAnsi for a stream cut at arbitrary points, as a pure step: `carry` is an unfinished escape
 * sequence held from the previous piece (held until it completes, so neither half leaks into the
 * text). The ingester keeps carries per session and can roll them back with a failed transaction.
 */
export function stripPiece(carry: string, text: string): { text: string; carry: string } {
  const all = carry + text;
  const esc = Math.max(all.lastIndexOf('\x1b'), all.lastIndexOf('\x9b'));
  if (esc >= 0 && all.length - esc < MAX_CARRY && !COMPLETE_AT_START.test(all.slice(esc))) {
    return { text: stripAnsi(all.slice(0, esc)), carry: all.slice(esc) };
  }
  // A CR at the end may be half of a CRLF cut between two pieces: one newline, not two.
  if (all.endsWith('\r')) return { text: stripAnsi(all.slice(0, -1)), carry: '\r' };
  return { text: stripAnsi(all), carry: '' };
}

/** stripPiece with its carry kept inside. */
export function createAnsiStripper(): { push(text: string): string; end(): string } {
  let carry = '';
  return {
    push(text) {
      const r = stripPiece(carry, text);
      carry = r.carry;
      return r.text;
    },
    end() {
      const out = stripAnsi(carry);
      carry = '';
      return out;
    },
  };
}
