import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadRenderer } from './helpers/renderer.ts';

// "Sufficient contrast": every text/background pair the stylesheet and terminal themes use meets WCAG
// AA (4.5:1) in both themes.
const css = readFileSync(new URL('../../src-renderer/src/styles.css', import.meta.url), 'utf8');

function themeVars(selector: RegExp): Record<string, string> {
  const block = selector.exec(css)?.[1];
  assert.ok(block, `theme block ${selector}`);
  return Object.fromEntries([...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2]]));
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

const PAIRS: [string, string][] = [
  ['text', 'bg'],
  ['text', 'panel'],
  ['text', 'panel-2'],
  ['muted', 'bg'],
  ['muted', 'panel'],
  ['muted', 'panel-2'],
  ['accent-text', 'accent'],
  ['accent', 'panel'],
  ['wait', 'wait-bg'],
  ['auth', 'auth-bg'],
  ['danger', 'danger-bg'],
  ['warn', 'panel-2'],
  ['warn', 'panel'],
  ['ok', 'panel'],
  ['muted', 'term-bg'],
];

test('UI colours meet WCAG AA in the dark and light themes', () => {
  const dark = themeVars(/:root,\s*\[data-theme=["']dark["']\]\s*\{([^}]*)\}/);
  const light = themeVars(/\[data-theme=["']light["']\]\s*\{([^}]*)\}/);
  for (const [name, vars] of [
    ['dark', dark],
    ['light', light],
  ] as const) {
    for (const [fg, bg] of PAIRS) {
      const f = vars[fg];
      const b = vars[bg];
      assert.ok(f && b, `${name}: --${fg} and --${bg} defined`);
      const ratio = contrast(f, b);
      assert.ok(ratio >= 4.5, `${name}: --${fg} on --${bg} is ${ratio.toFixed(2)}:1`);
    }
  }
});

test('terminal themes: foreground and the normal ANSI colours are readable on the background', async () => {
  const { TERMINAL_THEMES } = await loadRenderer<{ TERMINAL_THEMES: Record<string, Record<string, string>> }>(
    'terminal/themes.ts',
  );
  for (const [name, theme] of Object.entries(TERMINAL_THEMES)) {
    const bg = theme.background ?? '';
    for (const key of ['foreground', 'red', 'green', 'blue', 'magenta', 'cyan', 'brightBlack']) {
      const ratio = contrast(theme[key] ?? '', bg);
      assert.ok(ratio >= 4.5, `${name}: ${key} is ${ratio.toFixed(2)}:1`);
    }
  }
});
