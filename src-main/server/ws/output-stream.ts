import type { OutputChunk } from '../../../src-shared/session.ts';
import { encodeOutputFrame, WS_CLOSE } from '../../../src-shared/ws-protocol.ts';
import type { OutputAttachment, SessionManager } from '../../core/sessions/types.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { ClientConnection } from './connection.ts';

export interface BackpressureOptions {
  /** Stop forwarding when ws.bufferedAmount plus the next chunk exceeds this (bytes). */
  highWaterBytes: number;
  /** Resume (with replay or a snapshot) once the socket buffer drains below this. */
  lowWaterBytes: number;
  /** A viewer that cannot drain for this long is closed 1013. */
  stuckMs: number;
  /** How often a lagging viewer's buffer is checked. */
  drainPollMs: number;
}

export const DEFAULT_BACKPRESSURE: BackpressureOptions = {
  highWaterBytes: 2 * 1024 * 1024,
  lowWaterBytes: 256 * 1024,
  stuckMs: 30_000,
  drainPollMs: 50,
};

/**
 * Streams one session's output to one viewer as a cursor over the manager's ring: `sentSeq` is the last
 * seq the viewer has. Live chunks are forwarded while they follow the cursor; anything else (a resume,
 * a gap, a drained slow viewer) catches up from the ring by `replay(sentSeq)`, or with a `snapshot` when
 * the ring no longer reaches back that far. Remote viewers are never flow-controlled consumers: the
 * agent never waits for them, and server memory per viewer is bounded by the high-water mark.
 */
export class OutputStream {
  private readonly _conn: ClientConnection;
  private readonly _sessions: SessionManager;
  private readonly _sessionId: string;
  private readonly _options: BackpressureOptions;
  private readonly _metrics: ServerMetrics;
  private _attachment: OutputAttachment | null = null;
  private _sentSeq = -1;
  private _state: 'idle' | 'snapshotting' | 'live' | 'lagging' | 'disposed' = 'idle';
  private _lagSince = 0;
  private _drainTimer: NodeJS.Timeout | null = null;

  constructor(
    conn: ClientConnection,
    sessions: SessionManager,
    sessionId: string,
    options: BackpressureOptions,
    metrics: ServerMetrics,
  ) {
    this._conn = conn;
    this._sessions = sessions;
    this._sessionId = sessionId;
    this._options = options;
    this._metrics = metrics;
  }

  get started(): boolean {
    return this._state !== 'idle';
  }

  /** Start (or restart) streaming after `lastSeq`; `null` means "show me the current screen". */
  start(lastSeq: number | null): void {
    if (this._state === 'disposed') return;
    if (!this._attachment) {
      this._attachment = this._sessions.attach(this._sessionId, {
        flowControlled: false,
        onData: (chunk) => this._onChunk(chunk),
      });
    }
    this._stopLagging();
    // A cursor from the future (another server's numbering, a confused client) cannot be trusted.
    const current = this._sessions.get(this._sessionId)?.last_seq ?? 0;
    if (lastSeq !== null && lastSeq > current) {
      void this._snapshot('resume-gap');
      return;
    }
    if (lastSeq === null) {
      void this._snapshot('attach');
      return;
    }
    this._sentSeq = lastSeq;
    this._state = 'live';
    this._catchUp('resume-gap');
  }

  dispose(): void {
    this._state = 'disposed';
    this._stopLagging();
    this._attachment?.dispose();
    this._attachment = null;
  }

  private _onChunk(chunk: OutputChunk): void {
    if (this._state !== 'live') return; // snapshotting / lagging catch up from the ring afterwards
    if (chunk.seq <= this._sentSeq) return;
    if (chunk.seq !== this._sentSeq + 1) {
      this._catchUp('resync');
      return;
    }
    this._sendChunk(chunk);
  }

  /** Send everything after the cursor from the ring, or a snapshot when the ring lost part of it. */
  private _catchUp(reason: 'resume-gap' | 'resync'): void {
    const chunks = this._sessions.replay(this._sessionId, this._sentSeq);
    if (chunks === null) {
      void this._snapshot(reason);
      return;
    }
    for (const chunk of chunks) {
      if (chunk.seq <= this._sentSeq) continue;
      if (!this._sendChunk(chunk)) return;
    }
  }

