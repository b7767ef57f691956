import assert from 'node:assert/strict';
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

/** Issue 10 on the WebSocket: seed clients see everything after auth; who sets the size; no silent drops. */

test('a seed-protocol client sees the output of its own first command, without resume or snapshot handling', async (t) => {
  const ts = await startTestServer(t);
  const session = await ts.createShell();
  await until(() => ts.core.sessions.get(session.session_id)!.last_seq > 0, 20_000, 'the prompt');
  const client = new TestClient(sessionWsUrl(ts.server, session.session_id), { origin: ts.origin });
  await client.opened;
  // The 8 seed message types only: auth, then a command at once. No resume; `snapshot` is ignored.
  client.auth(await ts.token('control'));
  client.send({
    type: 'command',
    session_id: session.session_id,
    data: { command: 'echo seed-$((40+2))-first' },
  });
  await client.waitFor(() => client.output().text.includes('seed-42-first'), 20_000, 'the echo as output');
  // The echo of the command line itself came as `output` too (it was printed right after auth).
  assert.match(client.output().text, /echo seed-\$\(\(40\+2\)\)-first/);
  const status = client.messages.find((m) => m.type === 'status');
  assert.equal(status?.data.connected, true);
  assert.equal(typeof status?.data.last_activity, 'number');
  assert.ok(Math.abs(status.data.last_activity - Date.now() / 1000) < 60, 'epoch seconds');
  assert.equal(status?.data.state !== undefined, true);
  client.close();
});

test('two viewers of different sizes: the PTY follows the one in use; read-only viewers never resize', async (t) => {
  const ts = await startTestServer(t);
  const session = await ts.createShell();
  const id = session.session_id;
  const desk = await openViewer(ts, id);
  const phone = await openViewer(ts, id);
  const reader = await openViewer(ts, id, { token: await ts.token('read') });
  const size = () => {
    const s = ts.core.sessions.get(id)!;
    return `${s.cols}x${s.rows}`;
  };
  desk.send({ type: 'resize', data: { cols: 150, rows: 40 } });
  await until(() => size() === '150x40', 5000, 'desktop size');
  phone.send({ type: 'resize', data: { cols: 44, rows: 30 } });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(size(), '150x40', 'a viewer that is not in use only records its size');
  // The phone's user types: the phone is in use now, and the other viewers are told the new size.
  const before = desk.messages.length;
  phone.send({ type: 'input', data: { data: ' ' } });
  await until(() => size() === '44x30', 5000, 'phone size');
  await desk.waitFor(
    () =>
      desk.messages
        .slice(before)
        .find((m) => m.type === 'status' && m.data.cols === 44 && m.data.rows === 30),
    5000,
    'status with the new size',
  );
  desk.send({ type: 'focus', data: {} });
  await until(() => size() === '150x40', 5000, 'back to the desktop size');
  reader.send({ type: 'resize', data: { cols: 20, rows: 10 } });
  await reader.waitFor(
    () => reader.messages.find((m) => m.type === 'error' && m.data.error_code === 'FORBIDDEN'),
    5000,
    'refusal',
  );
  reader.send({ type: 'focus', data: {} });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(size(), '150x40');
  for (const c of [desk, phone, reader]) c.close();
});

test('a command the agent never takes is answered with COMMAND_NOT_SUBMITTED', async (t) => {
  const ts = await startTestServer(t, {
    providers: {
      gem: {
        name: 'Gemini-like',
        binary: process.execPath,
        interactive_args: [path.join(repoRoot, 'test/fixtures/agents/fake-gemini.mjs')],
        bracketed_paste: true,
        submit: { enter_delay_ms: 30, timeout_ms: 500 },
        stability_ms: 400,
      },
    },
  });
  const created = await ts.api('POST', '/cli/sessions', {
    body: { cli_tool: 'gem', env: { FAKE_PASTE_GUARD_MS: 'always' } },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.session.session_id as string;
  const viewer = await openViewer(ts, id);
  await viewer.waitFor(() => viewer.output().text.includes('Type your message'), 20_000, 'composer');
  viewer.send({ type: 'command', data: { command: 'hello there' } });
  const error = await viewer.waitFor(
    () => viewer.messages.find((m) => m.type === 'error' && m.data.error_code === 'COMMAND_NOT_SUBMITTED'),
    10_000,
    'the refusal',
  );
  assert.match(error.data.error, /stayed in the input/);
  viewer.close();
});

test('viewers that ask for binary frames get output as bytes with seqs; JSON viewers see the same output', async (t) => {
  const ts = await startTestServer(t);
  const session = await ts.createShell();
  const id = session.session_id;
  const json = await openViewer(ts, id);
  const binary = new TestClient(sessionWsUrl(ts.server, id), { origin: ts.origin });
  await binary.opened;
  binary.send({ type: 'auth', data: { token: await ts.token('control'), last_seq: 0, binary: true } });
  const header = new TestClient(`${sessionWsUrl(ts.server, id)}?binary=1&last_seq=0`, {
    protocols: [`autodev.bearer.${await ts.token('read')}`],
  });
  await header.opened;
  for (const c of [json, binary, header]) await c.waitForType('status');
  json.send({
    type: 'command',
    data: { command: 'for i in $(seq 1 300); do echo ünïcødé-$i-✓; done; echo bin-$((40+2))' },
  });
  for (const c of [json, binary, header])
    await c.waitFor(() => c.output().text.includes('bin-42'), 20_000, 'the end marker');
  const outputs = (c: TestClient) => c.messages.filter((m) => m.type === 'output');
  assert.ok(
    outputs(binary).every((m) => m.data.binary === true),
    'binary frames only',
  );
  assert.ok(outputs(header).every((m) => m.data.binary === true));
  assert.ok(outputs(json).every((m) => m.data.binary === undefined));
  const upTo = (c: TestClient, seq: number) =>
    outputs(c)
      .filter((m) => m.data.seq <= seq)
      .map((m) => m.data.output)
      .join('');
  const last = Math.min(...[json, binary, header].map((c) => outputs(c).at(-1)!.data.seq));
  assert.equal(upTo(binary, last), upTo(json, last), 'the same bytes, multi-byte characters intact');
  assert.equal(upTo(header, last), upTo(json, last));
  assert.match(upTo(binary, last), /ünïcødé-300-✓/);
  for (const c of [json, binary, header]) assert.equal(seqProblem(outputs(c).map((m) => m.data.seq)), null);
  for (const c of [json, binary, header]) c.close();
});
