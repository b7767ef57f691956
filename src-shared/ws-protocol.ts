import { z } from 'zod';
import type { ConversationTurnEvent } from './conversation.ts';
import type { SessionInfo, SessionInfoSchema } from './session.ts';
import type { BudgetEvent, SessionUsage } from './usage.ts';
import type { ChangesSummary } from './worktrees.ts';

/**
 * WebSocket protocol for `/cli/session/{id}/ws` and `/cli/events/ws`.
 * Envelope as in the seed documents: `{type, session_id, data, timestamp, message_id}`.
 */

export const MAX_WS_PAYLOAD_BYTES = 64 * 1024;

/**
 * Binary output frames, for viewers that ask for them (`auth.data.binary`, or `?binary=1` with header
 * auth): output is the hot path and is never JSON-escaped then. Layout: `u8 OUTPUT_FRAME | f64 seq
 * (big-endian) | f64 at (epoch ms) | the output's UTF-8 bytes`. Everything else stays JSON.
 */
export const OUTPUT_FRAME = 1;
export const OUTPUT_FRAME_HEADER_BYTES = 17;

export function encodeOutputFrame(seq: number, at: number, bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(OUTPUT_FRAME_HEADER_BYTES + bytes.length);
  const view = new DataView(frame.buffer);
  view.setUint8(0, OUTPUT_FRAME);
  view.setFloat64(1, seq);
  view.setFloat64(9, at);
  frame.set(bytes, OUTPUT_FRAME_HEADER_BYTES);
  return frame;
}

export function decodeOutputFrame(frame: Uint8Array): { seq: number; at: number; bytes: Uint8Array } | null {
  if (frame.length < OUTPUT_FRAME_HEADER_BYTES || frame[0] !== OUTPUT_FRAME) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return {
    seq: view.getFloat64(1),
    at: view.getFloat64(9),
    bytes: frame.subarray(OUTPUT_FRAME_HEADER_BYTES),
  };
}
export const TOKEN_SUBPROTOCOL_PREFIX = 'autodev.bearer.';
/** Close codes beyond the RFC ones. */
export const WS_CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  TOKEN_EXPIRED: 4408,
} as const;

const envelope = {
  session_id: z.string().max(128).optional(),
  timestamp: z.string().max(64).optional(),
  message_id: z.string().max(128).optional(),
};

/** Messages a client may send. Unknown types are answered with an `error` message, never a crash. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('auth'),
    data: z.object({
      token: z.string().min(1).max(8192),
      /** Resume after this output seq (a reconnecting viewer); without it the viewer gets the current
       *  screen and then every later byte. Streaming starts at auth either way. */
      last_seq: z.number().int().min(0).optional(),
      /** Output as binary frames (see OUTPUT_FRAME) instead of JSON `output` messages. */
      binary: z.boolean().optional(),
    }),
    ...envelope,
  }),
  z.object({
    type: z.literal('command'),
    data: z.object({
      command: z.string().max(100_000),
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
    ...envelope,
  }),
  z.object({ type: z.literal('input'), data: z.object({ data: z.string().max(60_000) }), ...envelope }),
  z.object({
    type: z.literal('resize'),
    data: z.object({ cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(500) }),
    ...envelope,
  }),
  /** This viewer is the one in use: its last `resize` becomes the PTY size (control scope only). */
  z.object({ type: z.literal('focus'), data: z.object({}).passthrough().default({}), ...envelope }),
  z.object({ type: z.literal('cancel'), data: z.object({}).passthrough().default({}), ...envelope }),
  z.object({ type: z.literal('ping'), data: z.object({}).passthrough().default({}), ...envelope }),
  z.object({ type: z.literal('pong'), data: z.object({}).passthrough().default({}), ...envelope }),
  z.object({
    type: z.literal('resume'),
    data: z.object({ last_seq: z.number().int().min(0) }),
    ...envelope,
  }),
  /** Acknowledge output characters after the terminal parsed them (flow control for trusted viewers). */
  z.object({ type: z.literal('ack'), data: z.object({ chars: z.number().int().min(0) }), ...envelope }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];

export interface OutputMessageData {
  seq: number;
  output: string;
  output_type: 'stdout';
  /** Epoch seconds, as in the seed documents. */
  timestamp: number;
}

export interface SnapshotMessageData {
  /** The screen (serialized headless terminal) as of output `seq`; live output continues at seq + 1. */
  seq: number;
  screen: string;
  cols: number;
  rows: number;
  reason: 'resume-gap' | 'resync' | 'attach';
}

/**
 * `status`: the session as every boundary shows it, plus the seed protocol's fields — `connected` and
 * `last_activity` in epoch seconds (the session's ISO time moves to `last_activity_at`).
 */
export type StatusMessageData = Omit<SessionInfo, 'last_activity'> & {
  connected: true;
  last_activity: number;
  last_activity_at: string;
};

export function statusMessageData(session: SessionInfo): StatusMessageData {
  return {
    ...session,
    connected: true,
    last_activity: Date.parse(session.last_activity) / 1000,
    last_activity_at: session.last_activity,
  };
}

/** Back to the session (clients that keep SessionInfo). */
export function sessionFromStatus(data: StatusMessageData): SessionInfo {
  const { connected: _c, last_activity_at, ...rest } = data;
  return { ...rest, last_activity: last_activity_at };
}

export interface ErrorMessageData {
  error: string;
  error_code: string;
  recoverable: boolean;
}

export interface AuthOkData {
  ok: true;
  scope: TokenScope;
  user_id: string;
  expires_at: string;
}

export type ServerMessage =
  | ServerEnvelope<'output', OutputMessageData>
  | ServerEnvelope<'snapshot', SnapshotMessageData>
  | ServerEnvelope<'status', StatusMessageData>
  | ServerEnvelope<'error', ErrorMessageData>
  | ServerEnvelope<'auth', AuthOkData>
  | ServerEnvelope<'ping', Record<string, never>>
  | ServerEnvelope<'pong', Record<string, never>>
  | ServerEnvelope<'event', LiveEvent>;

export interface ServerEnvelope<T extends string, D> {
  type: T;
  session_id?: string;
  data: D;
  timestamp: string;
  message_id: string;
}

export type TokenScope = 'read' | 'control';

/** `/cli/events/ws`: the live session list (and task progress) so dashboards never poll. */
export type LiveEvent =
  | { kind: 'session_created'; session: z.infer<typeof SessionInfoSchema> }
  | { kind: 'session_state'; session: z.infer<typeof SessionInfoSchema> }
  | { kind: 'session_exited'; session: z.infer<typeof SessionInfoSchema> }
  | { kind: 'session_removed'; session_id: string }
  | { kind: 'task'; task: unknown }
  | { kind: 'persistence'; paused: boolean; reason: string | null }
  /** A turn of a session's conversation: queued, started, progress (API turns), ended, timeout. */
  | { kind: 'conversation'; turn: ConversationTurnEvent }
  /** A session's tokens and cost changed (read from the agent's record). */
  | { kind: 'usage'; usage: SessionUsage }
  /** A usage budget was crossed (warn, or stop: new turns are refused). */
  | { kind: 'budget'; budget: BudgetEvent }
  /** The PTY host process: connected, restarted after a crash, or given up on (with why). */
  | {
      kind: 'pty_host';
      status: {
        connected: boolean;
        pid: number | null;
        version: string | null;
        started_at: string | null;
        restarts: number;
        last_loss: string | null;
      };
    }
  /** A session's worktree changed (debounced file-system watch, or an action such as commit/merge). */
  | { kind: 'worktree_changes'; session_id: string; summary: ChangesSummary };
