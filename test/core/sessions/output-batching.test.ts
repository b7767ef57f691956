// The output pipeline's batch window (VS Code's TerminalDataBufferer, with a leading edge): floods go
// out in few big batches, while an echo never waits for a window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutputPipeline } from '../../../src-main/core/sessions/output-pipeline.ts';
import type { OutputChunk } from '../../../src-shared/session.ts';

function pipeline(batchMs: number) {
  const chunks: OutputChunk[] = [];
  const p = new OutputPipeline({
    sessionId: 's',
    batchMs,
    maxBatchChars: 256 * 1024,
    ringChars: 1024 * 1024,
    highWatermark: 1e9,
    lowWatermark: 1e8,
    pause: () => {},
    resume: () => {},
    onChunk: (c) => chunks.push(c),
    onConsumerError: (e) => {
      throw e;
    },
  });
  return { p, chunks };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('echoes sent back to back each go out at once, though each falls in the window the previous one opened', async () => {
  const { p, chunks } = pipeline(200);
  for (const key of 'abcde') {
    p.push(key);
    assert.equal(chunks.at(-1)?.data, key, `the echo of ${key} was emitted at once`);
    await sleep(3);
  }
  assert.equal(chunks.length, 5);
  p.close();
});

test('after a big batch, more output within the window waits for its end (a flood stays batched)', async () => {
  const { p, chunks } = pipeline(200);
  p.push('x'.repeat(4096)); // leading edge
  assert.equal(chunks.length, 1);
  await sleep(3);
  p.push('y'.repeat(4096));
  p.push('z');
  assert.equal(chunks.length, 1, 'held in the window');
  await sleep(260);
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1]?.data, `${'y'.repeat(4096)}z`);
  p.close();
});

test('tiny pieces less than a millisecond apart are batched, not sent one message each', async () => {
  const { p, chunks } = pipeline(50);
  p.push('a'); // leading edge
  for (let i = 0; i < 100; i++) p.push('b');
  assert.equal(chunks.length, 1);
  await sleep(80);
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1]?.data, 'b'.repeat(100));
  p.close();
});

test('an echo held back only by the 1 ms spacing waits out that millisecond, not the batch window', async () => {
  const { p, chunks } = pipeline(500);
  p.push('a');
  p.push('b'); // within the same millisecond: held
  assert.equal(chunks.length, 1);
  await sleep(40);
  assert.equal(chunks.length, 2, 'out long before the 500 ms window ends');
  assert.equal(chunks[1]?.data, 'b');
  p.close();
});
