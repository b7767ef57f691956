import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import {
  openViewer,
  repoRoot,
  seqProblem,
  sessionWsUrl,
  startTestServer,
  TestClient,
  until,
} from './harness.ts';

/** Prints `count` numbered lines and an end marker; the marker's digits are computed so the echo of the command line never matches. */
function flood(count: number, tag: string): string {
  return `for i in $(seq 1 ${count}); do echo ${tag}-line-$i; done; echo ${tag}-END-$((40+2))`;
}

test('five clients on one session see identical, ordered, gap-free output', async (t) => {
  const ts = await startTestServer(t, { ws: { maxConnectionsPerSession: 5 } });
  const session = await ts.createShell();
  const clients = await Promise.all(Array.from({ length: 5 }, () => openViewer(ts, session.session_id)));
  // Everyone is streaming (status + replay from 0) before the output starts.
  await Promise.all(clients.map((c) => c.waitForType('status')));
  clients[0]!.send({ type: 'command', data: { command: flood(2000, 'five') } });
  await Promise.all(
    clients.map((c) => c.waitFor(() => c.output().text.includes('five-END-42'), 60_000, 'end marker')),
  );
  const outputs = clients.map((c) => c.output());
  for (const out of outputs) {
    assert.equal(seqProblem(out.seqs), null);
    assert.equal(out.seqs[0], 1, 'replay from the first chunk');
  }
  // Identical up to the shortest (a late prompt redraw may still be in flight for some).
  const shortest = Math.min(...outputs.map((o) => o.seqs.length));
  const reference = outputs[0]!;
  for (const out of outputs.slice(1)) {
    assert.deepEqual(out.seqs.slice(0, shortest), reference.seqs.slice(0, shortest));
  }
  const texts = clients.map((c) =>
    c.messages
      .filter((m) => m.type === 'output' && m.data.seq <= reference.seqs[shortest - 1]!)
      .map((m) => m.data.output)
      .join(''),
  );
  for (const text of texts) assert.equal(text, texts[0]);
  assert.match(texts[0]!, /five-line-2000/);
  // Every message carries the envelope.
  const sample = clients[0]!.messages.find((m) => m.type === 'output')!;
  assert.equal(sample.session_id, session.session_id);
  assert.equal(typeof sample.timestamp, 'string');
  assert.equal(typeof sample.message_id, 'string');
  assert.equal(sample.data.output_type, 'stdout');

  // A sixth viewer is over the per-session cap (5 here; 16 by default): closed 1013.
  const sixth = new TestClient(sessionWsUrl(ts.server, session.session_id), { origin: ts.origin });
  await sixth.opened;
  sixth.auth(await ts.token());
  assert.equal(await sixth.waitClosed(), 1013);
  for (const c of clients) c.close();
});

test('reconnect with resume {last_seq} replays exactly the missed output', async (t) => {
  const ts = await startTestServer(t);
  const session = await ts.createShell();
  const watcher = await openViewer(ts, session.session_id);
  const first = await openViewer(ts, session.session_id);
  await first.waitForType('status');
  first.send({ type: 'command', data: { command: flood(4000, 'resume') } });
  // Kill the first client mid-stream.
  await first.waitFor(() => first.output().text.includes('resume-line-300'), 60_000, 'partial output');
  first.close();
  const partial = first.output();
  const lastSeq = partial.seqs.at(-1)!;
  assert.ok(!partial.text.includes('resume-END-42'), 'disconnected before the end');

  const second = await openViewer(ts, session.session_id, { lastSeq });
  await second.waitFor(() => second.output().text.includes('resume-END-42'), 60_000, 'end after resume');
  await watcher.waitFor(() => watcher.output().text.includes('resume-END-42'), 60_000, 'watcher end');
  const resumed = second.output();
  assert.equal(resumed.seqs[0], lastSeq + 1, 'continues right after last_seq');
  assert.equal(seqProblem([...partial.seqs, ...resumed.seqs]), null);
  assert.ok(!second.messages.some((m) => m.type === 'snapshot'), 'the ring covered the gap: no snapshot');
  const full = watcher.output();
  const upTo = resumed.seqs.at(-1)!;
  const fullText = watcher.messages
    .filter((m) => m.type === 'output' && m.data.seq <= upTo)
    .map((m) => m.data.output)
    .join('');
  assert.equal(partial.text + resumed.text, fullText);
  assert.equal(seqProblem(full.seqs), null);
  for (const i of [1, 2000, 4000]) assert.ok(fullText.includes(`resume-line-${i}\r\n`));
  watcher.close();
  second.close();
});

