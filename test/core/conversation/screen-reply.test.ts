// The screen difference on real screens: claude 2.1.332, codex 0.171.0 and gemini 0.61.0 recorded
// before and after each of four turns against the mock model service (100×30 terminal; the answer of
// turn 1 is markdown, turn 3 is 45 lines long, turns 2 and 4 are the same prompt with the same answer).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readSerializedScreen, type ScreenLines } from '../../../src-main/core/conversation/screen-lines.ts';
import {
  compileReplySpec,
  newPartStart,
  removeReplyMarkers,
  screenReply,
} from '../../../src-main/core/conversation/screen-reply.ts';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/conversation/real');

async function screen(cli: string, name: string): Promise<ScreenLines> {
  return readSerializedScreen({
    screen: readFileSync(path.join(DIR, `${cli}-${name}.ans`), 'utf8'),
    cols: 100,
    rows: 30,
  });
}

const spec = (cli: string) =>
  compileReplySpec(defaultProviders({}).find((p) => p.id === cli)?.conversation?.screen);

async function reply(cli: string, before: string, after: string, prompt: string | null): Promise<string> {
  return screenReply({
    before: await screen(cli, before),
    after: await screen(cli, after),
    prompt,
    spec: spec(cli),
  });
}

// What each CLI renders of the markdown answer (the record has the source; the screen the rendering).
const PLAN: Record<string, string> = {
  claude: 'Here is the plan:\n\n1. Read the config file\n2. Fix the bug\n\nconst x = 1;\n\nDone — all good.',
  codex: 'Here is the plan:\n\n1. Read the config file\n2. Fix the bug\n\nconst x = 1;\n\nDone — all good.',
  gemini:
    'Here is the plan:\n\n 1. Read the config file\n 2. Fix the bug\n\n 1 const x = 1;\n\nDone — all good.',
};

for (const cli of ['claude', 'codex', 'gemini']) {
  test(`${cli} (real screens): the answer without banner, echoed prompt, bullet, summary line or input box`, async () => {
    assert.equal(await reply(cli, '0-idle', '1-after', 'Please explain the plan'), PLAN[cli]);
    assert.equal(await reply(cli, '1-after', '2-after', 'Say OK'), 'OK.');
  });

  test(`${cli} (real screens): the same prompt and answer again is still found (not "lines not seen before")`, async () => {
    assert.equal(await reply(cli, '3-after', '4-after', 'Say OK'), 'OK.');
  });

  test(`${cli} (real screens): a long answer is consecutive lines ending with the last, nothing else`, async () => {
    const text = await reply(cli, '2-after', '3-after', 'Print a long answer');
    const lines = text.split('\n');
    assert.equal(lines[lines.length - 1], 'Line 45 of a long answer.');
    const first = Number(/^Line (\d+) /.exec(lines[0]!)?.[1]);
    for (const [i, line] of lines.entries()) assert.equal(line, `Line ${first + i} of a long answer.`);
    if (cli === 'gemini') assert.equal(first, 1, 'gemini keeps the answer in the scrollback: whole');
  });
}

test('without the prompt (a turn whose line AutoDev did not see), the new part still starts after the old transcript', async () => {
  const text = await reply('claude', '1-after', '2-after', null);
  // The echo stays (nobody told us what was typed); the answer and nothing of the interface follows.
  assert.equal(text, '❯ Say OK\n\nOK.');
});

test('newPartStart: anchored on the old transcript’s last lines, closest occurrence; a redraw falls back to unseen lines', () => {
  const before = ['banner', '', '> q1', '', 'A', 'B', 'C'];
  assert.deepEqual(newPartStart(before, [...before, '', '> q2', '', 'A', 'B', 'C']), {
    index: 7,
    anchored: true,
  });
  // The top scrolled away (codex keeps no scrollback): the anchor moved up.
  assert.deepEqual(newPartStart(before, ['> q1', '', 'A', 'B', 'C', '> q2', 'D']), {
    index: 5,
    anchored: true,
  });
  // Redrawn from scratch: the first line the old screen did not have.
  assert.deepEqual(newPartStart(before, ['X', 'banner', 'Y']), { index: 0, anchored: false });
});

test('reply markers go with their block’s indentation; without a visible bullet the common indent goes', () => {
  const s = compileReplySpec({ input_line: '^❯', interface_lines: [], reply_marker: '[⏺●] ' });
  assert.deepEqual(
    removeReplyMarkers(['● First', '  second', '', '  third', '● Bash(ls)', '  ⎿  a.txt'], s),
    ['First', 'second', '', 'third', 'Bash(ls)', '⎿  a.txt'],
  );
  assert.deepEqual(removeReplyMarkers(['  Line 23', '  Line 24', '    indented'], s), [
    'Line 23',
    'Line 24',
    '  indented',
  ]);
});
