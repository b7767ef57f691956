import type { OutputChunk } from '../../../src-shared/session.ts';
import type { ScreenStateDetector } from '../state/types.ts';

/**
 * Feeds a session's output into its headless mirror (the state detector) without letting the mirror
 * set the pace of the agent.
 *
 * Measured here (bench/pty-throughput.bench.ts): @xterm/headless parses SGR-heavy output at ~60 MB per
 * CPU-second, node-pty delivers ~80–95 MB/s; a mirror that flow-controls the PTY (VS Code's renderer
 * scheme) held a 200 MB flood to ~15–30 MB/s (ratio 0.2–0.35). A worker thread cannot fix that on two
 * cores (producer, reader and parser all need one). So the mirror is fed *lossily but exactly*:
 *
 * - While it keeps up, every byte is written, in order (resizes are queued in the same order).
 * - When it lags by more than `compactAboveChars`, the unwritten backlog is compacted: a prefix that is
 *   plain scrolling output (printable text, CR/LF/TAB/BS/BEL and SGR colour sequences only, lines ending
 *   in CR LF) is replaced by its SGR state plus its last `2 × rows + scrollback + 2` lines. Whatever the
 *   skipped lines drew has scrolled out of the mirror's screen and scrollback by then, so the mirror ends
 *   in the same state (grid, scrollback, attributes, cursor) as if it had parsed everything. Only when
 *   the terminal is in a plain mode: not in the alternate screen, no scroll region, autowrap on, origin
 *   and insert mode off (tracked from the stream as it is written). Anything else (cursor addressing,
 *   redraws, titles, mode changes) is never skipped.
 * - If the backlog still grows past `budgetChars` (a flood of redraws), the feeder stops acking, which
 *   pauses the PTY through the normal flow control: memory stays bounded and correctness wins.
 */
export interface MirrorFeederOptions {
  detector: ScreenStateDetector;
  cols: number;
  rows: number;
  /** Scrollback lines of the mirror (the state detector's default is 1000). */
  scrollbackLines?: number;
  /** Backlog (unwritten chars) above which compaction is tried. Default 2 MiB (each compaction keeps
   *  ~2 × rows + scrollback lines, ~100 KB for 1000 lines of scrollback). */
  compactAboveChars?: number;
  /** Output is handed to the mirror at most this often (ms), so a flood arrives in compactable
   *  stretches instead of trickling into a mirror that just keeps up while burning the CPU the agent
   *  needs. Detection sees output this much later; the live stream is not delayed. Default 40. */
  coalesceMs?: number;
  /** Backlog above which acks are withheld (→ PTY paused). Default 4 MiB. */
  budgetChars?: number;
  /** Largest single write to the mirror. Default 64 KiB (small, so a lagging mirror leaves the backlog
   *  queued where it can be compacted). */
  maxWriteChars?: number;
  /** Acks towards the output pipeline's flow control. */
  ack(chars: number): void;
  /** The mirror has parsed everything up to and including this seq. */
  onParsed(seq: number): void;
  onError(error: unknown): void;
}

/** `plain` is computed lazily (only a lagging mirror needs it). */
type DataItem = { kind: 'data'; data: string; seq: number; plain?: boolean };
type Item = DataItem | { kind: 'resize'; cols: number; rows: number };