test('a gap older than the ring is answered with a snapshot, then live output continues', async (t) => {
  const ts = await startTestServer(t, { coreOptions: { manager: { output: { ringChars: 8 * 1024 } } } });
  const session = await ts.createShell();
  const driver = await openViewer(ts, session.session_id);
  driver.send({ type: 'command', data: { command: flood(3000, 'gap') } });
  await driver.waitFor(() => driver.output().text.includes('gap-END-42'), 60_000, 'flood end');
  assert.equal(ts.core.sessions.replay(session.session_id, 1), null, 'seq 1 has left the 8 KiB ring');

  const late = await openViewer(ts, session.session_id, { lastSeq: 1 });
  const snapshot = await late.waitForType('snapshot');
  assert.equal(snapshot.data.reason, 'resume-gap');
  assert.ok(snapshot.data.seq >= 1);
  assert.equal(snapshot.data.cols, 100);
  assert.match(snapshot.data.screen, /gap-END-42/);
  // Live output after the snapshot continues at snapshot.seq + 1.
  const from = late.messages.length;
  late.send({ type: 'command', data: { command: 'echo after-$((1+1))-snap' } });
  await late.waitFor(() => late.output().text.includes('after-2-snap'), 20_000, 'live after snapshot');
  const afterSeqs = late.messages
    .slice(from)
    .filter((m) => m.type === 'output')
    .map((m) => m.data.seq as number);
  const allAfterSnapshot = late.output().seqs;
  assert.equal(allAfterSnapshot[0], snapshot.data.seq + 1);
  assert.equal(seqProblem(allAfterSnapshot), null);
  assert.ok(afterSeqs.length > 0);
  // A last_seq from the future gets the current screen rather than silence.
  const future = await openViewer(ts, session.session_id, { lastSeq: 10_000_000 });
  const futureSnap = await future.waitForType('snapshot');
  assert.equal(futureSnap.data.reason, 'resume-gap');
  future.close();
  driver.close();
  late.close();
});

test('a client that sends no resume gets the current screen (attach snapshot) and then live output', async (t) => {
  const ts = await startTestServer(t);
  const session = await ts.createShell();
  const client = new TestClient(sessionWsUrl(ts.server, session.session_id), { origin: ts.origin });
  await client.opened;
  client.auth(await ts.token('read'));
  const snapshot = await client.waitForType('snapshot');
  assert.equal(snapshot.data.reason, 'attach');
  await until(() => ts.core.sessions.get(session.session_id)!.last_seq > 0, 20_000, 'prompt output');
  ts.core.sessions.command(session.session_id, 'echo seed-$((2+3))-client');
  await client.waitFor(() => client.output().text.includes('seed-5-client'), 20_000, 'live output');
  client.close();
});

