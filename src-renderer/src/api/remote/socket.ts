import { decodeOutputFrame, TOKEN_SUBPROTOCOL_PREFIX, WS_CLOSE } from '../../../../src-shared/ws-protocol.ts';
import { envelope, parseFrame, type ServerFrame } from './frames.ts';

export interface SocketOptions {
  /** `ws://host:port` of the server. */
  wsBase: string;
  token: string;
  /**
   * `message`: the first frame is `auth {token}` (browsers: the token is in no header or URL).
   * `subprotocol`: `Sec-WebSocket-Protocol: autodev.bearer.<jwt>` (clients without an Origin).
   */
  auth: 'message' | 'subprotocol';
  WebSocket: typeof WebSocket;
  onUnauthorized(message: string): void;
}

export interface OpenedSocket {
  ws: WebSocket;
  /** Resolves once the server confirmed the token (or started streaming). */
  authed: Promise<void>;
}

/**
 * Open a socket, authenticate, answer pings; frames after auth go to `onFrame`. Session sockets pass
 * `lastSeq`: streaming starts at auth, so where to resume rides in the auth message (or, with header
 * auth, in the URL — a seq, not a secret).
 */
export function openSocket(
  options: SocketOptions,
  path: string,
  onFrame: (frame: ServerFrame) => void,
  onClose: (ev: CloseEvent) => void,
  lastSeq?: () => number,
): OpenedSocket {
  const byHeader = options.auth === 'subprotocol';
  // Session sockets (those that resume) take output as binary frames: never JSON-escaped on the way.
  const session = lastSeq !== undefined;
  const resume = resumeFrom(lastSeq?.());
  const query = [
    ...(byHeader && resume.last_seq !== undefined ? [`last_seq=${resume.last_seq}`] : []),
    ...(byHeader && session ? ['binary=1'] : []),
  ];
  const url = options.wsBase + path + (query.length > 0 ? `?${query.join('&')}` : '');
  const ws = byHeader
    ? new options.WebSocket(url, [`${TOKEN_SUBPROTOCOL_PREFIX}${options.token}`])
    : new options.WebSocket(url);
  ws.binaryType = 'arraybuffer';
  let authed = false;
  let authedResolve: () => void = () => {};
  const authedPromise = new Promise<void>((resolve) => {
    authedResolve = resolve;
  });
  if (!byHeader)
    ws.addEventListener('open', () =>
      ws.send(envelope('auth', { token: options.token, ...resume, ...(session ? { binary: true } : {}) })),
    );
  ws.addEventListener('message', (ev: MessageEvent) => {
    const frame = ev.data instanceof ArrayBuffer ? outputFrame(ev.data) : parseFrame(ev.data);
    if (!frame) return;
    if (frame.type === 'ping') {
      ws.send(envelope('pong', {}));
      return;
    }
    if (!authed && (frame.type === 'auth' || frame.type === 'output' || frame.type === 'snapshot')) {
      authed = true;
      authedResolve();
      if (frame.type === 'auth') return;
    }
    onFrame(frame);
  });
  ws.addEventListener('close', (ev: CloseEvent) => {
    if (ev.code === WS_CLOSE.UNAUTHORIZED || ev.code === WS_CLOSE.TOKEN_EXPIRED)
      options.onUnauthorized(ev.reason || 'The token was refused or has expired.');
    onClose(ev);
  });
  return { ws, authed: authedPromise };
}

/** A viewer with output on screen resumes after it; a fresh one asks for the current screen. */
function resumeFrom(lastSeq: number | undefined): { last_seq?: number } {
  return lastSeq !== undefined && lastSeq > 0 ? { last_seq: lastSeq } : {};
}

const utf8 = new TextDecoder('utf-8');

/** A binary output frame as the `output` message it stands for (one native decode, no JSON). */
function outputFrame(buffer: ArrayBuffer): ServerFrame | null {
  const frame = decodeOutputFrame(new Uint8Array(buffer));
  if (!frame) return null;
  return { type: 'output', data: { seq: frame.seq, output: utf8.decode(frame.bytes) } };
}
