import { FRAME_DATA, FRAME_JSON, MAX_FRAME_BYTES } from '../../../src-shared/pty-host-protocol.ts';

/**
 * Length-prefixed frames of the PTY host socket (see src-shared/pty-host-protocol.ts):
 * `u32 length | u8 kind | payload`, length counting kind + payload.
 */
export interface DataFrame {
  session_id: string;
  seq: number;
  at: number;
  data: string;
  /** The UTF-8 bytes as they arrived (decoded frames only): passed on to binary viewers as is. */
  bytes?: Uint8Array;
}

export function encodeJson(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame.writeUInt32BE(body.length + 1, 0);
  frame.writeUInt8(FRAME_JSON, 4);
  body.copy(frame, 5);
  return frame;
}

export function encodeData(chunk: DataFrame): Buffer {
  const id = Buffer.from(chunk.session_id, 'utf8');
  const dataBytes = chunk.bytes ? chunk.bytes.length : Buffer.byteLength(chunk.data, 'utf8');
  const length = 1 + 2 + id.length + 16 + dataBytes;
  const frame = Buffer.allocUnsafe(4 + length);
  let o = frame.writeUInt32BE(length, 0);
  o = frame.writeUInt8(FRAME_DATA, o);
  o = frame.writeUInt16BE(id.length, o);
  o += id.copy(frame, o);
  o = frame.writeDoubleBE(chunk.seq, o);
  o = frame.writeDoubleBE(chunk.at, o);
  if (chunk.bytes) frame.set(chunk.bytes, o);
  else frame.write(chunk.data, o, 'utf8');
  return frame;
}

export type Frame = { kind: 'json'; message: unknown } | { kind: 'data'; chunk: DataFrame };

/**
 * Incremental decoder: feed socket chunks, get whole frames. A frame over MAX_FRAME_BYTES or of an
 * unknown kind is a protocol error (the caller closes the socket): a peer cannot make us buffer
 * without bound.
 */
export class FrameDecoder {
  private _chunks: Buffer[] = [];
  private _length = 0;
  /** Bytes needed before the next frame can be decoded (its header, then the whole frame): a big
   *  frame arriving in many pieces is joined once, not once per piece. */
  private _need = 4;

  push(chunk: Buffer): Frame[] {
    this._chunks.push(chunk);
    this._length += chunk.length;
    if (this._length < this._need) return [];
    const buffer = this._chunks.length === 1 ? chunk : Buffer.concat(this._chunks, this._length);
    const frames: Frame[] = [];
    let offset = 0;
    this._need = 4;
    while (buffer.length - offset >= 4) {
      const size = buffer.readUInt32BE(offset);
      if (size < 1 || size > MAX_FRAME_BYTES) throw new Error(`frame of ${size} bytes refused`);
      if (buffer.length - offset < 4 + size) {
        this._need = 4 + size;
        break;
      }
      frames.push(decodeFrame(buffer.subarray(offset + 4, offset + 4 + size)));
      offset += 4 + size;
    }
    const rest = buffer.subarray(offset);
    this._chunks = rest.length > 0 ? [rest] : [];
    this._length = rest.length;
    return frames;
  }
}

function decodeFrame(frame: Buffer): Frame {
  const kind = frame.readUInt8(0);
  if (kind === FRAME_JSON) return { kind: 'json', message: JSON.parse(frame.toString('utf8', 1)) };
  if (kind === FRAME_DATA) {
    const idLength = frame.readUInt16BE(1);
    let o = 3;
    const session_id = frame.toString('utf8', o, o + idLength);
    o += idLength;
    const seq = frame.readDoubleBE(o);
    const at = frame.readDoubleBE(o + 8);
    const bytes = frame.subarray(o + 16);
    return { kind: 'data', chunk: { session_id, seq, at, data: bytes.toString('utf8'), bytes } };
  }
  throw new Error(`unknown frame kind ${kind}`);
}
