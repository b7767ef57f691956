// A real bash in a PTY with the bundled `shell` provider: a prompt on the cursor line means waiting;
// a silent command (the screen stands still) is `running`, never a false "waiting".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAgent } from './agent-harness.ts';
import { provider } from './screen-replay.ts';

test('shell: prompt → waiting; typing keeps waiting; a silent command is not waiting; its end → prompt', async (t) => {
  const run = runAgent('/bin/bash', provider('shell'), {
    args: ['--noprofile', '--norc', '-i'],
    env: { PS1: 'dev@box:~$ ', HISTFILE: '/dev/null' },
  });
  t.after(() => run.close());
  const first = await run.waitForState('waiting_input');
  assert.equal(first.reason.rule, 'shell.prompt');
  assert.equal(first.reason.detail, 'matched "$" in the cursor line');

  const typedFrom = run.detections.length;
  for (const ch of 'sleep 4') run.type(ch);
  await run.waitFor('echo', () => run.detector.screenText().includes('$ sleep 4'));
  assert.equal(run.detector.evaluate().state, 'waiting_input');
  assert.deepEqual(run.detections.slice(typedFrom), [], 'no state change while typing at the prompt');

  const mark = run.detections.length;
  run.type('\r');
  // While sleep runs the cursor sits on an empty line and the screen is still (longer than the 3 s
  // stability window): the shell is busy, not waiting.
  await run.waitForState('running', (d) => d.reason.source === 'stability');
  await run.waitForState('waiting_input', (d) => d.reason.rule === 'shell.prompt');
  const after = run.detections.slice(mark).map((d) => d.state);
  assert.equal(after.indexOf('waiting_input'), after.length - 1, after.join(', '));
  run.type('exit\r');
  assert.equal(await run.exitCode, 0);
});
