/**
 * Geometry for the tasks view's inline-SVG bar charts (no chart library): a "nice" axis maximum,
 * its ticks, and bar rectangles in SVG user units. Pure, so scaling is unit-tested.
 */

/** The smallest 1, 2, 2.5 or 5 × 10^k that is ≥ value; 1 for empty data, so bars have a scale. */
export function niceMax(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 1;
  const exp = Math.floor(Math.log10(value));
  const base = 10 ** exp;
  for (const step of [1, 2, 2.5, 5, 10]) {
    const candidate = step * base;
    // Floating point: 0.3 / 0.1 style noise must not push a value over its own nice bound.
    if (candidate >= value * (1 - 1e-12)) return Number(candidate.toPrecision(12));
  }
  return 10 * base;
}

/** `count` + 1 evenly spaced ticks from 0 to `max` inclusive. */
export function ticks(max: number, count = 4): number[] {
  const n = Math.max(1, Math.floor(count));
  return Array.from({ length: n + 1 }, (_, i) => Number(((max * i) / n).toPrecision(12)));
}

export interface BarInput {
  label: string;
  value: number;
}

export interface HBar extends BarInput {
  /** Top of the bar's row. */
  y: number;
  /** Bar starts at the plot's left edge. */
  x: number;
  width: number;
  height: number;
}

export interface HBarLayout {
  bars: HBar[];
  max: number;
  /** Plot area in user units (labels go left of `plotX`, values right of each bar). */
  plotX: number;
  plotWidth: number;
  height: number;
}

/**
 * Horizontal bars, one row per input, scaled to a shared nice maximum. A zero value gets no bar
 * (width 0) but keeps its row and label; a non-zero value gets at least 1 unit so it stays visible.
 */
export function horizontalBars(
  data: readonly BarInput[],
  options: {
    width: number;
    labelWidth: number;
    valueWidth: number;
    rowHeight: number;
    gap?: number;
    max?: number;
  },
): HBarLayout {
  const gap = options.gap ?? 4;
  const plotX = options.labelWidth;
  const plotWidth = Math.max(1, options.width - options.labelWidth - options.valueWidth);
  const max = options.max ?? niceMax(Math.max(0, ...data.map((d) => safe(d.value))));
  const bars = data.map((d, i): HBar => {
    const v = safe(d.value);
    const raw = max > 0 ? (v / max) * plotWidth : 0;
    return {
      label: d.label,
      value: v,
      x: plotX,
      y: i * (options.rowHeight + gap),
      width: v > 0 ? Math.min(plotWidth, Math.max(1, raw)) : 0,
      height: options.rowHeight,
    };
  });
  const height = data.length === 0 ? 0 : data.length * (options.rowHeight + gap) - gap;
  return { bars, max, plotX, plotWidth, height };
}

function safe(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}
