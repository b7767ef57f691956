import { SerializeAddon } from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';
import type { ProviderDefinition, ScreenRegion } from '../providers/types.ts';
import { Emitter } from '../util/event.ts';
import { decide, sameVerdict, type Verdict } from './fusion.ts';
import { regionLines } from './regions.ts';
import {
  type CompiledScreenRule,
  type CompiledTitleRule,
  compileScreenRules,
  compileTitleRules,
  matchScreenRules,
  matchTitle,
  type RuleMatch,
} from './rules.ts';
import { readScreen } from './screen-text.ts';
import type { Detection, ScreenStateDetector } from './types.ts';

const { Terminal } = xtermHeadless;
type HeadlessTerminal = InstanceType<typeof Terminal>;

export interface StateDetectorOptions {
  cols: number;
  rows: number;
  /** Clock (epoch ms). Inject a fake one in tests together with `autoEvaluate: false`. */
  now?: () => number;
  /** Evaluate on the detector's own timers: throttled while output flows, then at each time threshold
   *  (settle times, stability window) once it stops. Default: true unless `now` is injected. */
  autoEvaluate?: boolean;
  /** Minimum time between two evaluations while output flows (default 75 ms). */
  throttleMs?: number;
  /** Scrollback of the headless mirror (default 1000 lines). */
  scrollback?: number;
  /** Colours reported to OSC 10/11/12 queries (xterm headless has no theme to answer them from). */
  replyColors?: { foreground: string; background: string; cursor: string };
}

/** Dark defaults: what most terminals report, so agents pick readable highlighting. */
export const DEFAULT_REPLY_COLORS = { foreground: '#e6e6e6', background: '#15171c', cursor: '#f0f0f0' };

/** `#rrggbb` → the `rgb:rrrr/gggg/bbbb` form terminals answer colour queries with. */
function xtermRgb(hex: string): string {
  const part = (i: number) => hex.slice(i, i + 2).repeat(2);
  return `rgb:${part(1)}/${part(3)}/${part(5)}`;
}

/**
 * One headless terminal per session. PTY output is parsed into a grid; rules read the rendered grid
 * (see screen-text.ts / regions.ts), the title comes from OSC 0/2, and fusion.ts turns the evidence into
 * a Detection. Evaluation is cheap: the grid is read only when something was parsed since the last
 * evaluation, and at most every `throttleMs` while output flows.
 */
export function createStateDetector(
  def: ProviderDefinition,
  options: StateDetectorOptions,
): ScreenStateDetector & { readonly stats: DetectorStats } {
  return new HeadlessStateDetector(def, options);
}

/** Counters for benchmarks and diagnostics: how much work the detector did. */
export interface DetectorStats {
  /** evaluate() runs (timer-driven or called). */
  evaluations: number;
  /** Reads of the rendered grid (only when something was parsed since the previous one). */
  gridReads: number;
  /** Rule passes over a changed screen. */
  ruleScans: number;
}

class HeadlessStateDetector implements ScreenStateDetector {
  private readonly _terminal: HeadlessTerminal;
  private readonly _serializer = new SerializeAddon();
  private readonly _onDidDetect = new Emitter<Detection>();
  readonly onDidDetect = this._onDidDetect.event;
  private readonly _onReply = new Emitter<string>();
  readonly onReply = this._onReply.event;

  private readonly _now: () => number;
  private readonly _auto: boolean;
  private readonly _throttleMs: number;
  private readonly _screenRules: CompiledScreenRule[];
  private readonly _titleRules: CompiledTitleRule[];
  private readonly _thresholds: number[];
  private readonly _stabilityMs: number;
  private readonly _stabilityState: 'waiting_input' | 'running';

  private _cols: number;
  private _rows: number;
  private _dirty = false;
  private _hasOutput = false;
  private _text = '';
  private _lines: string[] = [];
  private _cursorLine = -1;
  private _matches: RuleMatch[] = [];
  private _lastParsedAt: number;
  private _lastChangeAt: number;
  private _lastEvaluatedAt = Number.NEGATIVE_INFINITY;
  private _title: string | null = null;
  private _titleChangedAt: number | null = null;
  private _inputAt: number | null = null;
  private _typedAt: number | null = null;
  private _changedSinceInput = false;
  /** First time each current match (rule + text) was seen: typing after it makes an error banner old. */
  private _matchSince = new Map<string, number>();
  private _verdict: Verdict | null = null;
  private _detection: Detection;
  private _timer: NodeJS.Timeout | null = null;
  private _timerAt = Number.POSITIVE_INFINITY;
  private _disposed = false;
  readonly stats: DetectorStats = { evaluations: 0, gridReads: 0, ruleScans: 0 };

