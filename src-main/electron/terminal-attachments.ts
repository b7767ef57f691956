import type { IpcEventItem } from '../../src-shared/ipc.ts';
import type { OutputChunk, SessionInfo } from '../../src-shared/session.ts';
import type { OutputAttachment, SessionManager } from '../core/sessions/types.ts';
import { IpcError } from './ipc-router.ts';

export type AttachmentManager = Pick<
  SessionManager,
  | 'get'
  | 'attach'
  | 'replay'
  | 'snapshot'
  | 'input'
  | 'command'
  | 'resizeView'
  | 'focusView'
  | 'closeView'
  | 'interrupt'
>;

/** A window may not hold more terminal attachments than this (a renderer bug must not leak PTY consumers). */
export const MAX_ATTACHMENTS_PER_WINDOW = 64;

interface Delivered {
  chars: number;
  /** Came from the manager's flow-controlled consumer (replayed chunks did not and are not acked to it). */
  live: boolean;
}

interface Attachment {
  sessionId: string;
  live: OutputAttachment;
  /** Output sent to the renderer and not yet acked, oldest first. */
  delivered: Delivered[];
  disposed: boolean;
}

/**
 * The terminal attachments of one window. Each one is a flow-controlled consumer of the session
 * manager: output goes into the window's batch channel, and the renderer's acks (after xterm parsed)
 * are passed on to the manager — so a renderer that falls behind pauses the PTY instead of growing
 * the main process heap. Acks are clamped to what was delivered: a renderer cannot over-credit.
 */
export class WindowAttachments {
  private readonly _attachments = new Map<string, Attachment>();
  private readonly _manager: AttachmentManager;
  private readonly _push: (item: IpcEventItem) => void;
  private _disposed = false;

  constructor(manager: AttachmentManager, push: (item: IpcEventItem) => void) {
    this._manager = manager;
    this._push = push;
  }

  get size(): number {
    return this._attachments.size;
  }

  /** Outstanding (delivered, unacked) live characters of an attachment, for diagnostics and tests. */
  outstanding(attachmentId: string): number {
    const a = this._attachments.get(attachmentId);
    return a ? a.delivered.reduce((sum, d) => sum + (d.live ? d.chars : 0), 0) : 0;
  }

  async open(attachmentId: string, sessionId: string, lastSeq?: number): Promise<SessionInfo> {
    if (this._disposed) throw new IpcError('CONFLICT', 'window is closing');
    if (this._attachments.has(attachmentId)) throw new IpcError('CONFLICT', 'attachment id in use');
    if (this._attachments.size >= MAX_ATTACHMENTS_PER_WINDOW)
      throw new IpcError('RATE_LIMITED', 'too many terminal attachments in this window');
    const session = this._manager.get(sessionId);
    if (!session) throw new IpcError('NOT_FOUND', `session ${sessionId} not found`);

    // Subscribe first and hold live chunks back, so nothing falls between replay/snapshot and live.
    let ready = false;
    const held: OutputChunk[] = [];
    const entry: Attachment = {
      sessionId,
      delivered: [],
      disposed: false,
      live: this._manager.attach(sessionId, {
        flowControlled: true,
        onData: (chunk) => {
          if (entry.disposed) return;
          if (ready) this._deliver(attachmentId, entry, chunk, true);
          else held.push(chunk);
        },
      }),
    };
    this._attachments.set(attachmentId, entry);

    let cursor: number;
    try {
      const replay = lastSeq === undefined ? null : this._manager.replay(sessionId, lastSeq);
      if (lastSeq !== undefined && replay !== null) {
        cursor = lastSeq;
        for (const chunk of replay) {
          this._deliver(attachmentId, entry, chunk, false);
          cursor = chunk.seq;
        }
      } else {
        const snap = await this._manager.snapshot(sessionId);
        cursor = snap.seq;
        if (entry.disposed) return session;
        this._push({
          kind: 'snapshot',
          attachment_id: attachmentId,
          snapshot: { ...snap, reason: lastSeq === undefined ? 'attach' : 'resume-gap' },
        });
      }
    } catch (error) {
      this.detach(attachmentId);
      throw error;
    }
    this._push({
      kind: 'status',
      attachment_id: attachmentId,
      session: this._manager.get(sessionId) ?? session,
    });
    for (const chunk of held) {
      // Already covered by the replay/snapshot: give the credit straight back to the manager.
      if (chunk.seq <= cursor) entry.live.ack(chunk.data.length);
      else this._deliver(attachmentId, entry, chunk, true);
    }
    ready = true;
    return session;
  }

  private _deliver(attachmentId: string, entry: Attachment, chunk: OutputChunk, live: boolean): void {
    entry.delivered.push({ chars: chunk.data.length, live });
    this._push({ kind: 'output', attachment_id: attachmentId, seq: chunk.seq, data: chunk.data });
  }

  ack(attachmentId: string, chars: number): void {
    const entry = this._attachments.get(attachmentId);
    if (!entry) return; // acks racing a detach are harmless
    let remaining = chars;
    let liveChars = 0;
    while (remaining > 0 && entry.delivered.length > 0) {
      const head = entry.delivered[0]!;
      const take = Math.min(head.chars, remaining);
      if (head.live) liveChars += take;
      head.chars -= take;
      remaining -= take;
      if (head.chars === 0) entry.delivered.shift();
    }
    if (liveChars > 0) entry.live.ack(liveChars);
  }

  private _session(attachmentId: string): string {
    const entry = this._attachments.get(attachmentId);
    if (!entry) throw new IpcError('NOT_FOUND', `attachment ${attachmentId} not found`);
    return entry.sessionId;
  }

  // Typing into a view makes it the one in use (it sets the PTY size), as tmux's `window-size latest`.
  input(attachmentId: string, data: string): void {
    const sessionId = this._session(attachmentId);
    this._manager.focusView(sessionId, attachmentId);
    this._manager.input(sessionId, data);
  }

  /** A prompt the agent did not take is reported to the view that sent it, never dropped silently. */
  command(attachmentId: string, text: string): void {
    const sessionId = this._session(attachmentId);
    this._manager.focusView(sessionId, attachmentId);
    void this._manager.command(sessionId, text).then((outcome) => {
      if (outcome.ok || !this._attachments.has(attachmentId)) return;
      this._push({
        kind: 'error',
        attachment_id: attachmentId,
        error: `the agent did not take the prompt: ${outcome.detail}`,
        error_code: 'COMMAND_NOT_SUBMITTED',
      });
    });
  }

  resize(attachmentId: string, cols: number, rows: number): void {
    this._manager.resizeView(this._session(attachmentId), attachmentId, cols, rows);
  }

  focus(attachmentId: string): void {
    this._manager.focusView(this._session(attachmentId), attachmentId);
  }

  interrupt(attachmentId: string): void {
    this._manager.interrupt(this._session(attachmentId));
  }

  /** Pushes a session's new status to every attachment of it in this window. */
  status(session: SessionInfo): void {
    for (const [id, entry] of this._attachments) {
      if (entry.sessionId === session.session_id) this._push({ kind: 'status', attachment_id: id, session });
    }
  }

  detach(attachmentId: string): void {
    const entry = this._attachments.get(attachmentId);
    if (!entry) return;
    this._attachments.delete(attachmentId);
    entry.disposed = true;
    entry.delivered = [];
    entry.live.dispose();
    this._manager.closeView(entry.sessionId, attachmentId);
  }

  dispose(): void {
    this._disposed = true;
    for (const id of [...this._attachments.keys()]) this.detach(id);
  }
}
