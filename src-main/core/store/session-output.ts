// Each session's output on its way to the spool: redacted by a stream redactor (one per session), cut
// into spool records with the session's seqs. What the redactor holds back (a possible secret cut
// across chunks) is released once it is `holdMs` old, whether or not more output follows, so an agent's
// last line — typically its question — and a slow stream's every line are stored within moments; a
// secret completed later amends what was released (security/stream-redactor.ts; the amendment travels
// as a spool record and rewrites the stored rows).
//
// The redactor holds whole chunks (alignToPushes), so a record's seq range covers exactly the bytes in
// it: a stored seq means every byte through it is stored. That is what a reattach after a crash asks
// the PTY host to replay after (store/output-seq.ts), with nothing lost or stored twice.
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
  /** Pushes held back now (security/stream-redactor.ts with alignToPushes). */
  readonly heldPushes?: number;
}

export type StreamRedactorFactory = (options: {
  onAmend(amend: StreamAmend): void;
  alignToPushes: boolean;
}) => StreamRedactorLike;

interface Pending {
  seq: number;
  /** Raw UTF-8 bytes of the chunk. */
  r: number;
  /** The chunk's own time (epoch ms) and when it got here (for the hold's age). */
  t: number;
  arrived: number;
}

interface Stream {
  redactor: StreamRedactorLike | null;
  /** Chunks whose text the redactor still holds (all of it, with alignToPushes), oldest first. */
  held: Pending[];
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
            alignToPushes: true,
          })
        : null,
      held: [],
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
    s.held.push({ seq: chunk.seq, r: Buffer.byteLength(chunk.data), t: chunk.at, arrived: Date.now() });
    const out = s.redactor ? s.redactor.push(chunk.data) : chunk.data;
    const stillHeld = s.redactor ? (s.redactor.heldPushes ?? 0) : 0;
    this._emit(chunk.session_id, s, s.held.length - stillHeld, out);
    if (s.held.length > 0 && s.redactor?.release)
      this._timer ??= setTimeout(() => this._releaseOld(), this._holdMs);
  }

  /** `count` chunks (the oldest held) were emitted as `out`: one record with their seqs. */
  private _emit(id: string, s: Stream, count: number, out: string): void {
    if (count <= 0) {
      // Text without a chunk of its own (a custom redactor's tail): it continues the last output.
      if (out) this._spool.enqueue({ k: 'c', s: id, t: Date.now(), data: out });
      return;
    }
    const done = s.held.splice(0, count);
    let r = 0;
    for (const p of done) r += p.r;
    const last = done[done.length - 1] as Pending;
    this._spool.enqueue({ k: 'o', s: id, a: (done[0] as Pending).seq, b: last.seq, r, t: last.t, data: out });
  }

  /** Held text older than holdMs is released (more output or not). */
  private _releaseOld(): void {
    this._timer = undefined;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, s] of this._streams) {
      const oldest = s.held[0];
      if (!s.redactor?.release || !oldest) continue;
      if (now - oldest.arrived >= this._holdMs) this._emit(id, s, s.held.length, s.redactor.release());
      else next = Math.min(next, oldest.arrived + this._holdMs - now);
    }
    if (next !== Number.POSITIVE_INFINITY)
      this._timer = setTimeout(() => this._releaseOld(), Math.max(1, next));
  }

  /**
   * A person's command is journaled at the session's current seq: what the redactor holds is released
   * (a secret completed later still amends it) and a boundary follows, so the stored rows split exactly
   * there and a replay shows everything printed before the command and nothing after it.
   */
  cut(sessionId: string): void {
    const s = this._streams.get(sessionId);
    if (!s) return;
    if (s.held.length > 0 && s.redactor?.release)
      this._emit(sessionId, s, s.held.length, s.redactor.release());
    this._spool.enqueue({ k: 'b', s: sessionId, t: Date.now() });
  }

  /** End of a session's output: the redactor's tail, then the end record. */
  end(sessionId: string): void {
    const s = this._streams.get(sessionId);
    if (!s) return;
    this._streams.delete(sessionId);
    const text = s.redactor ? s.redactor.flush() : '';
    this._emit(sessionId, s, s.held.length, text);
    this._spool.enqueue({ k: 'e', s: sessionId, t: Date.now() });
  }

  endAll(): void {
    for (const id of [...this._streams.keys()]) this.end(id);
  }

  close(): void {
    if (this._timer) clearTimeout(this._timer);
    this._timer = undefined;
  }
}
