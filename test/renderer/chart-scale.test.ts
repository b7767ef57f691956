import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRenderer } from './helpers/renderer.ts';

type Bar = { label: string; value: number; x: number; y: number; width: number; height: number };
interface Scale {
  niceMax(v: number): number;
  ticks(max: number, count?: number): number[];
  horizontalBars(
    data: { label: string; value: number }[],
    o: {
      width: number;
      labelWidth: number;
      valueWidth: number;
      rowHeight: number;
      gap?: number;
      max?: number;
    },
  ): { bars: Bar[]; max: number; plotX: number; plotWidth: number; height: number };
}
const { niceMax, ticks, horizontalBars } = await loadRenderer<Scale>('model/chart-scale.ts');

test('niceMax rounds up to 1, 2, 2.5 or 5 × 10^k and never below the value', () => {
  const cases: [number, number][] = [
    [0, 1],
    [-5, 1],
    [Number.NaN, 1],
    [1, 1],
    [3, 5],
    [7, 10],
    [10, 10],
    [11, 20],
    [21, 25],
    [26, 50],
    [235, 250],
    [1234, 2000],
    [0.3, 0.5],
    [0.0123, 0.02],
  ];
  for (const [value, nice] of cases) assert.equal(niceMax(value), nice, `niceMax(${value})`);
  for (let v = 0.001; v < 1e7; v *= 1.37) assert.ok(niceMax(v) >= v, `niceMax(${v}) >= ${v}`);
});

test('ticks are evenly spaced from 0 to max', () => {
  assert.deepEqual(ticks(250, 5), [0, 50, 100, 150, 200, 250]);
  assert.deepEqual(ticks(0.5, 2), [0, 0.25, 0.5]);
  assert.deepEqual(ticks(10, 0), [0, 10]);
});

test('horizontal bars: shared scale, zero keeps its row without a bar, tiny values stay visible', () => {
  const layout = horizontalBars(
    [
      { label: 'passed', value: 3 },
      { label: 'failed', value: 0 },
      { label: 'queued', value: 10 },
      { label: 'tiny', value: 0.001 },
      { label: 'bad', value: Number.NaN },
    ],
    { width: 300, labelWidth: 80, valueWidth: 20, rowHeight: 10, gap: 4 },
  );
  assert.equal(layout.max, 10);
  assert.equal(layout.plotX, 80);
  assert.equal(layout.plotWidth, 200);
  const [passed, failed, queued, tiny, bad] = layout.bars;
  assert.equal(queued?.width, 200, 'the largest value spans the plot');
  assert.equal(passed?.width, 60, '3 of 10 is 30% of the plot');
  assert.equal(failed?.width, 0);
  assert.equal(tiny?.width, 1);
  assert.equal(bad?.width, 0);
  assert.equal(bad?.value, 0);
  assert.deepEqual(
    layout.bars.map((b) => b.y),
    [0, 14, 28, 42, 56],
  );
  assert.equal(layout.height, 5 * 14 - 4);
  for (const b of layout.bars) assert.equal(b.x, 80);
  // A fixed max (e.g. percentages) clamps instead of rescaling.
  const clamped = horizontalBars([{ label: 'x', value: 150 }], {
    width: 120,
    labelWidth: 10,
    valueWidth: 10,
    rowHeight: 8,
    max: 100,
  });
  assert.equal(clamped.bars[0]?.width, 100);
  assert.equal(horizontalBars([], { width: 100, labelWidth: 10, valueWidth: 10, rowHeight: 8 }).height, 0);
});
