import type { ProviderDefinition } from '../providers/types.ts';
import { compileScreenRules } from '../state/rules.ts';
import type { Detection } from '../state/types.ts';
import { Emitter } from '../util/event.ts';
import { fuse, sameDetection, signalStillHolds } from './fusion.ts';
import type { ActiveSignal, Interpretation, SignalInterpreter } from './interpret.ts';
import { OscScanner } from './osc-scanner.ts';

export interface SessionFusionOptions {
  provider: ProviderDefinition;
  interpreter: SignalInterpreter;
  /** Clock (epoch ms); tests inject one (no expiry timer then: they call evaluate). */
  now?: () => number;
  /** Called with every interpretation (conversation ids, diagnostics). */
  onInterpretation?(interpretation: Interpretation): void;
}

const STARTING: Detection = {
  state: 'starting',
  authentication_required: false,
  auth_prompt: null,
  reason: {
    source: 'lifecycle',
    rule: 'no-output',
    detail: 'no output from the process yet',
    at: new Date(0).toISOString(),
  },
};

/**
 * One session's state as the manager applies it: the screen's verdict (from the PTY host's mirror)
 * with the agent's own signals laid over it (fusion.ts). Screen-only when no signal is fresh, so agents
 * without hooks — or with hooks that fail — keep the screen rules as before.
 *
 * Fed by the manager: `screen()` with every verdict of the screen detector, `output()` with the output
 * (in-band status reports), `noteInput()` on every key; and by the signal endpoint: `receive()`.
 */
export class SessionSignalFusion {
  private readonly _o: SessionFusionOptions;
  private readonly _now: () => number;
  private readonly _priorities = new Map<string, number>();
  private readonly _osc: OscScanner;
  private readonly _onDidDetect = new Emitter<Detection>();
  readonly onDidDetect = this._onDidDetect.event;
  private _signal: ActiveSignal | null = null;
  /** Newest signal time seen, including clears (older relays that arrive late are dropped). */
  private _latestAt = Number.NEGATIVE_INFINITY;
  private _inputAt: number | null = null;
  private _screen: Detection = STARTING;
  private _detection: Detection = STARTING;
  private _timer: NodeJS.Timeout | null = null;
  private _disposed = false;

  constructor(options: SessionFusionOptions) {
    this._o = options;
    this._now = options.now ?? Date.now;
    for (const c of compileScreenRules(options.provider)) this._priorities.set(c.rule.id, c.priority);
    this._osc = new OscScanner(options.interpreter.oscNumbers());
  }

  /** The signal in force (fresh or not), for diagnostics and tests. */
  get signal(): ActiveSignal | null {
    return this._signal;
  }

  /** The screen detector's latest verdict. */
  screen(d: Detection): void {
    if (this._disposed) return;
    this._screen = d;
    this._update();
  }

  /** Session output: in-band status reports (e.g. OSC 7501) become signals. */
  output(data: string): void {
    if (this._disposed) return;
    for (const { osc, data: body } of this._osc.push(data)) {
      const source = this._o.interpreter.oscSource(osc);
      if (source !== null) this.receive(source, body, this._now());
    }
  }

  /** A payload for this session (from the relay endpoint or an OSC report). */
  receive(sourceId: string, payload: unknown, at: number): Interpretation {
    const interpretation = this._o.interpreter.interpret(sourceId, payload, at);
    if (this._disposed) return interpretation;
    this._o.onInterpretation?.(interpretation);
    if (interpretation.kind === 'none') return interpretation;
    // Relays are separate processes and can race: a report older than the newest one changes nothing.
    if (at < this._latestAt) return interpretation;
    this._latestAt = at;
    this._signal = interpretation.kind === 'state' ? interpretation.signal : null;
    this._update();
    return interpretation;
  }

  /** Any key (not only a submission): a permission prompt may be answered with one key, and after that
   *  a "waiting" signal no longer says anything true. */
  noteInput(): void {
    if (this._disposed) return;
    this._inputAt = this._now();
    this._update();
  }

  evaluate(now?: number): Detection {
    if (this._disposed) return this._detection;
    return this._update(now);
  }

  dispose(): void {
    this._disposed = true;
    if (this._timer) clearTimeout(this._timer);
    this._onDidDetect.dispose();
  }

  private _update(at?: number): Detection {
    const now = at ?? this._now();
    const ctx = {
      now,
      inputAt: this._inputAt,
      screenPriority: (id: string) => this._priorities.get(id) ?? null,
    };
    if (this._signal !== null && !signalStillHolds(this._signal, ctx)) this._signal = null;
    const next = fuse(this._screen, this._signal, ctx);
    if (!sameDetection(next, this._detection)) {
      this._detection = next;
      this._onDidDetect.fire(next);
    }
    this._armExpiry(now);
    return this._detection;
  }

  /** Wake up when the signal's TTL ends, so the screen takes over without waiting for output. */
  private _armExpiry(now: number): void {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    if (this._signal === null || this._o.now !== undefined) return;
    this._timer = setTimeout(
      () => {
        this._timer = null;
        if (!this._disposed) this.evaluate();
      },
      Math.max(0, this._signal.expiresAt - now) + 1,
    );
    this._timer.unref();
  }
}