/** Controls that may not appear in a skippable stretch (TAB LF CR BS BEL and ESC are checked apart). */
const BAD_CONTROL = /[\x00-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]/;
const SGR_AT = /\x1b\[[0-9;:]*m/y;
const SGR = /\x1b\[([0-9;:]*)m/g;
/** ESC, or a CSI still collecting parameters, at the very end of a chunk. */
const INCOMPLETE_ESCAPE = /^\x1b(?:\[[0-9;:?<=>]*)?$/;

/** Printable text, TAB/LF/CR/BS/BEL and SGR sequences only (two native scans: ~2× a combined regex). */
export function isPlainOutput(text: string): boolean {
  if (BAD_CONTROL.test(text)) return false;
  let i = text.indexOf('\x1b');
  while (i >= 0) {
    SGR_AT.lastIndex = i;
    if (!SGR_AT.test(text)) return false;
    i = text.indexOf('\x1b', SGR_AT.lastIndex);
  }
  return true;
}
/** Mode changes that make skipping unsafe, and their reversals. */
const MODE_CHANGE = /\x1b\[\?([0-9;]+)([hl])|\x1b\[([0-9;]*)r|\x1b\[4([hl])|\x1bc/g;

export class MirrorFeeder {
  private readonly _o: Required<Omit<MirrorFeederOptions, 'ack' | 'onParsed' | 'onError' | 'detector'>> &
    MirrorFeederOptions;
  private _queue: Item[] = [];
  private _queuedChars = 0;
  private _inflightChars = 0;
  private _inflight = false;
  private _received = 0;
  private _acked = 0;
  private _disposed = false;
  // Terminal modes as of the data already written to the mirror.
  private _altScreen = false;
  private _scrollRegion = false;
  private _noWrap = false;
  private _originMode = false;
  private _insertMode = false;
  private _modeCarry = '';
  private _nextCompactAt: number;
  private _timer: NodeJS.Timeout | undefined;
  private _partial = '';
  private _partialSince = -1;
  private _lastSeq = 0;
  /** Chars dropped by compaction, for diagnostics and the bench. */
  skippedChars = 0;

  constructor(options: MirrorFeederOptions) {
    this._o = {
      scrollbackLines: 1000,
      compactAboveChars: 2 * 1024 * 1024,
      coalesceMs: 40,
      budgetChars: 4 * 1024 * 1024,
      maxWriteChars: 64 * 1024,
      ...options,
    };
    this._nextCompactAt = this._o.compactAboveChars;
  }

  write(chunk: OutputChunk): void {
    if (this._disposed) return;
    this._received += chunk.data.length;
    this._lastSeq = chunk.seq;
    // PTY reads split escape sequences anywhere; an incomplete one at the end of a chunk is moved to
    // the next, so each queued item holds whole sequences and plain output is recognised as plain.
    let data = this._partial + chunk.data;
    this._partial = '';
    const esc = lastEscWithin(data, 63);
    if (this._o.coalesceMs > 0 && esc >= 0 && INCOMPLETE_ESCAPE.test(data.slice(esc))) {
      this._partial = data.slice(esc);
      data = data.slice(0, esc);
    }
    if (data.length > 0) this._queue.push({ kind: 'data', data, seq: chunk.seq });
    this._queuedChars += chunk.data.length;
    if (this._queuedChars > this._nextCompactAt) {
      this._compact();
      // After a failed (or partial) attempt, wait for another threshold's worth before rescanning.
      this._nextCompactAt = this._queuedChars + this._o.compactAboveChars;
    }
    this._settleAcks();
    this._schedule();
  }

  /** Hand everything queued to the mirror now (snapshots). */
  flush(): void {
    if (this._timer) clearTimeout(this._timer);
    this._timer = undefined;
    this._releasePartial();
    this._pump();
  }

  /** A held partial sequence whose rest has not come within a coalesce window goes out as it is. */
  private _releasePartial(): void {
    if (this._partial === '') return;
    this._queue.push({ kind: 'data', data: this._partial, seq: this._lastSeq, plain: false });
    this._partial = '';
  }

  private _schedule(): void {
    if (this._timer || this._inflight) return;
    if (this._o.coalesceMs <= 0) {
      this._pump();
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = undefined;
      if (this._queuedChars > this._o.compactAboveChars) this._compact();
      if (this._partial !== '' && this._partialSince === this._received) this._releasePartial();
      this._partialSince = this._received;
      this._pump();
      if (this._partial !== '') this._schedule();
    }, this._o.coalesceMs);
  }

  resize(cols: number, rows: number): void {
    if (this._disposed) return;
    this._queue.push({ kind: 'resize', cols, rows });
    this._schedule();
  }

  get backlogChars(): number {
    return this._queuedChars + this._inflightChars;
  }

  dispose(): void {
    this._disposed = true;
    if (this._timer) clearTimeout(this._timer);
    this._queue = [];
  }

  /** Ack everything except what exceeds the budget: the pipeline pauses the PTY only past the budget. */
  private _settleAcks(): void {
    const target = this._received - Math.max(0, this.backlogChars - this._o.budgetChars);
    if (target > this._acked) {
      const n = target - this._acked;
      this._acked = target;
      this._o.ack(n);
    }
  }

  private _pump(): void {
    while (!this._inflight && !this._disposed && this._queue.length > 0) {
      const head = this._queue[0] as Item;
      if (head.kind === 'resize') {
        this._queue.shift();
        this._o.cols = head.cols;
        this._o.rows = head.rows;
        try {
          this._o.detector.resize(head.cols, head.rows);
        } catch (error) {
          this._o.onError(error);
        }
        continue;
      }
      // Coalesce consecutive data items into one write (fewer parser round trips).
      const parts: string[] = [];
      let chars = 0;
      let seq = 0;
      while (this._queue.length > 0) {
        const next = this._queue[0] as Item;
        if (next.kind !== 'data' || (chars > 0 && chars + next.data.length > this._o.maxWriteChars)) break;
        this._queue.shift();
        parts.push(next.data);
        chars += next.data.length;
        seq = next.seq;
        // Plain output cannot change modes; only other output is scanned (in stream order).
        if (next.plain !== true || this._modeCarry !== '') this._trackModes(next.data);
      }
      const data = parts.length === 1 ? (parts[0] as string) : parts.join('');
      this._queuedChars -= chars;
      this._inflightChars = chars;
      this._inflight = true;
      const done = () => {
        this._inflight = false;
        this._inflightChars = 0;
        if (this._disposed) return;
        this._o.onParsed(seq);
        if (this._queuedChars < this._o.compactAboveChars) this._nextCompactAt = this._o.compactAboveChars;
        else this._compact();
        this._settleAcks();
        this._schedule();
      };
      try {
        this._o.detector.write(data, done);
      } catch (error) {
        this._o.onError(error);
        done();
      }
    }
  }

  private _trackModes(data: string): void {
    if (this._modeCarry === '' && !data.includes('\x1b')) return;
    const text = this._modeCarry + data;
    // Keep a short tail so a sequence split across writes is still seen (a duplicate match is harmless).
    this._modeCarry = text.slice(-24).includes('\x1b') ? text.slice(-24) : '';
    MODE_CHANGE.lastIndex = 0;
    for (const m of text.matchAll(MODE_CHANGE)) {
      if (m[0] === '\x1bc') {
        this._altScreen = this._scrollRegion = this._noWrap = this._originMode = this._insertMode = false;
      } else if (m[1] !== undefined) {
        const on = m[2] === 'h';
        for (const mode of m[1].split(';')) {
          if (mode === '1049' || mode === '47' || mode === '1047') this._altScreen = on;
          else if (mode === '7') this._noWrap = !on;
          else if (mode === '6') this._originMode = on;
          else if (mode === '69') this._scrollRegion ||= on; // left/right margins mode
        }
      } else if (m[3] !== undefined) {
        this._scrollRegion = m[3] !== '' && m[3] !== ';';
      } else if (m[4] !== undefined) {
        this._insertMode = m[4] === 'h';
      }
    }
  }

  private _plainMode(): boolean {
    return !this._altScreen && !this._scrollRegion && !this._noWrap && !this._originMode && !this._insertMode;
  }

  /** Replace a plain prefix of the unwritten backlog by its SGR state and last lines (see above). */
  private _compact(): void {
    if (!this._plainMode()) return;
    // The leading run of plain data items (a resize or non-plain output ends what we may touch).
    let end = 0;
    while (end < this._queue.length) {
      const item = this._queue[end] as Item;
      if (item.kind !== 'data') break;
      item.plain ??= isPlainOutput(item.data);
      if (!item.plain) break;
      end++;
    }
    if (end === 0) return;
    const items = this._queue.slice(0, end) as DataItem[];
    // Walk back keepLines + 1 line feeds from the end of the run, item by item (no big join).
    const keepLines = 2 * this._o.rows + this._o.scrollbackLines + 2;
    let needed = keepLines + 1;
    let cutItem = -1;
    let cutPos = -1;
    for (let k = items.length - 1; k >= 0 && cutItem < 0; k--) {
      const data = (items[k] as DataItem).data;
      // Lines must be complete: ignore the unterminated tail of the last item.
      let pos = data.lastIndexOf('\n');
      while (pos >= 0) {
        if (--needed === 0) {
          cutItem = k;
          cutPos = pos;
          break;
        }
        pos = pos > 0 ? data.lastIndexOf('\n', pos - 1) : -1;
      }
    }
    if (cutItem < 0) return; // not enough lines yet
    // The cut must follow a CR LF, so the first kept line starts at column 0 in both worlds.
    const cutData = (items[cutItem] as DataItem).data;
    const before =
      cutPos > 0
        ? cutData.charCodeAt(cutPos - 1)
        : cutItem > 0
          ? lastCharCode((items[cutItem - 1] as DataItem).data)
          : -1;
    if (before !== 13) return;
    const droppedParts = items.slice(0, cutItem).map((i) => i.data);
    droppedParts.push(cutData.slice(0, cutPos + 1));
    const carry = sgrCarry(droppedParts);
    const keptParts = [cutData.slice(cutPos + 1), ...items.slice(cutItem + 1).map((i) => i.data)];
    const kept = `${carry}\r${keptParts.join('')}`;
    let droppedChars = 0;
    for (const part of droppedParts) droppedChars += part.length;
    const lastSeq = (items[items.length - 1] as DataItem).seq;
    this._queue.splice(0, end, { kind: 'data', data: kept, seq: lastSeq, plain: true });
    const removed = droppedChars + keptParts.reduce((n, p) => n + p.length, 0) - kept.length;
    this._queuedChars -= removed;
    this.skippedChars += removed;
  }
}

function lastCharCode(text: string): number {
  return text.length > 0 ? text.charCodeAt(text.length - 1) : -1;
}

/** The last ESC among the final `window` chars of `text`, or -1. (A backward search of a whole 256 KiB
 *  batch with no ESC in it scanned every byte of a flood once more, on the thread that reads the PTY.) */
function lastEscWithin(text: string, window: number): number {
  let esc = text.indexOf('\x1b', Math.max(0, text.length - window));
  for (let next = esc; next >= 0; next = text.indexOf('\x1b', esc + 1)) esc = next;
  return esc;
}

/** `text` ends inside an escape sequence (its rest starts the next part). */
function endsInsideEscape(text: string): boolean {
  const esc = lastEscWithin(text, 63);
  return esc >= 0 && INCOMPLETE_ESCAPE.test(text.slice(esc));
}

/**
 * The SGR sequences whose combined effect equals that of all SGRs in `parts`: those from the last reset
 * on, exactly as if the parts were joined. Parts are taken as segments that end outside any escape
 * sequence (a part ending inside one is joined to the next), and a segment without an ESC (most of a
 * plain flood) is passed over after one forward scan: searching every part backwards for three reset
 * spellings and joining them all (megabytes per compaction) was the PTY host's largest cost in a flood
 * (a perf profile of the host during the ws bench's 100 MB `cat`).
 */
export function sgrCarry(parts: string[]): string {
  const tail: string[] = [];
  for (let k = parts.length - 1; k >= 0; k--) {
    let segment = parts[k] as string;
    while (k > 0 && endsInsideEscape(parts[k - 1] as string)) segment = (parts[--k] as string) + segment;
    const firstEsc = segment.indexOf('\x1b');
    if (firstEsc < 0) continue;
    const reset = Math.max(
      segment.lastIndexOf('\x1b[0m'),
      segment.lastIndexOf('\x1b[m'),
      segment.lastIndexOf('\x1b[0;'),
    );
    if (reset >= 0) {
      tail.unshift(segment.slice(reset));
      break;
    }
    tail.unshift(segment.slice(firstEsc));
  }
  const out: string[] = [];
  for (const m of tail.join('').matchAll(SGR)) out.push(m[0]);
  return out.join('');
}
