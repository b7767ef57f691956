import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { decodeOutputFrame } from '../../src-shared/ws-protocol.ts';
import { fixture, type Serve, startServe, tempDir, until } from '../pty-host/helpers.ts';
import { seqProblem } from './harness.ts';

/**
 * Issue 13, byte-complete at the client and in history: what an agent printed is what every viewer
 * receives and what history stores, byte for byte, through the whole path — agent → PTY (in the PTY
 * host process) → host batching and framing → core → WebSocket (binary frames and JSON) → client, and
 * core → redacting spool → ingest worker → SQLite → REST.
 *
 * The agent (fixtures/agents/proc-bytes.mjs) prints 8 MB of pseudo-random text mixing ASCII, é, 日本,
 * emoji, ZWJ sequences and colour codes, cut into writes at random byte offsets (many inside a
 * multi-byte character, some with a pause between the halves of a character), and copies every byte
 * it writes to a file. It runs `stty raw -echo` first: with output post-processing off (-opost) the
 * line discipline passes its bytes through unchanged (no \n→\r\n), and nothing we type is echoed. So
 * the comparison below is exact, with no normalisation on either side: the sha256 of the file must
 * equal the sha256 of the bytes each viewer got and of the raw output history returns.
 */

const TOTAL_BYTES = 8 * 1024 * 1024;
const END_MARKER = '[proc-bytes done:';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Where two byte strings first differ, with a little of each around it (for a readable failure). */
function firstDifference(expected: Buffer, actual: Buffer): string {
  const n = Math.min(expected.length, actual.length);
  let i = 0;
  while (i < n && expected[i] === actual[i]) i++;
  const around = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, i - 40), i + 40).toString('utf8'));
  return `lengths ${expected.length} (printed) vs ${actual.length} (received); first difference at byte ${i}: printed ${around(expected)} received ${around(actual)}`;
}

/** A viewer that keeps exactly what arrived: binary frames as bytes, JSON output as text. */
class Viewer {
  readonly ws: WebSocket;
  readonly chunks: { seq: number; bytes: Buffer }[] = [];
  /** Every non-output message (auth, status, snapshot, error…). */
  readonly messages: { type: string; data: unknown }[] = [];
  private _tail = '';
  private _closed = false;

  constructor(serve: Serve, sessionId: string, binary: boolean) {
    this.ws = new WebSocket(`${serve.url.replace(/^http/, 'ws')}/cli/session/${sessionId}/ws`, {
      origin: serve.url,
    });
    this.ws.on('open', () =>
      this.ws.send(
        JSON.stringify({
          type: 'auth',
          data: { token: serve.token('control'), last_seq: 0, ...(binary ? { binary: true } : {}) },
        }),
      ),
    );
    this.ws.on('message', (raw: Buffer, isBinary) => {
      if (isBinary) {
        const frame = decodeOutputFrame(new Uint8Array(raw));
        assert.ok(frame, 'a binary message is an output frame');
        this._add(frame.seq, Buffer.from(frame.bytes));
        return;
      }
      const message = JSON.parse(raw.toString('utf8'));
      if (message.type === 'output') this._add(message.data.seq, Buffer.from(message.data.output, 'utf8'));
      else this.messages.push({ type: message.type, data: message.data });
    });
    this.ws.on('close', () => {
      this._closed = true;
    });
    this.ws.on('error', () => {});
  }

  private _add(seq: number, bytes: Buffer): void {
    this.chunks.push({ seq, bytes });
    this._tail = (this._tail + bytes.toString('latin1')).slice(-256);
  }

  get closed(): boolean {
    return this._closed;
  }
  /** The end marker has arrived (bytes are compared as latin1 here: the marker is ASCII). */
  get done(): boolean {
    return this._tail.includes(END_MARKER) && this._tail.endsWith('\r\n');
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.bytes));
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
  close(): void {
    this.ws.terminate();
  }
}

/** The session's stored output, every page, as REST returns it with `raw=1` (ANSI kept). */
async function history(serve: Serve, id: string) {
  const rows: { seq_start: number; seq_end: number; output: string }[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await serve.api(
      'GET',
      `/cli/sessions/${id}/history?message_type=output&raw=1&limit=1000&offset=${offset}`,
    );
    assert.equal(page.status, 200, JSON.stringify(page.body));
    rows.push(...(page.body as typeof rows));
    if ((page.body as unknown[]).length < 1000) break;
  }
  rows.sort((a, b) => a.seq_start - b.seq_start);
  return { bytes: Buffer.from(rows.map((r) => r.output).join(''), 'utf8'), rows };
}

