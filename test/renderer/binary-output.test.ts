import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TerminalAttachment, TerminalHandlers } from '../../src-shared/api.ts';
import { encodeOutputFrame } from '../../src-shared/ws-protocol.ts';
import { loadRenderer } from './helpers/renderer.ts';

const { attachTerminal } = await loadRenderer<{
  attachTerminal(
    options: unknown,
    sessionId: string,
    handlers: TerminalHandlers,
    opts: { lastSeq?: number },
  ): TerminalAttachment;
}>('api/remote/terminal-socket.ts');

/** Issue 13: the dashboard asks for binary output frames and reads them (no JSON-escaped output). */
class FakeSocket extends EventTarget {
  static last: FakeSocket | null = null;
  readyState = 0;
  binaryType = 'blob';
  sent: string[] = [];
  readonly url: string;
  readonly protocols: string[] | undefined;
  constructor(url: string, protocols?: string[]) {
    super();
    this.url = url;
    this.protocols = protocols;
    FakeSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.dispatchEvent(new Event('open'));
    });
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {}
  receive(data: string | ArrayBuffer) {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
}

const options = (auth: 'message' | 'subprotocol') => ({
  wsBase: 'ws://127.0.0.1:1',
  token: 'tok',
  auth,
  WebSocket: FakeSocket as unknown as typeof WebSocket,
  onUnauthorized() {},
});

test('a terminal view asks for binary output and decodes it (multi-byte characters intact)', async () => {
  const seen: [number, string][] = [];
  const attachment = attachTerminal(
    options('message'),
    's1',
    {
      onOutput: (seq, data, parsed) => {
        seen.push([seq, data]);
        parsed();
      },
      onSnapshot() {},
      onStatus() {},
      onError() {},
    },
    { lastSeq: 4 },
  );
  await new Promise((r) => setTimeout(r, 0));
  const ws = FakeSocket.last!;
  assert.equal(ws.binaryType, 'arraybuffer');
  const auth = JSON.parse(ws.sent[0]!);
  assert.deepEqual(auth.data, { token: 'tok', last_seq: 4, binary: true });
  ws.receive(JSON.stringify({ type: 'auth', data: { ok: true } }));
  const bytes = new TextEncoder().encode('héllo ✓ 🚀\r\n');
  const frame = encodeOutputFrame(5, Date.now(), bytes);
  ws.receive(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer);
  assert.deepEqual(seen, [[5, 'héllo ✓ 🚀\r\n']]);
  attachment.detach();
});

test('with header auth the binary request rides in the URL', async () => {
  const attachment = attachTerminal(
    options('subprotocol'),
    's1',
    {
      onOutput() {},
      onSnapshot() {},
      onStatus() {},
      onError() {},
    },
    { lastSeq: 9 },
  );
  const ws = FakeSocket.last!;
  assert.match(ws.url, /\/cli\/session\/s1\/ws\?last_seq=9&binary=1$/);
  assert.deepEqual(ws.protocols, ['autodev.bearer.tok']);
  attachment.detach();
});
