import xtermHeadless from '@xterm/headless';

const { Terminal } = xtermHeadless;

export interface ScreenFrame {
  /** When the output that produced this frame arrived (Date.now()). */
  at: number;
  text: string;
  title: string;
}

/**
 * The test's own view of a session's terminal: the session socket's output written into a headless
 * xterm, with every distinct frame time-stamped on arrival. This is the "screen" half of the ground
 * truth (the mock model service is the other half); it is independent of AutoDev's mirror and rules.
 */
export class ScreenMirror {
  readonly frames: ScreenFrame[] = [];
  private readonly _term: InstanceType<typeof Terminal>;
  private readonly _rows: number;
  private _title = '';
  private _pending: Promise<void> = Promise.resolve();
  private readonly _listeners = new Set<(f: ScreenFrame) => void>();

  constructor(cols: number, rows: number) {
    this._rows = rows;
    this._term = new Terminal({ cols, rows, scrollback: 2000, allowProposedApi: true });
    this._term.onTitleChange((t) => {
      this._title = t;
    });
  }

  /** Output as it arrived at `at`; frames are recorded in order once parsed. */
  write(data: string, at: number): void {
    this._pending = this._pending.then(
      () =>
        new Promise<void>((resolve) =>
          this._term.write(data, () => {
            this._record(at);
            resolve();
          }),
        ),
    );
  }

  /** A serialized screen (attach/resync snapshot): start over from it. */
  reset(screen: string, at: number): void {
    this._pending = this._pending.then(
      () =>
        new Promise<void>((resolve) => {
          this._term.reset();
          this._term.write(screen, () => {
            this._record(at);
            resolve();
          });
        }),
    );
  }

  get text(): string {
    return this.frames[this.frames.length - 1]?.text ?? '';
  }

  get title(): string {
    return this._title;
  }

  /** Resolves once everything written so far has been parsed. */
  settled(): Promise<void> {
    return this._pending;
  }

  /** The first frame at or after `since` that satisfies the predicate (already recorded or coming). */
  waitFor(
    predicate: (f: ScreenFrame) => boolean,
    options: { since?: number; timeoutMs?: number } = {},
  ): Promise<ScreenFrame> {
    const since = options.since ?? 0;
    const seen = this.frames.find((f) => f.at >= since && predicate(f));
    if (seen) return Promise.resolve(seen);
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._listeners.delete(listener);
        reject(
          new Error(
            `screen: condition not met within ${timeoutMs} ms; the screen shows:\n${this.text}\n(title ${JSON.stringify(this._title)})`,
          ),
        );
      }, timeoutMs);
      const listener = (f: ScreenFrame) => {
        if (f.at >= since && predicate(f)) {
          clearTimeout(timer);
          this._listeners.delete(listener);
          resolve(f);
        }
      };
      this._listeners.add(listener);
    });
  }

  /** Resolves once no new frame has arrived for `quietMs` (a person would read the screen first). */
  async quiet(quietMs: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this._pending;
      const last = this.frames[this.frames.length - 1]?.at ?? 0;
      const idle = Date.now() - last;
      if (idle >= quietMs) return;
      if (Date.now() > deadline)
        throw new Error(`screen: never quiet for ${quietMs} ms within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, Math.min(quietMs - idle + 5, 200)));
    }
  }

  dispose(): void {
    this._listeners.clear();
    this._term.dispose();
  }

  private _record(at: number): void {
    const buffer = this._term.buffer.active;
    const lines: string[] = [];
    for (let y = buffer.baseY; y < buffer.baseY + this._rows; y++) {
      lines.push(
        buffer
          .getLine(y)
          ?.translateToString(true)
          .replace(/\u00a0/g, ' ') ?? '',
      );
    }
    const text = lines.join('\n').replace(/\n+$/, '');
    const last = this.frames[this.frames.length - 1];
    if (last && last.text === text && last.title === this._title) return;
    const frame = { at, text, title: this._title };
    this.frames.push(frame);
    for (const l of [...this._listeners]) l(frame);
  }
}