test('8 MB of multi-byte output reaches a binary and a JSON viewer and history byte for byte, seqs gap-free', async (t) => {
  const dir = tempDir(t, 'autodev-bytes-');
  const teeFile = path.join(dir, 'printed.bin');
  mkdirSync(path.join(dir, '.autodev'), { recursive: true });
  writeFileSync(
    path.join(dir, '.autodev', 'providers.yaml'),
    JSON.stringify({
      providers: {
        bytes: {
          name: 'Byte printer',
          binary: process.execPath,
          interactive_args: [fixture('proc-bytes.mjs'), teeFile, String(TOTAL_BYTES), '13'],
          stability_ms: 500,
        },
      },
    }),
  );
  // HOME is the temp data dir (helpers.cleanEnv): no user shell start-up files anywhere near this.
  const serve = await startServe(t, dir);
  const created = await serve.api('POST', '/cli/sessions', { cli_tool: 'bytes', cols: 120, rows: 30 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.session.session_id as string;

  // Both viewers replay from seq 1 (last_seq 0) and are streaming before the flood starts.
  const binary = new Viewer(serve, id, true);
  const json = new Viewer(serve, id, false);
  t.after(() => {
    binary.close();
    json.close();
  });
  for (const v of [binary, json])
    await until(() => v.text.includes('proc-bytes ready'), 20_000, 'the agent ready (terminal raw)');
  json.ws.send(JSON.stringify({ type: 'input', data: { data: 'g' } }));

  const started = Date.now();
  await until(() => (binary.done && json.done) || binary.closed || json.closed, 45_000, 'the end marker');
  const floodMs = Date.now() - started;
  const printed = readFileSync(teeFile);
  assert.ok(printed.length > TOTAL_BYTES, `the agent printed ${printed.length} bytes`);
  const expected = sha256(printed);

  for (const [name, v] of [
    ['binary', binary],
    ['json', json],
  ] as const) {
    assert.equal(v.closed, false, `${name} viewer still connected`);
    const types = v.messages.map((m) => m.type);
    assert.ok(!types.includes('snapshot'), `${name}: no snapshot stood in for output (${types.join(',')})`);
    assert.ok(!types.includes('error'), `${name}: no error ${JSON.stringify(v.messages)}`);
    const seqs = v.chunks.map((c) => c.seq);
    assert.equal(seqs[0], 1, `${name}: from the first chunk`);
    assert.equal(seqProblem(seqs), null, `${name}: seqs contiguous, no gap or duplicate`);
    const got = v.bytes;
    assert.equal(sha256(got), expected, `${name}: ${firstDifference(printed, got)}`);
  }
  assert.deepEqual(
    json.chunks.map((c) => c.seq),
    binary.chunks.map((c) => c.seq),
    'both viewers got the same chunks',
  );
  const lastSeq = binary.chunks.at(-1)!.seq;

  // History (raw: as recorded, ANSI kept) holds the same bytes within a few seconds, in contiguous rows.
  const floodEnd = Date.now();
  let stored = await history(serve, id);
  const storedBy = floodEnd + 10_000;
  while (sha256(stored.bytes) !== expected && Date.now() < storedBy) {
    await new Promise((r) => setTimeout(r, 250));
    stored = await history(serve, id);
  }
  assert.equal(sha256(stored.bytes), expected, `history: ${firstDifference(printed, stored.bytes)}`);
  const storedMs = Date.now() - floodEnd;
  assert.equal(stored.rows[0]!.seq_start, 1);
  for (let i = 1; i < stored.rows.length; i++)
    assert.equal(
      stored.rows[i]!.seq_start,
      stored.rows[i - 1]!.seq_end + 1,
      `history rows contiguous at ${stored.rows[i]!.seq_start}`,
    );
  assert.equal(stored.rows.at(-1)!.seq_end, lastSeq, 'history ends at the last seq the viewers got');
  t.diagnostic(
    `${printed.length} bytes in ${lastSeq} chunks, ${stored.rows.length} history rows; flood ${floodMs} ms, history complete ${storedMs} ms after the checks`,
  );
});
