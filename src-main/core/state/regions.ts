import type { ScreenRegion } from '../providers/types.ts';
import { isRuleLine } from './screen-text.ts';

/**
 * The lines a rule looks at. Regions keep rules from matching stale text: the transcript of an agent
 * can quote "esc to interrupt" or "Do you want to proceed?", the live UI is at the bottom.
 */
export function regionLines(lines: readonly string[], region: ScreenRegion, cursorLine = -1): string[] {
  switch (region.kind) {
    case 'cursor-line': {
      const line = lines[cursorLine];
      return line !== undefined && line.trim().length > 0 ? [line] : [];
    }
    case 'screen':
      return lines.filter((l) => l.trim().length > 0);
    case 'last-lines':
      return lastNonEmpty(lines, lines.length, region.count);
    case 'above-input-box':
      return aboveInputBox(lines, region.lines);
  }
}

function lastNonEmpty(lines: readonly string[], end: number, count: number): string[] {
  const out: string[] = [];
  for (let i = end - 1; i >= 0 && out.length < count; i--) {
    const line = lines[i]!;
    if (line.trim().length > 0) out.push(line);
  }
  return out.reverse();
}

/**
 * The input box is the block between the last two horizontal rules (Claude draws `───` above and
 * below its prompt line, or a `╭─╮ … ╰─╯` box). The region is `count` non-empty lines above the upper
 * rule plus the box's inside; the status lines under the box are excluded. Without any rule on screen,
 * the last `count + 2` non-empty lines stand in.
 */
function aboveInputBox(lines: readonly string[], count: number): string[] {
  const rules: number[] = [];
  for (let i = lines.length - 1; i >= 0 && rules.length < 2; i--) {
    if (isRuleLine(lines[i]!)) rules.push(i);
  }
  if (rules.length === 0) return lastNonEmpty(lines, lines.length, count + 2);
  const lower = rules[0]!;
  const upper = rules[1];
  if (upper === undefined) return lastNonEmpty(lines, lower, count);
  const inside = lines.slice(upper + 1, lower).filter((l) => l.trim().length > 0);
  return [...lastNonEmpty(lines, upper, count), ...inside];
}
