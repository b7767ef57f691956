import { type ClientMessage, WS_CLOSE } from '../../../../src-shared/ws-protocol.ts';

/** The wire format of the dashboard's sockets: envelopes out, tolerant frame parsing in. */
export interface ServerFrame {
  type: string;
  session_id?: string;
  data: unknown;
}

/** Closes after which reconnecting is pointless. */
export const FATAL_CLOSES: ReadonlySet<number> = new Set([
  WS_CLOSE.UNAUTHORIZED,
  WS_CLOSE.TOKEN_EXPIRED,
  WS_CLOSE.FORBIDDEN,
  WS_CLOSE.NOT_FOUND,
  WS_CLOSE.POLICY,
]);

let messageCounter = 0;
export function envelope<T extends ClientMessage['type']>(type: T, data: unknown): string {
  messageCounter += 1;
  return JSON.stringify({
    type,
    data,
    timestamp: new Date().toISOString(),
    message_id: `ui-${Date.now().toString(36)}-${messageCounter}`,
  });
}

export function parseFrame(raw: unknown): ServerFrame | null {
  if (typeof raw !== 'string') return null;
  try {
    const value = JSON.parse(raw) as unknown;
    if (value && typeof value === 'object' && typeof (value as ServerFrame).type === 'string')
      return value as ServerFrame;
  } catch {
    // A malformed frame is ignored, never fatal.
  }
  return null;
}

/** A sentence for a close code, for people (never a raw code alone). */
export function closeText(code: number): string {
  switch (code) {
    case WS_CLOSE.UNAUTHORIZED:
      return 'The server refused the token.';
    case WS_CLOSE.TOKEN_EXPIRED:
      return 'The token has expired.';
    case WS_CLOSE.FORBIDDEN:
      return 'This token may not open this session.';
    case WS_CLOSE.NOT_FOUND:
      return 'The session no longer exists.';
    default:
      return `Connection closed (${code}).`;
  }
}

export function closeErrorCode(code: number): string {
  if (code === WS_CLOSE.NOT_FOUND) return 'NOT_FOUND';
  if (code === WS_CLOSE.FORBIDDEN) return 'FORBIDDEN';
  if (code === WS_CLOSE.POLICY) return 'POLICY';
  return 'UNAUTHORIZED';
}