test('a slow viewer is resynced with a snapshot; the fast viewer and the agent are unaffected', async (t) => {
  const ts = await startTestServer(t, {
    backpressure: {
      highWaterBytes: 1024 * 1024,
      lowWaterBytes: 128 * 1024,
      stuckMs: 120_000,
      drainPollMs: 20,
    },
    // The paused client cannot answer pings; keep the heartbeat out of this test.
    ws: { heartbeatMs: 600_000 },
  });
  const session = await ts.createShell();
  // The fast viewer runs in its own process, so its reading never competes with this test's event loop.
  const fastScript = `
    const WebSocket = require(${JSON.stringify(path.join(repoRoot, 'node_modules', 'ws'))});
    const [url, origin, token] = process.argv.slice(1);
    const ws = new WebSocket(url, { origin });
    let last = 0, gaps = 0, snapshots = 0, done = false;
    ws.on('open', () => { ws.send(JSON.stringify({ type: 'auth', data: { token, last_seq: 0 } })); });
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.type === 'auth') console.log('READY');
      if (m.type === 'snapshot') snapshots++;
      if (m.type !== 'output') return;
      if (m.data.seq !== last + 1) gaps++;
      last = m.data.seq;
      if (!done && m.data.output.includes('slow-END-42')) { done = true; console.log(JSON.stringify({ last, gaps, snapshots })); ws.close(); }
    });`;
  const fast = spawn(
    process.execPath,
    ['-e', fastScript, sessionWsUrl(ts.server, session.session_id), ts.origin, await ts.token('read')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => fast.kill('SIGKILL'));
  let fastOut = '';
  fast.stdout!.on('data', (c: Buffer) => {
    fastOut += c.toString();
  });
  await until(() => fastOut.includes('READY'), 20_000, 'fast viewer ready');
  const slow = await openViewer(ts, session.session_id);
  await slow.waitForType('status');
  // Stop reading on the slow client: the kernel buffers fill, then ws.bufferedAmount grows on the server.
  const raw = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  raw.pause();
  ts.core.sessions.command(
    session.session_id,
    'head -c 16000000 /dev/zero | tr "\\0" x | fold -w 200; echo slow-END-$((40+2))',
  );
  const summary = await until(() => /\{.*\}/.exec(fastOut)?.[0], 180_000, 'fast viewer end');
  const fastResult = JSON.parse(summary) as { last: number; gaps: number; snapshots: number };
  assert.deepEqual(
    [fastResult.gaps, fastResult.snapshots],
    [0, 0],
    'the fast viewer saw every chunk in order',
  );
  assert.equal(ts.core.sessions.diagnostics(session.session_id).output.paused, false, 'PTY never paused');
  raw.resume();
  const resync = await slow.waitFor(
    () => slow.messages.find((m) => m.type === 'snapshot' && m.data.reason === 'resync'),
    60_000,
    'resync snapshot',
  );
  assert.ok(resync.data.seq > 0);
  // After the resync the slow viewer's seqs are contiguous again.
  const idx = slow.messages.indexOf(resync);
  const after = slow.messages
    .slice(idx)
    .filter((m) => m.type === 'output')
    .map((m) => m.data.seq as number);
  if (after.length > 0) assert.equal(after[0], resync.data.seq + 1);
  assert.equal(seqProblem(after), null);
  const metrics = await ts.api('GET', '/metrics');
  assert.match(metrics.text, /autodev_ws_resyncs_total\{reason="resync"\} [1-9]/);
  slow.close();
});

test('/cli/events/ws streams session created, state, exited and removed', async (t) => {
  const ts = await startTestServer(t);
  const events = new TestClient(`${ts.server.wsUrl}/cli/events/ws`, { origin: ts.origin });
  await events.opened;
  events.auth(await ts.token('read'));
  await events.waitForType('auth');
  const session = await ts.createShell();
  const kinds = () => events.messages.filter((m) => m.type === 'event').map((m) => m.data.kind as string);
  await events.waitFor(() => kinds().includes('session_created'), 20_000, 'created');
  await events.waitFor(() => kinds().includes('session_state'), 20_000, 'state');
  await ts.api('DELETE', `/cli/sessions/${session.session_id}`);
  await events.waitFor(() => kinds().includes('session_exited'), 20_000, 'exited');
  ts.core.sessions.remove(session.session_id);
  await events.waitFor(() => kinds().includes('session_removed'), 20_000, 'removed');
  const created = events.messages.find((m) => m.type === 'event' && m.data.kind === 'session_created')!;
  assert.equal(created.data.session.session_id, session.session_id);
  events.close();
});
