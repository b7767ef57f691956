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
  /** Backlog (unwritten chars) above which compaction is tried. Default 256 KiB (each compaction keeps
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

type Item = { kind: 'data'; data: string; seq: number } | { kind: 'resize'; cols: number; rows: number };

/** Characters that may appear in a skippable stretch besides printable text: TAB LF CR BS BEL and SGR. */
const NOT_PLAIN = /[\x00-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]|\x1b(?!\[[0-9;:]*m)/;
const SGR = /\x1b\[([0-9;:]*)m/g;
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
  /** Chars dropped by compaction, for diagnostics and the bench. */
  skippedChars = 0;

  constructor(options: MirrorFeederOptions) {
    this._o = {
      scrollbackLines: 1000,
      compactAboveChars: 256 * 1024,
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
    this._queue.push({ kind: 'data', data: chunk.data, seq: chunk.seq });
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
    this._pump();
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
      this._pump();
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
      }
      const data = parts.length === 1 ? (parts[0] as string) : parts.join('');
      this._queuedChars -= chars;
      this._inflightChars = chars;
      this._inflight = true;
      this._trackModes(data);
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
    if (!data.includes('\x1b') && this._modeCarry === '') return;
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
    // Only the leading run of data items (a queued resize ends the stretch we may touch).
    let end = 0;
    while (end < this._queue.length && (this._queue[end] as Item).kind === 'data') end++;
    if (end === 0) return;
    const items = this._queue.slice(0, end) as Extract<Item, { kind: 'data' }>[];
    const text = items.map((i) => i.data).join('');
    const bad = NOT_PLAIN.exec(text);
    const plainEnd = bad ? bad.index : text.length;
    const keepLines = 2 * this._o.rows + this._o.scrollbackLines + 2;
    // Walk back keepLines + 1 line feeds from the end of the plain prefix.
    let pos = text.lastIndexOf('\n', plainEnd - 1);
    for (let i = 0; i < keepLines && pos > 0; i++) pos = text.lastIndexOf('\n', pos - 1);
    if (pos <= 0 || text.charCodeAt(pos - 1) !== 13) return; // not enough lines, or not a CR LF boundary
    const cut = pos + 1;
    const dropped = text.slice(0, cut);
    const carry = sgrCarry(dropped);
    const kept = `${carry}\r${text.slice(cut)}`;
    const lastSeq = (items[items.length - 1] as { seq: number }).seq;
    this._queue.splice(0, end, { kind: 'data', data: kept, seq: lastSeq });
    const before = text.length;
    this._queuedChars += kept.length - before;
    this.skippedChars += before - kept.length;
  }
}

/** The SGR sequences whose combined effect equals that of all SGRs in `text`: those from the last reset on. */
function sgrCarry(text: string): string {
  // Only the part from the last plain reset can matter; scanning just that keeps this cheap on floods.
  const reset = Math.max(
    text.lastIndexOf('\x1b[0m'),
    text.lastIndexOf('\x1b[m'),
    text.lastIndexOf('\x1b[0;'),
  );
  const all = [...(reset > 0 ? text.slice(reset) : text).matchAll(SGR)];
  let from = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    const params = (all[i] as RegExpMatchArray)[1] as string;
    if (params === '' || params === '0' || params.startsWith('0;')) {
      from = i;
      break;
    }
  }
  return all
    .slice(from)
    .map((m) => m[0])
    .join('');
}
