import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createPassiveDetector } from '../../../src-main/core/sessions/index.ts';
import type { OutputChunk } from '../../../src-shared/session.ts';
import { collect, nodeProvider, provider, testManager, waitFor } from './helpers.ts';

function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function tempFile(t: { after(fn: () => void): void }, name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-out-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** No newlines, so the tty's ONLCR cannot change a byte: what cat writes is what must arrive. */
function payload(size: number, seed: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  let x = seed;
  while (s.length < size - 12) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += alphabet[x % alphabet.length];
  }
  return `${s}<<END-MARK>>`.slice(-size);
}

for (const size of [100_000, 1_000_000]) {
  test(`no lost tail: ${size / 1000} KB cat arrives byte-exact before the exit, 12 runs`, async (t) => {
    const content = payload(size, size);
    const file = tempFile(t, 'payload.txt', content);
    const { manager } = testManager([provider('cat', '/bin/cat', [file])], {
      detectorFactory: createPassiveDetector,
    });
    t.after(() => manager.shutdown());
    for (let run = 0; run < 12; run++) {
      let id: string | undefined;
      const out = collect(manager, () => id);
      let textAtExit: string | null = null;
      const sub = manager.onDidExit((s) => {
        if (s.session_id === id) textAtExit = out.text();
      });
      id = (await manager.create({ cli_tool: 'cat' })).session_id;
      await waitFor('exit', () => textAtExit !== null);
      sub.dispose();
      out.dispose();
      const got = textAtExit as unknown as string;
      assert.equal(
        got.length,
        content.length,
        `run ${run}: ${got.length} of ${content.length} chars at exit`,
      );
      assert.ok(got === content, `run ${run}: content differs`);
      assert.equal(manager.get(id)?.state, 'completed');
      manager.remove(id);
    }
  });
}

test('seq runs 1..n without gaps; replay serves the ring and says null past it', async (t) => {
  const { manager } = testManager([nodeProvider('flood', 'proc-flood.mjs', ['2'])], {
    detectorFactory: createPassiveDetector,
    output: { ringChars: 1024 * 1024, maxBatchChars: 16 * 1024 },
  });
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'flood' })).session_id;
  await waitFor('exit', () => manager.get(id as string)?.state === 'completed');
  const seqs = out.chunks.map((c) => c.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i + 1),
  );
  assert.ok(out.text().includes('FLOOD-END'));
  const last = manager.get(id)?.last_seq as number;
  assert.equal(last, seqs.length);
  assert.deepEqual(manager.replay(id, last), []);
  const tail = manager.replay(id, last - 3) as OutputChunk[];
  assert.deepEqual(
    tail.map((c) => c.seq),
    [last - 2, last - 1, last],
  );
  assert.equal(tail.at(-1)?.data, out.chunks.at(-1)?.data);
  assert.equal(manager.replay(id, 0), null, '2 MB do not fit a 1 MiB ring');
  const diag = manager.diagnostics(id);
  assert.ok(diag.output.buffered_bytes <= 1024 * 1024 + 16 * 1024);
  assert.equal(diag.output.total_bytes, out.text().length);
});

test('batches are flushed before a resize', async (t) => {
  const { manager } = testManager(
    // "ready" comes with 300 more chars: bigger than an echo, which would go out at once.
    [provider('sh', '/bin/sh', ['-c', 'printf first; sleep 0.3; printf "ready%0300d" 0; sleep 30'])],
    {
      detectorFactory: createPassiveDetector,
      output: { batchMs: 10_000 },
    },
  );
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  const info = await manager.create({ cli_tool: 'sh' });
  id = info.session_id;
  // The first output goes out at once (leading edge of the batch window)…
  await waitFor('first output', () => out.text().includes('first'));
  // …and once the shell sits in `sleep 30`, "ready" has been written and waits in the 10 s batch.
  await waitFor('second sleep', () =>
    readdirSync('/proc').some((p) => {
      try {
        return (
          readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u000030\u0000' &&
          readFileSync(`/proc/${p}/stat`, 'utf8').includes(`) S ${info.pid} `)
        );
      } catch {
        return false;
      }
    }),
  );
  assert.equal(out.text().includes('ready'), false);
  manager.resize(id, 100, 40);
  // With a 10 s batch window, only the resize can have flushed it.
  await waitFor('flushed', () => out.text().includes('ready'), 5000);
  assert.equal(manager.get(id)?.cols, 100);
});

