import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import { MirrorFeeder, sgrCarry } from '../../../src-main/core/sessions/mirror-feeder.ts';
import { createStateDetector } from '../../../src-main/core/state/detector.ts';
import type { ScreenStateDetector } from '../../../src-main/core/state/types.ts';
import { waitFor } from './helpers.ts';

const def: ProviderDefinition = {
  id: 'x',
  name: 'x',
  binary: 'x',
  interactive_args: [],
  full_access_args: [],
  one_shot: null,
  env_keys: [],
  version_args: [],
  bracketed_paste: false,
  screen_rules: [],
  title_rules: [],
  stability_ms: 1000,
};
const COLS = 60;
const ROWS = 12;
const SCROLLBACK = 1000; // the state detector's default scrollback

function stream(): string[] {
  // Plain coloured scrolling output with long wrapping lines, tabs, CR progress updates and a colour
  // left open across the cut points, then a redraw section (cursor moves: never skipped), then more.
  const chunks: string[] = ['\x1b[1mheader\x1b[0m\r\n'];
  for (let i = 0; i < 6000; i++) {
    const colour = i % 7 === 0 ? '\x1b[0m' : `\x1b[3${i % 8}m`;
    const long = i % 13 === 0 ? 'w'.repeat(150) : '';
    chunks.push(`${colour}line ${i}\t${'abc '.repeat(i % 9)}${long}\r50%\r100%\r\n`);
  }
  chunks.push('\x1b[5A\x1b[2Kredrawn\x1b[3B\r\n');
  for (let i = 0; i < 5000; i++)
    chunks.push(`tail ${i} \x1b[44mblue\x1b[49m${i % 11 === 0 ? 'x'.repeat(130) : ''}\r\n`);
  chunks.push('\x1b[32mprompt> ');
  // Re-chunk at awkward sizes so sequences and CR LF pairs are split between chunks.
  const joined = chunks.join('');
  const out: string[] = [];
  for (let i = 0, n = 1; i < joined.length; n = (n * 7 + 3) % 4093) {
    out.push(joined.slice(i, i + n + 1));
    i += n + 1;
  }
  return out;
}

function writeAll(d: ScreenStateDetector, data: string): Promise<void> {
  return new Promise((resolve) => d.write(data, resolve));
}

test('a compacted mirror ends in exactly the state of one that parsed every byte', async (t) => {
  const full = createStateDetector(def, { cols: COLS, rows: ROWS, autoEvaluate: false });
  const fed = createStateDetector(def, { cols: COLS, rows: ROWS, autoEvaluate: false });
  t.after(() => {
    full.dispose();
    fed.dispose();
  });
  const chunks = stream();
  await writeAll(full, chunks.join(''));

  let parsedSeq = 0;
  let acked = 0;
  const feeder = new MirrorFeeder({
    detector: fed,
    cols: COLS,
    rows: ROWS,
    scrollbackLines: SCROLLBACK,
    compactAboveChars: 32 * 1024,
    coalesceMs: 5,
    ack: (n) => {
      acked += n;
    },
    onParsed: (seq) => {
      parsedSeq = seq;
    },
    onError: (e) => {
      throw e;
    },
  });
  chunks.forEach((data, i) => {
    feeder.write({ session_id: 's', seq: i + 1, data, at: 0 });
  });
  await waitFor('mirror caught up', () => parsedSeq === chunks.length && feeder.backlogChars === 0);
  assert.ok(feeder.skippedChars > 100_000, `compaction happened (${feeder.skippedChars} chars skipped)`);
  assert.equal(acked, chunks.join('').length, 'everything acked');
  assert.equal(fed.screenText(), full.screenText());
  // serialize() covers the scrollback too: the last 1000 lines must have survived compaction.
  assert.match(full.serialize(), /tail 4500 /);
  assert.equal(fed.serialize(), full.serialize());
});

