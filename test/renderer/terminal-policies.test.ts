import assert from 'node:assert/strict';
import { test } from 'node:test';
import xtermHeadless from '@xterm/headless';
import { loadRenderer } from './helpers/renderer.ts';

const { Terminal } = xtermHeadless;

// The terminal's rules, unit by unit: which queries a viewer swallows (against a real xterm parser),
// which keys go to the browser's clipboard, and how a grid that another view sized fits this one.
type Guard = {
  GUARDED_QUERIES: readonly { name: string; example: string }[];
  guardQueries(parser: unknown): { dispose(): void };
  isFocusReport(data: string): boolean;
};
const { GUARDED_QUERIES, guardQueries, isFocusReport } = await loadRenderer<Guard>('terminal/query-guard.ts');
const { keyDecision } = await loadRenderer<{
  keyDecision(
    e: { key: string; ctrlKey: boolean; shiftKey: boolean; altKey: boolean; metaKey: boolean },
    sel: boolean,
  ): string;
}>('terminal/key-policy.ts');
const { localFit, clampSize } = await loadRenderer<{
  localFit(
    grid: { width: number; height: number },
    space: { width: number; height: number },
  ): { scale: number; scrollX: boolean; scrollY: boolean };
  clampSize(s: { cols: number; rows: number }): { cols: number; rows: number };
}>('terminal/size-policy.ts');
const { lastLines } = await loadRenderer<{
  lastLines(buffer: unknown, rows: number, count: number): string[];
}>('terminal/screen-lines.ts');

async function replies(guarded: boolean, data: string): Promise<string[]> {
  const term = new Terminal({ cols: 80, rows: 24, allowProposedApi: true });
  const out: string[] = [];
  term.onData((d) => out.push(d));
  if (guarded) guardQueries(term.parser);
  await new Promise<void>((resolve) => term.write(data, resolve));
  term.dispose();
  return out;
}

test('query guard: xterm answers the queries by itself; guarded, it answers none of them', async () => {
  const all = GUARDED_QUERIES.map((q) => q.example).join('');
  const unguarded = await replies(false, all);
  // The headless xterm shares the parser and InputHandler of the browser one: DA1, DA2, CPR, DECXCPR,
  // DECRQM (ANSI and private) and DECRQSS answer by themselves (colour and pixel reports need the
  // browser's renderer; the e2e suite covers those in Chromium).
  assert.ok(unguarded.length >= 7, `xterm replied ${unguarded.length} times: ${JSON.stringify(unguarded)}`);
  for (const reply of [/^\x1b\[\?1;2c$/, /^\x1b\[>0;276;0c$/, /^\x1b\[\d+;\d+R$/, /\$y$/, /^\x1bP1\$r/])
    assert.ok(
      unguarded.some((r) => reply.test(r)),
      `${reply} among ${JSON.stringify(unguarded)}`,
    );
  assert.deepEqual(await replies(true, all), []);
  for (const q of GUARDED_QUERIES) assert.deepEqual(await replies(true, q.example), [], q.name);
});

test('query guard: output that only looks alike still works (colour sets, title stack, cursor moves)', async () => {
  const term = new Terminal({ cols: 40, rows: 5, allowProposedApi: true });
  guardQueries(term.parser);
  let title = '';
  term.onTitleChange((t) => {
    title = t;
  });
  await new Promise<void>((resolve) =>
    term.write('\x1b]0;my title\x07\x1b[2;5Hhere\x1b]11;#102030\x07\x1b[22;0t', resolve),
  );
  assert.equal(title, 'my title');
  assert.equal(term.buffer.active.getLine(1)?.translateToString(true), '    here');
  assert.deepEqual(lastLines(term.buffer.active, term.rows, 2), ['here']);
  term.dispose();
});

test('focus reports are recognised exactly; typed keys never look like one', () => {
  assert.equal(isFocusReport('\x1b[I'), true);
  assert.equal(isFocusReport('\x1b[O'), true);
  for (const typed of ['\x1b', '\x1b[A', 'I', '\x1b[1;5I', '\x1bOI'])
    assert.equal(isFocusReport(typed), false);
});

const key = (k: string, m: Partial<{ ctrl: boolean; shift: boolean; alt: boolean; meta: boolean }> = {}) => ({
  key: k,
  ctrlKey: !!m.ctrl,
  shiftKey: !!m.shift,
  altKey: !!m.alt,
  metaKey: !!m.meta,
});

test('clipboard keys go to the browser; Ctrl+C interrupts unless text is selected', () => {
  assert.equal(keyDecision(key('v', { ctrl: true }), false), 'browser', 'Ctrl+V pastes, not ^V');
  assert.equal(keyDecision(key('V', { ctrl: true, shift: true }), false), 'browser');
  assert.equal(keyDecision(key('Insert', { shift: true }), false), 'browser');
  assert.equal(keyDecision(key('C', { ctrl: true, shift: true }), true), 'copy');
  assert.equal(keyDecision(key('c', { ctrl: true }), false), 'terminal', 'no selection: interrupt');
  assert.equal(keyDecision(key('c', { ctrl: true }), true), 'browser', 'selection: copy');
  assert.equal(keyDecision(key('c', { meta: true }), false), 'browser');
  for (const k of [key('a'), key('d', { ctrl: true }), key('v', { alt: true }), key('Enter')])
    assert.equal(keyDecision(k, false), 'terminal', k.key);
});

test('local fit: a bigger grid scales down (then scrolls), a smaller one stays as drawn', () => {
  assert.deepEqual(localFit({ width: 1000, height: 500 }, { width: 1200, height: 800 }), {
    scale: 1,
    scrollX: false,
    scrollY: false,
  });
  const phone = localFit({ width: 1000, height: 700 }, { width: 700, height: 700 });
  assert.equal(phone.scale, 0.7);
  assert.equal(phone.scrollX, false);
  // Below half size the text is unreadable: half size, and the host scrolls.
  const tiny = localFit({ width: 1200, height: 700 }, { width: 370, height: 600 });
  assert.equal(tiny.scale, 0.5);
  assert.equal(tiny.scrollX, true);
  assert.deepEqual(localFit({ width: 0, height: 0 }, { width: 10, height: 10 }).scale, 1);
  assert.deepEqual(clampSize({ cols: 5000, rows: 0.4 }), { cols: 1000, rows: 1 });
});