  /** false when the viewer is past the high-water mark (now lagging) or gone. */
  private _sendChunk(chunk: OutputChunk): boolean {
    if (!this._conn.isOpen) return false;
    if (this._conn.ws.bufferedAmount + chunk.data.length > this._options.highWaterBytes) {
      this._startLagging();
      return false;
    }
    if (this._conn.binaryOutput) this._conn.sendBinary(outputFrame(chunk), 'output');
    else
      this._conn.send('output', {
        seq: chunk.seq,
        output: chunk.data,
        output_type: 'stdout',
        timestamp: chunk.at / 1000,
      });
    this._metrics.outputBytes.inc(chunk.data.length);
    this._sentSeq = chunk.seq;
    return true;
  }

  private async _snapshot(reason: 'resume-gap' | 'resync' | 'attach'): Promise<void> {
    this._state = 'snapshotting';
    for (let attempt = 0; attempt < 3; attempt++) {
      let snap: Awaited<ReturnType<SessionManager['snapshot']>>;
      try {
        snap = await this._sessions.snapshot(this._sessionId);
      } catch (error) {
        if (this._state !== 'snapshotting') return;
        this._conn.sendError(
          'INTERNAL',
          `snapshot failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        this._state = 'live';
        return;
      }
      if (this._state !== 'snapshotting' || !this._conn.isOpen) return;
      this._metrics.resyncs.inc({ reason });
      this._conn.send('snapshot', {
        seq: snap.seq,
        screen: snap.screen,
        cols: snap.cols,
        rows: snap.rows,
        reason,
      });
      this._sentSeq = snap.seq;
      // Output that arrived while the snapshot was being serialized comes from the ring, in order.
      const after = this._sessions.replay(this._sessionId, snap.seq);
      if (after === null) continue; // the ring moved past the snapshot meanwhile: take another
      this._state = 'live';
      for (const chunk of after) {
        if (chunk.seq <= this._sentSeq) continue;
        if (!this._sendChunk(chunk)) return;
      }
      return;
    }
    // Output outruns snapshots (a flood): drop the viewer rather than loop; it reconnects and resumes.
    this._conn.close(WS_CLOSE.TRY_AGAIN_LATER, 'output too fast to resynchronise');
  }

  private _startLagging(): void {
    if (this._state === 'lagging') return;
    this._state = 'lagging';
    this._lagSince = Date.now();
    this._drainTimer = setInterval(() => this._checkDrain(), this._options.drainPollMs);
    this._drainTimer.unref();
  }

  private _stopLagging(): void {
    if (this._drainTimer) clearInterval(this._drainTimer);
    this._drainTimer = null;
  }

  private _checkDrain(): void {
    if (!this._conn.isOpen) {
      this.dispose();
      return;
    }
    if (this._conn.ws.bufferedAmount <= this._options.lowWaterBytes) {
      this._stopLagging();
      this._state = 'live';
      // Catch up from the ring when the backlog is small, else jump to the current screen.
      const backlog = this._sessions.replay(this._sessionId, this._sentSeq);
      const backlogBytes = backlog?.reduce((n, c) => n + c.data.length, 0) ?? Number.POSITIVE_INFINITY;
      if (backlog !== null && backlogBytes <= this._options.highWaterBytes / 2) this._catchUp('resync');
      else void this._snapshot('resync');
      return;
    }
    if (Date.now() - this._lagSince > this._options.stuckMs) {
      this._stopLagging();
      this._conn.close(WS_CLOSE.TRY_AGAIN_LATER, 'viewer too slow');
    }
  }
}

/** One binary frame per chunk, however many viewers get it (they share the buffer). */
const frames = new WeakMap<OutputChunk, Uint8Array>();
function outputFrame(chunk: OutputChunk): Uint8Array {
  let frame = frames.get(chunk);
  if (!frame) {
    frame = encodeOutputFrame(chunk.seq, chunk.at, chunk.bytes ?? Buffer.from(chunk.data, 'utf8'));
    frames.set(chunk, frame);
  }
  return frame;
}
