// Each session's output on its way to the spool: redacted by a stream redactor (one per session), cut
// into spool records with the session's seqs. What the redactor holds back (a possible secret cut
// across chunks) is released after `holdMs` of quiet, so an agent's last line — typically its question
// — is stored without waiting for more output; a secret completed later amends what was released
// (security/stream-redactor.ts; the amendment travels as a spool record and rewrites the stored rows).
import type { OutputChunk, SessionInfo } from '../../../src-shared/session.ts';
import type { StreamAmend } from '../security/redact.ts';
import type { OutputSpool } from './output-spool.ts';

/** What persistence needs of a stream redactor (security/stream-redactor.ts is the real one). */
export interface StreamRedactorLike {
  push(text: string): string;
  /** Releases the held-back tail (end of the session). */
  flush(): string;
  /** Releases the held-back tail but may amend it later (quiet moments). Without it, the tail is
   *  held until more output or the end of the session. */
  release?(): string;
  /** Characters held back now. */
  readonly held?: number;
}

export type StreamRedactorFactory = (options: { onAmend(amend: StreamAmend): void }) => StreamRedactorLike;

interface Stream {
  redactor: StreamRedactorLike | null;
  lastAt: number;
}

export class SessionOutputs {
  private readonly _spool: OutputSpool;
  private readonly _factory: StreamRedactorFactory | null;
  private readonly _holdMs: number;
  private readonly _info: (id: string) => SessionInfo | undefined;
  private readonly _streams = new Map<string, Stream>();
  private _timer: NodeJS.Timeout | undefined;

  constructor(options: {
    spool: OutputSpool;
    createStreamRedactor: StreamRedactorFactory | null;
    holdMs: number;
    sessionInfo(id: string): SessionInfo | undefined;
  }) {
    this._spool = options.spool;
    this._factory = options.createStreamRedactor;
    this._holdMs = options.holdMs;
    this._info = options.sessionInfo;
  }

  private _stream(id: string): Stream {
    let s = this._streams.get(id);
    if (s) return s;
    const spool = this._spool;
    s = {
      redactor: this._factory
        ? this._factory({
            onAmend: (a) =>
              spool.enqueue({ k: 'a', s: id, t: Date.now(), removed: a.removed, data: a.insert }),
          })
        : null,
      lastAt: 0,
    };
    this._streams.set(id, s);
    // The session's row travels with its output (stored if the journal's copy never made it).
    const info = this._info(id);
    if (info) spool.enqueue({ k: 's', s: id, t: Date.now(), info });
    return s;
  }

  /** One chunk of one session (the manager's onOutput): never waits for anything but the CPU. */
  onChunk(chunk: OutputChunk): void {
    const s = this._stream(chunk.session_id);
    const data = s.redactor ? s.redactor.push(chunk.data) : chunk.data;
    this._spool.enqueue({
      k: 'o',
      s: chunk.session_id,
      a: chunk.seq,
      b: chunk.seq,
      r: Buffer.byteLength(chunk.data),
      t: chunk.at,
      data,
    });
    if (s.redactor?.release && (s.redactor.held ?? 1) > 0) {
      s.lastAt = Date.now();
      this._timer ??= setTimeout(() => this._releaseQuiet(), this._holdMs);
    }
  }

  /** Streams quiet for holdMs release what their redactor holds. */
  private _releaseQuiet(): void {
    this._timer = undefined;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, s] of this._streams) {
      if (!s.redactor?.release || s.lastAt === 0) continue;
      if (now - s.lastAt >= this._holdMs) {
        const text = s.redactor.release();
        s.lastAt = 0;
        if (text) this._spool.enqueue({ k: 'c', s: id, t: now, data: text });
      } else next = Math.min(next, s.lastAt + this._holdMs - now);
    }
    if (next !== Number.POSITIVE_INFINITY)
      this._timer = setTimeout(() => this._releaseQuiet(), Math.max(1, next));
  }

  /** End of a session's output: the redactor's tail, then the end record. */
  end(sessionId: string): void {
    const s = this._streams.get(sessionId);
    if (!s) return;
    this._streams.delete(sessionId);
    const text = s.redactor ? s.redactor.flush() : '';
    const now = Date.now();
    if (text) this._spool.enqueue({ k: 'c', s: sessionId, t: now, data: text });
    this._spool.enqueue({ k: 'e', s: sessionId, t: now });
  }

  endAll(): void {
    for (const id of [...this._streams.keys()]) this.end(id);
  }

  close(): void {
    if (this._timer) clearTimeout(this._timer);
    this._timer = undefined;
  }
}
