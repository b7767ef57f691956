import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sessionActivity } from '../../src-shared/activity.ts';
import { type AutodevServe, type Json, startAutodevServe } from './autodev-serve.ts';
import { formatTable, Recorder } from './recorder.ts';
import { ScreenMirror } from './screen-mirror.ts';

// A plain shell through `autodev serve`: at its prompt it is "ready" (nobody is waiting on the user),
// never the amber "needs you" of an agent; a command at work is "working"; and back.

let serve: AutodevServe;
before(async () => {
  serve = await startAutodevServe({ env: { SHELL: '/bin/bash' } });
});
after(async () => {
  await serve?.stop();
});

test('shell: ready at its prompt (not "needs you"), working while a command runs, ready again', async (t) => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'autodev-shell-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const info = await serve.createSession({
    cli_tool: 'shell',
    cols: 100,
    rows: 30,
    working_directory: home,
    // A temporary HOME: root's ~/.bashrc can stall a shell.
    env: { HOME: home },
  });
  assert.equal(info.provider_kind, 'shell');
  const screen = new ScreenMirror(100, 30);
  const ws = await serve.openSessionSocket(info.session_id);
  t.after(() => ws.close());
  ws.on('message', (raw) => {
    const msg: Json = JSON.parse(raw.toString());
    if (msg.type === 'output') screen.write(String(msg.data.output), Date.now());
    else if (msg.type === 'snapshot') screen.reset(String(msg.data.screen), Date.now());
  });
  const id = info.session_id;
  const recorder = new Recorder(
    'shell',
    'prompt',
    () => serve.events.forSession(id),
    (l) => serve.events.onSample((s) => s.session.session_id === id && l(s)),
  );

  const prompt = await screen.waitFor((f) => /[#$] ?$/.test(f.text));
  recorder.truth(prompt.at, 'ready', 'prompt drawn');
  await recorder.expect({
    step: 'at the prompt',
    truthAt: prompt.at,
    expected: 'ready (no attention)',
    accept: (_s, a) => a.activity === 'ready' && !a.attention,
  });

  const sent = Date.now();
  ws.send(JSON.stringify({ type: 'input', data: { data: 'sleep 3; echo slept-$((6*7))\r' } }));
  const running = await screen.waitFor((f) => f.text.includes('sleep 3'), { since: sent });
  recorder.truth(running.at, 'processing', 'sleep runs');
  await recorder.expect({
    step: 'sleep 3 runs',
    truthAt: running.at,
    expected: 'working',
    accept: (_s, a) => a.activity === 'working',
  });
  const done = await screen.waitFor((f) => /slept-42\n[^\n]*[#$] ?$/.test(f.text), {
    since: sent,
    timeoutMs: 15_000,
  });
  recorder.truth(done.at, 'ready', 'prompt back');
  recorder.never({
    step: 'while sleep runs',
    from: running.at,
    to: done.at - 50,
    expected: 'not ready / needs you',
    reject: (s, a) => s.state === 'waiting_input' || a.attention,
  });
  await recorder.expect({
    step: 'prompt back',
    truthAt: done.at,
    expected: 'ready (no attention)',
    accept: (_s, a) => a.activity === 'ready' && !a.attention,
  });

  // No state this shell ever had asked for the user's attention.
  const asked = serve.events.forSession(id).filter((s) => sessionActivity(s.session).attention);
  for (const line of formatTable(recorder.results).split('\n')) t.diagnostic(line);
  assert.deepEqual(
    asked.map((s) => s.session.state),
    [],
  );
  assert.deepEqual(
    recorder.results.filter((r) => !r.ok).map((r) => `${r.step}: ${r.actual}`),
    [],
    recorder.timeline(),
  );
  screen.dispose();
});
