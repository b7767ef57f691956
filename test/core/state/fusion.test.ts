import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import { createStateDetector } from '../../../src-main/core/state/detector.ts';
import type { Detection } from '../../../src-main/core/state/types.ts';
import { clockedDetector, provider, screen } from './screen-replay.ts';

/** A provider with no rules at all: only the stability window speaks. */
const bare: ProviderDefinition = {
  ...provider('shell'),
  id: 'bare',
  screen_rules: [],
  title_rules: [],
  stability_ms: 1000,
  stability_state: 'waiting_input',
};

test('no output yet → starting (lifecycle), whatever the time', () => {
  const { detector, clock } = clockedDetector(bare);
  try {
    clock.t += 60_000;
    const d = detector.evaluate();
    assert.equal(d.state, 'starting');
    assert.equal(d.reason.source, 'lifecycle');
  } finally {
    detector.dispose();
  }
});

test('stability window: starting while drawing, waiting once unchanged for stability_ms, processing while changing', async () => {
  const { detector, clock, write } = clockedDetector(bare);
  try {
    await write('loading...');
    clock.t += 999;
    assert.equal(detector.evaluate().state, 'starting');
    clock.t += 1;
    let d = detector.evaluate();
    assert.equal(d.state, 'waiting_input');
    assert.equal(d.reason.source, 'stability');
    assert.equal(d.reason.rule, 'screen-stable');

    await write('\r\nmore output');
    d = detector.evaluate();
    assert.equal(d.state, 'processing');
    assert.equal(d.reason.rule, 'screen-changing');
    clock.t += 500;
    assert.equal(detector.evaluate().state, 'processing');
    clock.t += 500;
    assert.equal(detector.evaluate().state, 'waiting_input');

    // Output that leaves the rendered text as it was (cursor moves, same text redrawn) is not a change.
    await write('\x1b[?25l\x1b[?25h\rmore output');
    clock.t += 10;
    assert.equal(detector.evaluate().state, 'waiting_input');
  } finally {
    detector.dispose();
  }
});

test('no false waiting: a static busy screen stays processing however long it is unchanged', async () => {
  const { detector, clock, write } = clockedDetector(provider('claude'));
  try {
    await write(screen('claude-busy-no-title'));
    for (const step of [0, 1_000, 1_500, 5_000, 60_000, 3_600_000]) {
      clock.t += step;
      const d = detector.evaluate();
      assert.equal(d.state, 'processing', `after ${step} ms`);
      assert.equal(d.reason.rule, 'claude.busy');
    }
  } finally {
    detector.dispose();
  }
});

test('after a submission: running until the screen changes, then processing until it settles, then waiting', async () => {
  const { detector, clock, write } = clockedDetector(provider('claude'));
  try {
    await write(screen('claude-idle-quoting'));
    clock.t += 2_000;
    assert.equal(detector.evaluate().reason.rule, 'claude.prompt');

    detector.noteInput('command', 'explain');
    let d = detector.evaluate();
    assert.equal(d.state, 'running', 'a stale prompt must not read as waiting');
    assert.equal(d.reason.source, 'user');
    clock.t += 60_000; // nothing happens on screen: still unknown, not waiting
    assert.equal(detector.evaluate().state, 'running');

    await write('\x1b[3A\r\x1b[2K❯ explain\x1b[3B\r'); // the agent echoes, nothing else yet
    d = detector.evaluate();
    assert.equal(d.state, 'processing');
    clock.t += 499;
    assert.equal(detector.evaluate().state, 'processing');
    clock.t += 1;
    d = detector.evaluate();
    assert.equal(d.state, 'waiting_input');
    assert.equal(d.reason.rule, 'claude.prompt');
  } finally {
    detector.dispose();
  }
});

test('typing at a prompt (keystrokes without Enter) keeps waiting_input without flicker', async () => {
  const { detector, clock, write } = clockedDetector(provider('claude'));
  const events: Detection[] = [];
  detector.onDidDetect((d) => events.push(d));
  try {
    await write(screen('claude-idle-quoting'));
    clock.t += 2_000;
    assert.equal(detector.evaluate().state, 'waiting_input');
    const before = events.length;
    for (const ch of 'hello') {
      detector.noteInput('input', ch);
      await write(ch);
      clock.t += 30;
      assert.equal(detector.evaluate().state, 'waiting_input');
    }
    assert.equal(events.length, before, 'no detection events while typing');
    detector.noteInput('input', '\r');
    assert.equal(detector.evaluate().state, 'running', 'Enter is a submission');
  } finally {
    detector.dispose();
  }
});

test('a permission prompt needs a short settle; a busy indicator is believed at once', async () => {
  const { detector, clock, write } = clockedDetector(provider('claude'));
  try {
    await write(screen('claude-permission'));
    assert.notEqual(detector.evaluate().state, 'waiting_input');
    clock.t += 250;
    const d = detector.evaluate();
    assert.equal(d.state, 'waiting_input');
    assert.equal(d.reason.rule, 'claude.permission-prompt');

    const busy = clockedDetector(provider('codex'));
    try {
      await busy.write(screen('codex-busy'));
      assert.equal(busy.detector.evaluate().state, 'processing');
    } finally {
      busy.detector.dispose();
    }
  } finally {
    detector.dispose();
  }
});