test('output in the alternate screen or with a scroll region is never compacted', async (t) => {
  for (const prefix of ['\x1b[?1049h', '\x1b[2;10r']) {
    const full = createStateDetector(def, { cols: COLS, rows: ROWS, autoEvaluate: false });
    const fed = createStateDetector(def, { cols: COLS, rows: ROWS, autoEvaluate: false });
    t.after(() => {
      full.dispose();
      fed.dispose();
    });
    let parsedSeq = 0;
    const feeder = new MirrorFeeder({
      detector: fed,
      cols: COLS,
      rows: ROWS,
      compactAboveChars: 8 * 1024,
      coalesceMs: 5,
      ack: () => {},
      onParsed: (seq) => {
        parsedSeq = seq;
      },
      onError: (e) => {
        throw e;
      },
    });
    const chunks = [prefix, ...Array.from({ length: 4000 }, (_, i) => `row ${i}\r\n`)];
    await writeAll(full, chunks.join(''));
    // The mode switch is parsed before the flood arrives, as it would be live.
    feeder.write({ session_id: 's', seq: 1, data: chunks[0] as string, at: 0 });
    await waitFor('mode parsed', () => parsedSeq === 1);
    chunks.slice(1).forEach((data, i) => {
      feeder.write({ session_id: 's', seq: i + 2, data, at: 0 });
    });
    await waitFor('caught up', () => parsedSeq === chunks.length);
    assert.equal(feeder.skippedChars, 0, JSON.stringify(prefix));
    assert.equal(fed.serialize(), full.serialize());
  }
});

test('a mirror that cannot keep up withholds acks past its budget (the PTY then pauses)', () => {
  const stuck: ScreenStateDetector = {
    write() {}, // never parses
    resize() {},
    noteInput() {},
    evaluate: () => {
      throw new Error('unused');
    },
    onDidDetect: () => ({ dispose() {} }),
    serialize: () => '',
    screenText: () => '',
    regionText: () => '',
    onReply: () => ({ dispose() {} }),
    title: null,
    dispose() {},
  };
  let acked = 0;
  const feeder = new MirrorFeeder({
    detector: stuck,
    cols: 80,
    rows: 24,
    budgetChars: 100_000,
    coalesceMs: 0,
    ack: (n) => {
      acked += n;
    },
    onParsed: () => {},
    onError: () => {},
  });
  // Redraw-style output (cursor moves): not compactable.
  const chunk = '\x1b[H\x1b[2Kframe'.repeat(1000);
  for (let i = 0; i < 20; i++) feeder.write({ session_id: 's', seq: i + 1, data: chunk, at: 0 });
  const received = chunk.length * 20;
  assert.equal(received - acked, feeder.backlogChars - 100_000);
  assert.ok(received - acked > 100_000, 'enough unacked to pass the high watermark');
  assert.equal(feeder.skippedChars, 0);
});

test('sgrCarry: skipping ESC-free parts keeps the SGR state of joining every part (split sequences too)', () => {
  // The reference: every part joined, every SGR from the last reset on (the scan it replaced).
  const reference = (parts: string[]) => {
    const text = parts.join('');
    const reset = Math.max(
      text.lastIndexOf('\x1b[0m'),
      text.lastIndexOf('\x1b[m'),
      text.lastIndexOf('\x1b[0;'),
    );
    return [...text.slice(Math.max(0, reset)).matchAll(/\x1b\[([0-9;:]*)m/g)].map((m) => m[0]).join('');
  };
  // Deterministic pseudo-random parts: plain text, colours, resets, and sequences cut across parts.
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pieces = [
    'plain text\r\n',
    'x'.repeat(300),
    '\x1b[31m',
    '\x1b[1;4m',
    '\x1b[0m',
    '\x1b[m',
    '\x1b[0;32m',
    '\r\n',
  ];
  for (let round = 0; round < 400; round++) {
    const text = Array.from({ length: 1 + rand(30) }, () => pieces[rand(pieces.length)]).join('');
    const parts: string[] = [];
    // Short parts in half the rounds: sequences (resets too) cut across parts, often.
    const maxLen = round % 2 === 0 ? 8 : 200;
    for (let at = 0; at < text.length; ) {
      const len = 1 + rand(maxLen);
      parts.push(text.slice(at, at + len));
      at += len;
    }
    assert.equal(sgrCarry(parts), reference(parts), `round ${round}: ${JSON.stringify(parts)}`);
  }
  assert.equal(sgrCarry(['x'.repeat(1000), 'y'.repeat(1000)]), '');
  assert.equal(sgrCarry(['\x1b[3', '1m', 'plain']), '\x1b[31m');
  assert.equal(sgrCarry(['\x1b[33mA', 'B\x1b[31m..\x1b[0', 'm\x1b[32m']), '\x1b[0m\x1b[32m');
});
