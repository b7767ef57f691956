import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FloodPacer, writtenDelta } from '../../src-main/core/store/flood-pacer.ts';

test('flood pacer: steps run back to back until the spool takes more than the flood rate', () => {
  const pacer = new FloodPacer({ floodBytesPerSecond: 1000, restFactor: 4, windowMs: 1000 });
  pacer.noteIncoming(500, 0);
  pacer.stepTook(10, 0);
  assert.equal(pacer.waitMs(0), 0, 'a trickle is no flood');
  pacer.noteIncoming(600, 100);
  assert.equal(pacer.flooding(100), true);
  pacer.stepTook(10, 100);
  assert.equal(pacer.waitMs(100), 40, 'during a flood, rest four times the step');
  assert.equal(pacer.waitMs(120), 20);
  assert.equal(pacer.waitMs(140), 0);
});

test('flood pacer: a flood that stops ends the rest at once (the backlog is stored flat out)', () => {
  const pacer = new FloodPacer({ floodBytesPerSecond: 1000, restFactor: 4, windowMs: 1000 });
  pacer.noteIncoming(5000, 0);
  pacer.stepTook(500, 900);
  assert.equal(pacer.waitMs(900), 2000);
  // The window no longer holds the burst: no flood, no rest, though the rest had 1.9 s to go.
  assert.equal(pacer.waitMs(1001), 0);
  assert.equal(pacer.flooding(1001), false);
});

test('writtenDelta counts bytes between the writer positions, a new segment from its start', () => {
  assert.equal(writtenDelta(null, { segment: 1, offset: 300 }), 300);
  assert.equal(writtenDelta({ segment: 1, offset: 300 }, { segment: 1, offset: 1300 }), 1000);
  assert.equal(writtenDelta({ segment: 1, offset: 900 }, { segment: 2, offset: 50 }), 50);
  assert.equal(writtenDelta({ segment: 2, offset: 50 }, { segment: 2, offset: 50 }), 0);
});