test('onDidDetect fires only when the verdict changes, with provenance', async () => {
  const { detector, clock, write } = clockedDetector(bare);
  const events: Detection[] = [];
  detector.onDidDetect((d) => events.push(d));
  try {
    await write('hello');
    for (let i = 0; i < 20; i++) {
      clock.t += 100;
      detector.evaluate();
    }
    // starting (lifecycle: no output) → starting (stability: drawing) → waiting, then silence.
    assert.deepEqual(
      events.map((e) => `${e.state}/${e.reason.rule}`),
      ['starting/screen-drawing', 'waiting_input/screen-stable'],
    );
    const e = events[1];
    assert.equal(e!.reason.source, 'stability');
    assert.equal(e!.reason.at, new Date(1_000_000 + 1000).toISOString());
  } finally {
    detector.dispose();
  }
});

test('OSC title: a busy title wins over a static screen; an idle title is stale until it changes after input', async () => {
  const { detector, clock, write } = clockedDetector(provider('claude'));
  try {
    await write('\x1b]0;✳ Claude Code\x07ready\r\n');
    clock.t += 10;
    assert.equal(detector.evaluate().reason.rule, 'claude.title-idle');

    detector.noteInput('command', 'go');
    await write('working\r\n');
    clock.t += 100;
    let d = detector.evaluate();
    assert.equal(d.state, 'processing', 'the idle title predates the input');
    assert.equal(d.reason.source, 'stability');

    await write('\x1b]0;⠙ Claude Code\x07');
    clock.t += 10_000; // screen static for a long time, title says busy
    d = detector.evaluate();
    assert.equal(d.state, 'processing');
    assert.equal(d.reason.source, 'osc-title');
    assert.equal(detector.title, '⠙ Claude Code');

    await write('\x1b]2;✳ Claude Code\x07');
    d = detector.evaluate();
    assert.equal(d.state, 'waiting_input');
    assert.equal(d.reason.rule, 'claude.title-idle');
  } finally {
    detector.dispose();
  }
});

test('auth and error outrank everything; an auth rule also sets auth_prompt', async () => {
  const { detector, clock, write } = clockedDetector(provider('claude'));
  try {
    await write('\x1b]0;⠙ Claude Code\x07'); // busy title
    await write(screen('claude-auth-401'));
    clock.t += 300;
    const d = detector.evaluate();
    assert.equal(d.state, 'error');
    assert.equal(d.authentication_required, true);
    assert.match(d.auth_prompt ?? '', /Please run \/login/);
  } finally {
    detector.dispose();
  }
});

test('resize re-reads the grid at the new size', async () => {
  const { detector, clock, write } = clockedDetector(provider('codex'), 80, 24);
  try {
    await write(screen('codex-idle'));
    clock.t += 5_000;
    assert.equal(detector.evaluate().reason.rule, 'codex.prompt');
    detector.resize(60, 20);
    clock.t += 5_000;
    const d = detector.evaluate();
    assert.equal(d.reason.rule, 'codex.prompt');
    assert.match(detector.screenText(), /Ask Codex to do anything/);
    detector.resize(60, 1); // only the footer row remains visible: the composer line is gone
    clock.t += 5_000;
    assert.notEqual(detector.evaluate().reason.rule, 'codex.prompt', detector.screenText());
  } finally {
    detector.dispose();
  }
});

test('a disposed detector ignores writes and keeps its last detection', async () => {
  const { detector } = clockedDetector(bare);
  detector.dispose();
  await new Promise<void>((resolve) => detector.write('late output', resolve));
  assert.equal(detector.evaluate().state, 'starting');
});

test('raw input without data counts as a submission (compatibility); with data only Enter does', async () => {
  const { detector, clock, write } = clockedDetector(provider('codex'));
  try {
    await write(screen('codex-idle'));
    clock.t += 5_000;
    assert.equal(detector.evaluate().state, 'waiting_input');
    detector.noteInput('input', 'abc');
    assert.equal(detector.evaluate().state, 'waiting_input');
    detector.noteInput('input', '\x1b[200~pasted\x1b[201~\r');
    assert.equal(detector.evaluate().state, 'running');
    await write('x');
    clock.t += 5_000;
    assert.equal(detector.evaluate().state, 'waiting_input');
    detector.noteInput('input');
    assert.equal(detector.evaluate().state, 'running');
  } finally {
    detector.dispose();
  }
});

test('self-driven evaluation: throttled while output floods, then settles to waiting on its own timers', async () => {
  const def: ProviderDefinition = { ...bare, stability_ms: 300 };

  const detector = createStateDetector(def, { cols: 80, rows: 24 }); // real clock, own timers
  const states: string[] = [];
  detector.onDidDetect((d) => states.push(d.state));
  try {
    const chunks = 2000;
    let parsed = 0;
    for (let i = 0; i < chunks; i++) detector.write(`line ${i} of a flood\r\n`, () => parsed++);
    const deadline = Date.now() + 20_000;
    while ((parsed < chunks || detector.evaluate().state !== 'waiting_input') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(detector.evaluate().state, 'waiting_input', states.join(','));
    // One grid read per throttle window at most, not one per chunk.
    assert.ok(detector.stats.gridReads < chunks / 10, JSON.stringify(detector.stats));
    assert.ok(detector.stats.gridReads >= 1);
    assert.match(detector.screenText(), /line 1999 of a flood/);
  } finally {
    detector.dispose();
  }
});
