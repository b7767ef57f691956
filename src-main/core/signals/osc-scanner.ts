/**
 * Finds the OSC sequences a provider's signals read in-band (`OSC <n> ; <body> ST`, ST = BEL or ESC \)
 * in the session's output as it streams past the core, across chunk boundaries. (The screen mirror
 * runs in the PTY host; status reports are read here, next to the hook signals they are fused with.)
 * Only the listed numbers are kept; an unterminated sequence longer than `maxBody` is dropped.
 */
export class OscScanner {
  private readonly _wanted: ReadonlySet<number>;
  private readonly _maxBody: number;
  private _carry = '';

  constructor(oscNumbers: readonly number[], maxBody = 4096) {
    this._wanted = new Set(oscNumbers);
    this._maxBody = maxBody;
  }

  push(data: string): { osc: number; data: string }[] {
    if (this._wanted.size === 0 || (this._carry === '' && !data.includes('\x1b'))) return [];
    const text = this._carry + data;
    this._carry = '';
    const found: { osc: number; data: string }[] = [];
    let from = 0;
    for (;;) {
      const start = text.indexOf('\x1b]', from);
      if (start < 0) {
        if (text.endsWith('\x1b')) this._carry = '\x1b'; // ESC now, `]` in the next chunk
        break;
      }
      const semi = text.indexOf(';', start + 2);
      if (semi < 0) {
        // The number itself may still be arriving.
        if (text.length - start <= 8) this._carry = text.slice(start);
        break;
      }
      const number = text.slice(start + 2, semi);
      if (!/^\d{1,5}$/.test(number)) {
        from = start + 2;
        continue;
      }
      const bel = text.indexOf('\x07', semi);
      const st = text.indexOf('\x1b\\', semi);
      const end = bel < 0 ? st : st < 0 ? bel : Math.min(bel, st);
      if (end < 0) {
        if (text.length - semi <= this._maxBody) this._carry = text.slice(start);
        break;
      }
      const osc = Number(number);
      if (this._wanted.has(osc) && end - semi - 1 <= this._maxBody)
        found.push({ osc, data: text.slice(semi + 1, end) });
      from = end + (end === bel ? 1 : 2);
    }
    return found;
  }
}
