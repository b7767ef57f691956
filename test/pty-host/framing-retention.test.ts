import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { encodeData, encodeJson, FrameDecoder } from '../../src-main/core/pty-host/framing.ts';
import { PtyHostClient } from '../../src-main/core/pty-host/host-client.ts';
import { OutputRetention } from '../../src-main/core/pty-host/retention.ts';
import { MAX_FRAME_BYTES, PTY_HOST_PROTOCOL_VERSION } from '../../src-shared/pty-host-protocol.ts';

test('frames survive any split: byte by byte, many per read, a big one in many pieces', () => {
  const frames = [
    encodeJson({ id: 1, method: 'list', params: {} }),
    encodeData({ session_id: 's-1', seq: 7, at: 1234.5, data: 'héllo \x1b[31mwörld\x1b[0m ✓ 🚀' }),
    encodeData({ session_id: 's-2', seq: 2 ** 40, at: Date.now(), data: 'x'.repeat(3_000_000) }),
    encodeJson({ event: 'exit', session_id: 's-1' }),
  ];
  const all = Buffer.concat(frames);
  for (const piece of [1, 7, 4096, 65_536, all.length]) {
    const decoder = new FrameDecoder();
    const out = [];
    for (let i = 0; i < all.length; i += piece) out.push(...decoder.push(all.subarray(i, i + piece)));
    assert.equal(out.length, 4, `piece ${piece}`);
    assert.deepEqual(out[0], { kind: 'json', message: { id: 1, method: 'list', params: {} } });
    const { bytes, ...chunk } = out[1]?.kind === 'data' ? out[1].chunk : { bytes: undefined };
    assert.deepEqual(chunk, {
      session_id: 's-1',
      seq: 7,
      at: 1234.5,
      data: 'héllo \x1b[31mwörld\x1b[0m ✓ 🚀',
    });
    assert.equal(
      Buffer.from(bytes ?? []).toString('utf8'),
      'héllo \x1b[31mwörld\x1b[0m ✓ 🚀',
      'bytes kept as they came',
    );
    assert.equal(out[2]?.kind === 'data' && out[2].chunk.data.length, 3_000_000);
    assert.equal(out[2]?.kind === 'data' && out[2].chunk.seq, 2 ** 40);
  }
});

test('a frame over the limit or of an unknown kind is refused, never buffered', () => {
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
  assert.throws(() => new FrameDecoder().push(huge), /refused/);
  const unknown = Buffer.from([0, 0, 0, 2, 9, 0]);
  assert.throws(() => new FrameDecoder().push(unknown), /unknown frame kind/);
});

const chunk = (seq: number, data = `chunk-${seq};`) => ({ session_id: 's', seq, data, at: seq });

test('retention keeps what the core has not acked: memory, then a 0600 spool, dropped past its cap', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-retention-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spoolPath = path.join(dir, 's.spool');
  const r = new OutputRetention({ spoolPath, memoryChars: 100, maxSpoolBytes: 10_000 });
  for (let seq = 1; seq <= 60; seq++) r.append(chunk(seq));
  assert.ok(existsSync(spoolPath), 'past the memory bound the oldest output went to the spool');
  assert.equal(statSync(spoolPath).mode & 0o777, 0o600);
  assert.deepEqual(
    r.readAfter(0).map((c) => c.seq),
    Array.from({ length: 60 }, (_, i) => i + 1),
    'everything, in order, from spool and memory',
  );
  assert.deepEqual(
    r.readAfter(41).map((c) => c.seq),
    Array.from({ length: 19 }, (_, i) => i + 42),
  );
  r.ack(30);
  assert.deepEqual(r.readAfter(0)[0]?.seq, 31, 'acked output is forgotten');
  r.ack(60);
  assert.equal(existsSync(spoolPath), false, 'the spool goes once all of it is acked');
  assert.deepEqual(r.readAfter(0), []);
  assert.equal(r.droppedThrough, 0);

  const small = new OutputRetention({
    spoolPath: path.join(dir, 'small.spool'),
    memoryChars: 50,
    maxSpoolBytes: 300,
  });
  for (let seq = 1; seq <= 200; seq++) small.append(chunk(seq));
  assert.ok(small.droppedThrough > 0, 'over the cap the oldest output is dropped and said so');
  const kept = small.readAfter(0).map((c) => c.seq);
  assert.equal(kept[0], small.droppedThrough + 1, 'what is kept starts right after the dropped range');
  assert.equal(kept.at(-1), 200);
  small.dispose();
  assert.equal(existsSync(path.join(dir, 'small.spool')), false);
});

test('client: a host that stops before answering `shutdown` has shut down; a refusal on an open socket is still an error', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-fake-host-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'host.sock');
  // A fake host: answers hello; refuses the first shutdown (sessions running); closes on the second.
  let shutdowns = 0;
  const server = net.createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on('data', (data) => {
      for (const frame of decoder.push(data)) {
        if (frame.kind !== 'json') continue;
        const { id, method } = frame.message as { id: number; method: string };
        if (method === 'hello')
          socket.write(
            encodeJson({
              id,
              ok: true,
              result: {
                protocol: PTY_HOST_PROTOCOL_VERSION,
                host_version: 'test',
                pid: process.pid,
                started_at: new Date().toISOString(),
                sessions: [],
              },
            }),
          );
        else if (method === 'shutdown' && ++shutdowns === 1)
          socket.write(
            encodeJson({ id, ok: false, error: { message: '1 sessions are running; shutdown needs force' } }),
          );
        else socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => server.close());
  const client = await PtyHostClient.connect(
    {
      socket: socketPath,
      secret: 's',
      pid: process.pid,
      host_version: 'test',
      protocol: PTY_HOST_PROTOCOL_VERSION,
      started_at: new Date().toISOString(),
    },
    { logger: createLogger({ level: 'error', sink: () => {} }), client: 'test' },
  );
  await assert.rejects(client.shutdown(false), /sessions are running/);
  await client.shutdown(true); // the host closed the socket instead of answering: resolved
  assert.equal(client.connected, false);
});
