import { type RedactionMatch, type Redactor, renderRange } from './redact.ts';

/** "The last `remove` characters this stream emitted (`removed`) are replaced by `insert`." */
export interface StreamAmend {
  remove: number;
  /** The text being replaced (what a store can check before it rewrites anything). */
  removed: string;
  insert: string;
}

export interface StreamRedactor {
  /** Redacted text that is safe to emit now (may be shorter than what was pushed: the tail is held). */
  push(chunk: string): string;
  /**
   * Emit the held tail now (the stream went quiet) and keep it as look-behind: if a later chunk
   * completes a secret that began in it, `onAmend` rewrites what was emitted (see below).
   */
  release(): string;
  /** Emit the held tail (end of stream); nothing is amended after this. */
  flush(): string;
  /** Characters held back (not emitted yet). */
  readonly held: number;
  /** Pushes of which some text is held back (with `alignToPushes`: whole pushes, newest last). */
  readonly heldPushes: number;
}

export interface StreamRedactorOptions {
  /** Characters held back from each push so a secret cut across chunks is seen whole (default 256,
   *  more if a known secret is longer). */
  overlap?: number;
  /** A match reaching into the held tail is held from its start, up to this many characters. */
  maxHold?: number;
  /**
   * Hold back whole pushes: a push's text is emitted entirely or not at all (unless that would hold
   * more than maxHold). The owner can then tell exactly which pushes — with their sequence numbers —
   * are stored (persistence: a session's stored seq means every byte through it is stored).
   */
  alignToPushes?: boolean;
  /** Called synchronously inside push/release/flush, before the text that call returns, when text
   *  released earlier must change. Without it, released text is final (a secret completed later is
   *  still redacted from its continuation on, but its released prefix stays). */
  onAmend?(amend: StreamAmend): void;
}

/**
 * Redaction for chunked text (terminal output on its way to SQLite/Redis/logs).
 *
 * Each push holds back the last `overlap` characters so a secret split across chunks is seen whole; a
 * match reaching into the held tail is held from its start (capped at `maxHold`: an endless token does
 * not grow memory). Everything emitted by push is final: at least `overlap` characters follow it.
 *
 * A hold bounded in time: when the stream goes quiet, the owner calls `release()` (persistence does
 * after a few hundred ms), so an agent's last line — typically its question — is stored without
 * waiting for more output. Released text is kept as raw look-behind (≤ overlap characters, more while
 * a match spans it). Every later push matches over look-behind + new text; if the redacted form of the
 * look-behind changes (a secret that began in it is completed by the new text), `onAmend` replaces the
 * look-behind's emitted form — the last characters emitted — with the new one, which puts the marker
 * where the secret starts; the rest of the secret is never emitted. The look-behind becomes final as
 * soon as `overlap` characters follow it.
 */
export function createStreamRedactor(
  redactor: Redactor,
  options: StreamRedactorOptions = {},
): StreamRedactor {
  const maxHold = options.maxHold ?? 64 * 1024;
  /** Raw text emitted by release() that a later chunk may still amend. */
  let lookBehind = '';
  /** Its emitted (redacted) form: the last lookBehindOut.length characters emitted. */
  let lookBehindOut = '';
  /** Raw text held back, not emitted. */
  let carry = '';
  /** Where each push held in `carry` starts (offsets in carry; with alignToPushes, carry starts at 0). */
  let carryStarts: number[] = [];

  const overlapNow = () => Math.max(options.overlap ?? 256, redactor.longestSecret + 16);

  /** Re-render the look-behind with the matches of the whole buffer; amend if that changed it. */
  function amendLookBehind(buf: string, matches: RedactionMatch[]): void {
    if (lookBehind.length === 0) return;
    const now = renderRange(buf, matches, 0, lookBehind.length);
    if (now === lookBehindOut) return;
    options.onAmend?.({ remove: lookBehindOut.length, removed: lookBehindOut, insert: now });
    lookBehindOut = now;
  }

  function push(chunk: string): string {
    const buf = lookBehind + carry + chunk;
    const from = lookBehind.length;
    const overlap = overlapNow();
    carryStarts.push(carry.length);
    if (buf.length - from <= overlap && from === 0) {
      carry = buf;
      return '';
    }
    const matches = redactor.findMatches(buf);
    amendLookBehind(buf, matches);
    let cut = buf.length - overlap;
    for (let i = matches.length - 1; i >= 0; i--) {
      const m = matches[i] as RedactionMatch;
      if (m.start < cut && m.end > cut) cut = m.start;
    }
    const code = buf.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
    if (cut < from) cut = from; // released text cannot be taken back: it stays look-behind
    if (options.alignToPushes && cut > from) {
      // Back to the start of the push the cut falls in (pushes are held whole).
      let aligned = from;
      for (const start of carryStarts) if (from + start <= cut) aligned = from + start;
      if (buf.length - aligned <= maxHold) cut = aligned;
    }
    if (buf.length - cut > maxHold) cut = buf.length; // give up holding; what matched is redacted
    const out = renderRange(buf, matches, from, cut);
    if (cut > from) {
      // At least `overlap` characters follow the cut (or we gave up holding): all before it is final.
      lookBehind = '';
      lookBehindOut = '';
    }
    // The pushes still held, as offsets in the new carry; one cut in its middle (maxHold) counts too.
    const next = carryStarts.filter((start) => from + start >= cut).map((start) => from + start - cut);
    if (buf.length > cut && (next.length === 0 || (next[0] as number) > 0)) next.unshift(0);
    carry = buf.slice(cut);
    carryStarts = carry.length > 0 ? next : [];
    return out;
  }

  function release(): string {
    if (carry.length === 0) return '';
    const buf = lookBehind + carry;
    const from = lookBehind.length;
    const matches = redactor.findMatches(buf);
    amendLookBehind(buf, matches);
    const out = renderRange(buf, matches, from, buf.length);
    carry = '';
    carryStarts = [];
    lookBehind = buf;
    lookBehindOut += out;
    // Keep at most `overlap` characters of look-behind (more while a match spans the split point):
    // what lies further back is final.
    let split = buf.length - overlapNow();
    for (const m of matches) if (m.start < split && m.end > split) split = m.start;
    if (split > 0) {
      lookBehindOut = renderRange(buf, matches, split, buf.length);
      lookBehind = buf.slice(split);
    }
    if (lookBehind.length > maxHold) {
      lookBehind = '';
      lookBehindOut = '';
    }
    return out;
  }

  return {
    push,
    release,
    flush() {
      const out = release();
      lookBehind = '';
      lookBehindOut = '';
      return out;
    },
    get held() {
      return carry.length;
    },
    get heldPushes() {
      return carry.length === 0 ? 0 : carryStarts.length;
    },
  };
}