  constructor(def: ProviderDefinition, options: StateDetectorOptions) {
    this._now = options.now ?? Date.now;
    this._auto = options.autoEvaluate ?? options.now === undefined;
    this._throttleMs = options.throttleMs ?? 75;
    this._cols = options.cols;
    this._rows = options.rows;
    this._stabilityMs = def.stability_ms;
    this._stabilityState = def.stability_state ?? 'waiting_input';
    this._screenRules = compileScreenRules(def);
    this._titleRules = compileTitleRules(def);
    // The moments after the last change at which a verdict can flip without new output.
    this._thresholds = [...new Set([...this._screenRules.map((r) => r.settleMs), def.stability_ms])]
      .filter((ms) => ms > 0)
      .sort((a, b) => a - b);

    this._terminal = new Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: options.scrollback ?? 1000,
      allowProposedApi: true,
    });
    // The addon is typed against @xterm/xterm's Terminal; the headless one has the same addon surface.
    this._terminal.loadAddon(this._serializer as unknown as Parameters<HeadlessTerminal['loadAddon']>[0]);
    // Headless xterm answers DA, CPR, DSR, DECRQM, DECRQSS and window reports through onData (it has no
    // keyboard, so everything there is a reply); colour queries it leaves unanswered, we answer them.
    this._terminal.onData((reply) => this._onReply.fire(reply));
    const colors = options.replyColors ?? DEFAULT_REPLY_COLORS;
    for (const [ident, color] of [
      [10, colors.foreground],
      [11, colors.background],
      [12, colors.cursor],
    ] as const) {
      this._terminal.parser.registerOscHandler(ident, (data) => {
        if (data !== '?') return false;
        this._onReply.fire(`\x1b]${ident};${xtermRgb(color)}\x1b\\`);
        return true;
      });
    }
    this._terminal.onTitleChange((title) => {
      if (title === this._title) return;
      this._title = title;
      this._titleChangedAt = this._now();
      this._dirty = true;
      this._schedule(this._throttleMs);
    });

    const created = this._now();
    this._lastParsedAt = created;
    this._lastChangeAt = created;
    this._verdict = decide(this._evidence(created));
    this._detection = this._toDetection(this._verdict, created);
  }

  get title(): string | null {
    return this._title;
  }

  write(data: string, onParsed?: () => void): void {
    if (this._disposed) {
      onParsed?.();
      return;
    }
    this._terminal.write(data, () => {
      if (data.length > 0) {
        this._hasOutput = true;
        this._dirty = true;
        this._lastParsedAt = this._now();
        this._schedule(this._throttleMs);
      }
      onParsed?.();
    });
  }

  resize(cols: number, rows: number): void {
    if (this._disposed || (cols === this._cols && rows === this._rows)) return;
    this._cols = cols;
    this._rows = rows;
    this._terminal.resize(cols, rows);
    this._dirty = true;
    this._schedule(this._throttleMs);
  }

  /**
   * A submission (a command, or raw input containing Enter) makes any waiting/error evidence on the
   * screen stale until the screen changes. Plain keystrokes (typing at a prompt) change nothing.
   * `data` is optional for compatibility; without it raw input counts as a submission.
   */
  noteInput(kind: 'command' | 'input', data?: string): void {
    if (this._disposed) return;
    const submission = kind === 'command' || data === undefined || /[\r\n]/.test(data);
    const now = this._now();
    if (!submission) {
      // Typing at a prompt: waiting evidence stays, but an error banner above it has been seen.
      this._refresh();
      this._typedAt = now;
      this._evaluateAt(now);
      return;
    }
    this._refresh(); // attribute output parsed before the input to "before"
    this._inputAt = now;
    this._changedSinceInput = false;
    this._evaluateAt(now);
  }

  evaluate(now?: number): Detection {
    if (this._disposed) return this._detection;
    return this._evaluateAt(now ?? this._now());
  }

  serialize(): string {
    return this._serializer.serialize();
  }

  screenText(): string {
    if (this._dirty) this._refresh();
    return this._lines.join('\n').replace(/\n+$/, '');
  }

  regionText(region: ScreenRegion): string {
    if (this._dirty) this._refresh();
    return regionLines(this._lines, region, this._cursorLine).join('\n');
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    if (this._timer !== null) clearTimeout(this._timer);
    this._timer = null;
    this._onDidDetect.dispose();
    this._onReply.dispose();
    this._terminal.dispose();
  }

  private _evaluateAt(now: number): Detection {
    if (this._dirty) this._refresh();
    this.stats.evaluations++;
    this._lastEvaluatedAt = now;
    const next = decide(this._evidence(now));
    if (this._verdict === null || !sameVerdict(next, this._verdict)) {
      this._verdict = next;
      this._detection = this._toDetection(next, now);
      this._onDidDetect.fire(this._detection);
    }
    this._scheduleThreshold(now);
    return this._detection;
  }

  /** Read the grid if something was parsed; a changed text moves the stability window. */
  private _refresh(): void {
    if (!this._dirty) return;
    this._dirty = false;
    this.stats.gridReads++;
    const buffer = this._terminal.buffer.active;
    const { lines, cursorLine } = readScreen(buffer, this._rows, this._cols);
    // The cursor line is part of the state: a shell prompt is only a prompt where the cursor is.
    const text = `${cursorLine}\n${lines.join('\n')}`;
    if (text !== this._text) {
      this._text = text;
      this._lines = lines;
      this._cursorLine = cursorLine;
      this._lastChangeAt = this._lastParsedAt;
      if (this._inputAt !== null && this._lastChangeAt >= this._inputAt) this._changedSinceInput = true;
      this._matches = matchScreenRules(this._screenRules, lines, cursorLine);
      const since = new Map<string, number>();
      for (const m of this._matches) {
        const key = `${m.rule.id}\u0000${m.text}`;
        m.since = this._matchSince.get(key) ?? this._lastChangeAt;
        since.set(key, m.since);
      }
      this._matchSince = since;
      this.stats.ruleScans++;
    }
  }

  private _evidence(now: number) {
    return {
      now,
      hasOutput: this._hasOutput,
      lastChangeAt: this._lastChangeAt,
      matches: this._matches,
      title: this._title,
      titleRule: matchTitle(this._titleRules, this._title),
      titleChangedAt: this._titleChangedAt,
      inputAt: this._inputAt,
      typedAt: this._typedAt,
      changedSinceInput: this._changedSinceInput,
      stabilityMs: this._stabilityMs,
      stabilityState: this._stabilityState,
      current: this._verdict,
    };
  }

  private _toDetection(v: Verdict, now: number): Detection {
    return {
      state: v.state,
      authentication_required: v.authentication_required,
      auth_prompt: v.auth_prompt,
      reason: { source: v.source, rule: v.rule, detail: v.detail, at: new Date(now).toISOString() },
    };
  }

  /** While output flows: one evaluation per throttle window (not one per PTY chunk). */
  private _schedule(delayMs: number): void {
    if (!this._auto || this._disposed) return;
    const sinceLast = this._now() - this._lastEvaluatedAt;
    this._arm(Math.max(0, Math.min(delayMs, delayMs - sinceLast)));
  }

  /** Once output stops: wake up when the next settle time or the stability window elapses. */
  private _scheduleThreshold(now: number): void {
    if (!this._auto || this._disposed || !this._hasOutput) return;
    const quiet = now - this._lastChangeAt;
    const next = this._thresholds.find((ms) => ms > quiet);
    if (next !== undefined) this._arm(next - quiet + 1);
  }

  private _arm(delayMs: number): void {
    const at = this._now() + delayMs;
    if (this._timer !== null) {
      if (this._timerAt <= at) return; // an earlier wake-up is already armed
      clearTimeout(this._timer);
    }
    this._timerAt = at;
    this._timer = setTimeout(() => {
      this._timer = null;
      this._timerAt = Number.POSITIVE_INFINITY;
      if (!this._disposed) this._evaluateAt(this._now());
    }, delayMs);
    this._timer.unref();
  }
}
