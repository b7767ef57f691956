import type { TerminalAttachment, TerminalHandlers } from '../../../../src-shared/api.ts';
import {
  type SnapshotMessageData,
  type StatusMessageData,
  sessionFromStatus,
  WS_CLOSE,
} from '../../../../src-shared/ws-protocol.ts';
import { AckCounter, backoffDelay, OutputSequencer } from '../../model/output-sequencer.ts';
import { closeErrorCode, closeText, envelope, FATAL_CLOSES, type ServerFrame } from './frames.ts';
import { openSocket, type SocketOptions } from './socket.ts';

/** Chunk size for input sent over the socket (the server bounds `input.data` at 60 000 chars). */
const INPUT_CHUNK = 30_000;
/** Input typed while reconnecting is kept (bounded) and sent once the socket is back. */
const MAX_QUEUED_CHARS = 64 * 1024;

/**
 * One terminal view of a session over `/cli/session/{id}/ws`: reconnects with backoff, resuming after
 * the last output on screen (`last_seq` in the auth; the server answers with the missed output, or a
 * snapshot when the gap is older than its buffer), acks parsed output, and keeps input typed while
 * offline (bounded). A gap in the stream asks again with `resume {last_seq}`.
 */
export function attachTerminal(
  socketOptions: SocketOptions,
  sessionId: string,
  handlers: TerminalHandlers,
  options: { lastSeq?: number } = {},
): TerminalAttachment {
  const sequencer = new OutputSequencer(options.lastSeq ?? 0);
  let socket: WebSocket | null = null;
  let ready = false;
  let detached = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  const queue: string[] = [];
  let queuedChars = 0;
  let pendingResize: { cols: number; rows: number } | null = null;

  const send = (raw: string) => {
    if (socket && ready && socket.readyState === 1) socket.send(raw);
  };
  const acks = new AckCounter((chars) => send(envelope('ack', { chars })));

  const enqueue = (raw: string) => {
    if (ready && socket?.readyState === 1) return socket.send(raw);
    if (queuedChars + raw.length > MAX_QUEUED_CHARS) return;
    queue.push(raw);
    queuedChars += raw.length;
  };

  const onFrame = (frame: ServerFrame) => {
    switch (frame.type) {
      case 'output': {
        const data = frame.data as { seq: number; output: string };
        const verdict = sequencer.accept(data.seq);
        if (verdict === 'write') {
          handlers.onOutput(data.seq, data.output, () => acks.parsed(data.output.length));
        } else if (verdict === 'gap') {
          // Chunks went missing (e.g. the server dropped us as a slow viewer): ask again from what we have.
          send(envelope('resume', { last_seq: sequencer.lastSeq }));
        }
        return;
      }
      case 'snapshot': {
        const data = frame.data as SnapshotMessageData;
        sequencer.snapshot(data.seq);
        acks.reset();
        handlers.onSnapshot(data);
        return;
      }
      case 'status': {
        const session = sessionFromStatus(frame.data as StatusMessageData);
        ended = session.state === 'completed' || session.state === 'terminated' || session.ended_at !== null;
        handlers.onStatus(session);
        return;
      }
      case 'error': {
        const data = frame.data as { error: string; error_code: string };
        handlers.onError({ error: data.error, error_code: data.error_code });
        return;
      }
      default:
        return;
    }
  };

  const connect = () => {
    if (detached) return;
    handlers.onConnectionChange?.('connecting');
    ready = false;
    sequencer.reconnecting();
    acks.reset();
    const opened = openSocket(
      socketOptions,
      `/cli/session/${encodeURIComponent(sessionId)}/ws`,
      (frame) => {
        if (socket === opened.ws) onFrame(frame);
      },
      (ev) => {
        if (socket !== opened.ws) return;
        socket = null;
        ready = false;
        handlers.onConnectionChange?.('closed');
        if (detached) return;
        if (FATAL_CLOSES.has(ev.code)) {
          handlers.onError({ error: ev.reason || closeText(ev.code), error_code: closeErrorCode(ev.code) });
          return;
        }
        // The process has ended and the server closed normally: there is nothing more to stream.
        if (ended && ev.code === WS_CLOSE.NORMAL) return;
        timer = setTimeout(connect, backoffDelay(attempt++));
      },
      () => sequencer.lastSeq,
    );
    socket = opened.ws;
    opened.authed.then(() => {
      if (socket !== opened.ws || detached) return;
      ready = true;
      attempt = 0;
      handlers.onConnectionChange?.('open');
      if (pendingResize) opened.ws.send(envelope('resize', pendingResize));
      for (const raw of queue.splice(0)) opened.ws.send(raw);
      queuedChars = 0;
    });
  };

  connect();

  return {
    input: (data: string) => {
      for (let i = 0; i < data.length; i += INPUT_CHUNK)
        enqueue(envelope('input', { data: data.slice(i, i + INPUT_CHUNK) }));
    },
    command: (text: string) => enqueue(envelope('command', { command: text })),
    resize: (cols: number, rows: number) => {
      pendingResize = { cols, rows };
      send(envelope('resize', pendingResize));
    },
    // Only meaningful now: a focus sent after a reconnect would steal the size from whoever is in use.
    focus: () => send(envelope('focus', {})),
    interrupt: () => enqueue(envelope('cancel', {})),
    detach: () => {
      detached = true;
      clearTimeout(timer);
      const ws = socket;
      socket = null;
      ws?.close(WS_CLOSE.NORMAL, 'detached');
    },
  };
}
