import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRenderer } from './helpers/renderer.ts';

interface Sequencer {
  readonly lastSeq: number;
  readonly awaitingResync: boolean;
  accept(seq: number): 'write' | 'duplicate' | 'gap';
  snapshot(seq: number): void;
  reconnecting(): void;
}
const { AckCounter, backoffDelay, OutputSequencer } = await loadRenderer<{
  OutputSequencer: new (lastSeq?: number) => Sequencer;
  AckCounter: new (
    send: (chars: number) => void,
    step?: number,
  ) => { parsed(n: number): void; reset(): void };
  backoffDelay(attempt: number, options?: { baseMs?: number; maxMs?: number; random?: () => number }): number;
}>('model/output-sequencer.ts');

test('output is written once, in order; replays after a reconnect are dropped', () => {
  const seq = new OutputSequencer();
  assert.deepEqual(
    [1, 2, 3].map((n) => seq.accept(n)),
    ['write', 'write', 'write'],
  );
  seq.reconnecting();
  // The server replays from last_seq: anything at or below it is already on screen.
  assert.deepEqual(
    [2, 3, 4].map((n) => seq.accept(n)),
    ['duplicate', 'duplicate', 'write'],
  );
  assert.equal(seq.lastSeq, 4);
});

test('a hole is reported once, then filled by the resumed stream', () => {
  const seq = new OutputSequencer(10);
  assert.equal(seq.accept(13), 'gap');
  assert.equal(seq.awaitingResync, true);
  assert.equal(seq.accept(14), 'duplicate', 'no second resume request for the same hole');
  assert.equal(seq.accept(11), 'write');
  assert.equal(seq.accept(12), 'write');
  assert.equal(seq.awaitingResync, false);
  assert.equal(seq.accept(13), 'write');
});

test('a snapshot stands for everything up to its seq', () => {
  const seq = new OutputSequencer(5);
  assert.equal(seq.accept(40), 'gap');
  seq.snapshot(41);
  assert.equal(seq.awaitingResync, false);
  assert.equal(seq.accept(41), 'duplicate');
  assert.equal(seq.accept(42), 'write');
});

test('acks are sent in steps of parsed characters and reset after a replay', () => {
  const sent: number[] = [];
  const acks = new AckCounter((n) => sent.push(n), 100);
  acks.parsed(60);
  assert.deepEqual(sent, []);
  acks.parsed(60);
  assert.deepEqual(sent, [120]);
  acks.parsed(99);
  acks.reset();
  acks.parsed(1);
  assert.deepEqual(sent, [120]);
});

test('backoff grows, is capped, and keeps at least half of the ceiling', () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 250);
  assert.equal(backoffDelay(0, { random: () => 1 }), 500);
  assert.equal(backoffDelay(3, { random: () => 1 }), 4000);
  assert.equal(backoffDelay(50, { random: () => 1 }), 15_000);
  assert.equal(backoffDelay(50, { random: () => 0 }), 7500);
});