test('50 MB flood with a slow flow-controlled consumer: PTY paused and resumed, memory bounded, nothing lost', async (t) => {
  // The real headless mirror is attached too (default detector), as in production.
  const { manager } = testManager([nodeProvider('flood', 'proc-flood.mjs', ['50'])]);
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'flood' });
  const id = info.session_id;
  // The consumer holds what it has not processed yet.
  const queue: OutputChunk[] = [];
  let queued = 0;
  let maxQueued = 0;
  let received = 0;
  let tail = '';
  const attachment = manager.attach(id, {
    flowControlled: true,
    onData(chunk) {
      queue.push(chunk);
      queued += chunk.data.length;
      received += chunk.data.length;
      tail = (tail + chunk.data).slice(-64);
      if (queued > maxQueued) maxQueued = queued;
    },
  });
  // Slow: works off at most 16 Ki chars per 2 ms tick (≤ 8 MB/s, well below what the PTY delivers).
  let headUsed = 0;
  const worker = setInterval(() => {
    let budget = 16 * 1024;
    while (budget > 0 && queue.length > 0) {
      const head = queue[0] as OutputChunk;
      const take = Math.min(budget, head.data.length - headUsed);
      headUsed += take;
      budget -= take;
      queued -= take;
      attachment.ack(take);
      if (headUsed === head.data.length) {
        queue.shift();
        headUsed = 0;
      }
    }
  }, 2);
  t.after(() => clearInterval(worker));

  // Live memory, not GC timing: every sample forces a full GC and reads what is still reachable.
  const gc = forceGc();
  gc();
  const baseline = process.memoryUsage().rss;
  const heapBaseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  let liveHeapPeak = heapBaseline;
  let samples = 0;
  let sawPause = false;
  let resumedAfterPause = false;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (++samples % 10 === 0) {
      gc();
      liveHeapPeak = Math.max(liveHeapPeak, process.memoryUsage().heapUsed);
    }
    const paused = manager.diagnostics(id).output.paused;
    if (paused) sawPause = true;
    else if (sawPause) resumedAfterPause = true;
  }, 25);
  t.after(() => clearInterval(sampler));
  await waitFor(
    'flood end',
    () => manager.get(id)?.state === 'completed' && queue.length === 0,
    240_000,
    100,
  );
  clearInterval(sampler);
  const growthMb = (peak - baseline) / 1024 / 1024;
  const liveMb = (liveHeapPeak - heapBaseline) / 1024 / 1024;
  console.log(
    `flood: received ${(received / 1048576).toFixed(1)} MB, max unprocessed ${maxQueued} chars, live heap growth ${liveMb.toFixed(1)} MB, RSS growth ${growthMb.toFixed(1)} MB`,
  );
  assert.ok(received >= 50 * 1024 * 1024, 'every byte arrived');
  assert.ok(tail.includes('FLOOD-END'));
  assert.ok(sawPause, 'the PTY was paused');
  assert.ok(resumedAfterPause, 'and resumed');
  // The consumer never held more than the high watermark plus one batch: that is the bound flow
  // control gives. Without it the consumer would have held up to the whole 50 MB.
  assert.ok(maxQueued <= 100_000 + 256 * 1024, `consumer held ${maxQueued} chars`);
  // Live heap: ring (2 Mi chars) + mirror backlog budget (4 Mi chars) + the mirror's grid and 1000 lines
  // of scrollback (~2 MB) + high watermark + a batch, ≈ 10 MB of one-byte strings; 32 MB leaves room
  // for the rest of the test process. Unbounded buffering would hold up to the whole 50 MB flood.
  assert.ok(liveMb < 32, `live heap grew ${liveMb.toFixed(1)} MB`);
  // RSS also counts garbage not yet collected; it is reported above and only checked loosely.
  assert.ok(growthMb < 256, `RSS grew ${growthMb.toFixed(1)} MB`);
});

test('non-flow-controlled consumers never pause the PTY', async (t) => {
  const { manager } = testManager([nodeProvider('flood', 'proc-flood.mjs', ['5'])], {
    detectorFactory: createPassiveDetector,
  });
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'flood' });
  let received = 0;
  manager.attach(info.session_id, {
    flowControlled: false,
    onData: (c) => {
      received += c.data.length; // never acks
    },
  });
  let paused = false;
  const sampler = setInterval(() => {
    if (manager.diagnostics(info.session_id).output.paused) paused = true;
  }, 5);
  t.after(() => clearInterval(sampler));
  await waitFor('done', () => manager.get(info.session_id)?.state === 'completed', 60_000);
  assert.equal(paused, false);
  assert.ok(received >= 5 * 1024 * 1024);
});

test('snapshot serializes the mirror after it parsed everything emitted', async (t) => {
  const { manager } = testManager([provider('sh', '/bin/sh', ['-c', 'printf "hello snapshot"; sleep 30'])]);
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'sh' });
  await waitFor('output', () => (manager.get(info.session_id)?.last_seq ?? 0) > 0);
  const snap = await manager.snapshot(info.session_id);
  assert.equal(snap.seq, manager.get(info.session_id)?.last_seq);
  assert.match(snap.screen, /hello snapshot/);
  assert.equal(snap.cols, 120);
});
