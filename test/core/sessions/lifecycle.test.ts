import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessLimitError } from '../../../src-main/core/sessions/errors.ts';
import { createPassiveDetector } from '../../../src-main/core/sessions/index.ts';
import type { CommandJournal } from '../../../src-main/core/sessions/types.ts';
import type { Detection, ScreenStateDetector } from '../../../src-main/core/state/types.ts';
import { Emitter } from '../../../src-main/core/util/event.ts';
import type { SessionInfo, SessionState } from '../../../src-shared/session.ts';
import { collect, nodeProvider, provider, testManager, waitFor } from './helpers.ts';

const promptRule = {
  id: 'test.prompt',
  pattern: '^>\\s*$',
  region: { kind: 'last-lines' as const, count: 1 },
  state: 'waiting_input' as const,
};
const promptAgent = (extra = {}) =>
  nodeProvider('prompt', 'proc-prompt.mjs', [], { screen_rules: [promptRule], stability_ms: 300, ...extra });

function trackStates(manager: ReturnType<typeof testManager>['manager']) {
  const seen: { id: string; from: SessionState; to: SessionState }[] = [];
  manager.onDidChangeState((e) =>
    seen.push({ id: e.session.session_id, from: e.previous, to: e.session.state }),
  );
  return seen;
}

test('a prompt agent goes starting → waiting_input, works on a command, waits again, exits 0 → completed', async (t) => {
  const { manager } = testManager([promptAgent()]);
  t.after(() => manager.shutdown());
  const seen = trackStates(manager);
  let id: string | undefined;
  const out = collect(manager, () => id);
  const info = await manager.create({ cli_tool: 'prompt' });
  id = info.session_id;
  assert.equal(info.state, 'starting');
  assert.equal(info.state_reason.source, 'lifecycle');
  assert.ok(info.pid && info.pid > 0);

  await waitFor('waiting_input', () => manager.get(id as string)?.state === 'waiting_input');
  const waiting = manager.get(id) as SessionInfo;
  assert.equal(waiting.state_reason.rule, 'test.prompt');

  manager.command(id, 'hello');
  await waitFor('command output', () => out.text().includes('done: hello'));
  await waitFor('waiting again', () => {
    const s = manager.get(id as string);
    return s?.state === 'waiting_input' && seen.filter((e) => e.to === 'waiting_input').length >= 2;
  });
  assert.deepEqual(manager.get(id)?.command_history, ['hello']);

  manager.command(id, 'exit 0');
  await waitFor('completed', () => manager.get(id as string)?.state === 'completed');
  const done = manager.get(id) as SessionInfo;
  assert.equal(done.exit_code, 0);
  assert.equal(done.state_reason.source, 'exit');
  assert.ok(done.ended_at);
  // Every transition we saw was a valid one, starting from initializing → starting.
  assert.equal(seen[0]?.to, 'starting');
  assert.ok(seen.some((e) => e.to === 'waiting_input'));
});

test('typing without Enter is not a submission: waiting_input holds until Enter', async (t) => {
  // A prompt rule that, like the real agents' rules, still matches with typed text after the marker.
  const { manager } = testManager([
    promptAgent({ screen_rules: [{ ...promptRule, id: 'test.prompt-line', pattern: '^>' }] }),
  ]);
  t.after(() => manager.shutdown());
  const seen = trackStates(manager);
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'prompt' })).session_id;
  await waitFor('waiting_input', () => manager.get(id as string)?.state === 'waiting_input');
  const before = seen.length;
  for (const key of 'hel') manager.input(id, key);
  await waitFor('echo of the typed keys', () => out.text().includes('hel'));
  // Longer than the stability window: a keystroke counted as a submission would show running/processing.
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(
    seen.slice(before).map((e) => e.to),
    [],
    'typing must not move the session out of waiting_input',
  );
  manager.input(id, 'lo\r');
  await waitFor('command output', () => out.text().includes('done: hello'));
});

test('a crash with exit 3 ends in error with code 3 and the reason says so', async (t) => {
  const { manager } = testManager([nodeProvider('crash', 'proc-crash.mjs')]);
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  const exits: SessionInfo[] = [];
  manager.onDidExit((s) => exits.push(s));
  const info = await manager.create({ cli_tool: 'crash' });
  id = info.session_id;
  await waitFor('exit', () => exits.length === 1);
  const s = manager.get(id) as SessionInfo;
  assert.equal(s.state, 'error');
  assert.equal(s.exit_code, 3);
  assert.match(s.state_reason.detail, /exited with code 3/);
  assert.match(out.text(), /something broke/);
  // Output reached consumers before the exit event.
  assert.equal(exits[0]?.last_seq, s.last_seq);
  assert.ok(s.last_seq >= 1);
});

test('a missing binary is a session in error with a clear reason, never a throw', async (t) => {
  const { manager } = testManager([provider('codex', '/nonexistent/bin/codex')]);
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'codex' });
  assert.equal(info.state, 'error');
  assert.equal(info.state_reason.detail, '/nonexistent/bin/codex is not installed or not on PATH');
  assert.equal(info.pid, null);
  const diag = manager.diagnostics(info.session_id);
  assert.equal(diag.recent_errors[0]?.error_code, 'BINARY_NOT_FOUND');
  // It does not count against the limit and can be removed.
  manager.remove(info.session_id);
  assert.equal(manager.get(info.session_id), undefined);
});

test('a missing working directory is an error state too', async (t) => {
  const { manager } = testManager([nodeProvider('crash', 'proc-crash.mjs')]);
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'crash', working_directory: '/nonexistent/dir' });
  assert.equal(info.state, 'error');
  assert.match(info.state_reason.detail, /working directory/);
});

test('max sessions → ProcessLimitError; ending one frees a slot', async (t) => {
  const { manager } = testManager([provider('sleep', '/bin/sleep', ['30'])], { limits: { max_sessions: 2 } });
  t.after(() => manager.shutdown());
  const a = await manager.create({ cli_tool: 'sleep' });
  await manager.create({ cli_tool: 'sleep' });
  await assert.rejects(manager.create({ cli_tool: 'sleep' }), (e: unknown) => {
    assert.ok(e instanceof ProcessLimitError);
    assert.equal(e.error_code, 'PROCESS_LIMIT');
    return true;
  });
  await manager.terminate(a.session_id);
  assert.equal(manager.get(a.session_id)?.state, 'terminated');
  const c = await manager.create({ cli_tool: 'sleep' });
  assert.equal(c.state, 'starting');
});

test('the idle timeout ends a silent session in error with the figure', async (t) => {
  const { manager } = testManager([provider('sleep', '/bin/sleep', ['30'])], {
    limits: { idle_timeout_s: 0.5, terminate_grace_ms: 500 },
    sampleIntervalMs: 100,
  });
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'sleep' });
  await waitFor('idle timeout', () => manager.get(info.session_id)?.state === 'error');
  const s = manager.get(info.session_id) as SessionInfo;
  assert.equal(s.state_reason.source, 'limit');
  assert.equal(s.state_reason.rule, 'idle_timeout_s');
  assert.match(s.state_reason.detail, /idle for [\d.]+ s .*idle timeout of 0.5 s/);
  assert.equal(manager.diagnostics(info.session_id).recent_errors[0]?.error_code, 'PROCESS_TIMEOUT');
});

test('a session with a viewer attached never idles out; the clock starts when the last viewer leaves', async (t) => {
  const { manager } = testManager([provider('sleep', '/bin/sleep', ['30'])], {
    limits: { idle_timeout_s: 0.5, terminate_grace_ms: 500 },
    sampleIntervalMs: 100,
  });
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'sleep' });
  const viewer = manager.attach(info.session_id, { flowControlled: false, onData() {} });
  // Four idle windows with a viewer attached: still alive.
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(manager.get(info.session_id)?.state, 'starting');
  const detachedAt = Date.now();
  viewer.dispose();
  await waitFor('idle timeout after the viewer left', () => manager.get(info.session_id)?.state === 'error');
  assert.ok(Date.now() - detachedAt >= 500, 'the idle window is counted from the detach');
});

test('max run time and memory limits terminate with the figure in the reason', async (t) => {
  const { manager } = testManager([provider('sleep', '/bin/sleep', ['30'])], {
    limits: { max_memory_mb: 0.01, idle_timeout_s: null, terminate_grace_ms: 500 },
    sampleIntervalMs: 100,
  });
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'sleep' });
  await waitFor('memory limit', () => manager.get(info.session_id)?.state === 'error');
  const s = manager.get(info.session_id) as SessionInfo;
  assert.equal(s.state_reason.rule, 'max_memory_mb');
  assert.match(s.state_reason.detail, /^memory [\d.]+ MB over the limit of 0\.0 MB$/);
  const diag = manager.diagnostics(info.session_id);
  assert.equal(diag.recent_errors[0]?.error_code, 'RESOURCE_LIMIT');
  assert.ok(
    diag.resource_usage && diag.resource_usage.memory_mb > 0 && diag.resource_usage.num_processes >= 1,
  );
});

test('max run time and a sustained CPU breach end the session in error with the figure', async (t) => {
  const { manager } = testManager(
    [provider('sleep', '/bin/sleep', ['30']), provider('spin', '/bin/sh', ['-c', 'while :; do :; done'])],
    { limits: { max_run_time_s: 0.3, terminate_grace_ms: 500 }, sampleIntervalMs: 100 },
  );
  t.after(() => manager.shutdown());
  const slow = await manager.create({ cli_tool: 'sleep' });
  await waitFor('run time limit', () => manager.get(slow.session_id)?.state === 'error');
  assert.equal(manager.get(slow.session_id)?.state_reason.rule, 'max_run_time_s');
  assert.match(manager.get(slow.session_id)?.state_reason.detail ?? '', /over the maximum run time of 0.3 s/);

  const { manager: cpuManager } = testManager([provider('spin', '/bin/sh', ['-c', 'while :; do :; done'])], {
    limits: { max_cpu_percent: 1, terminate_grace_ms: 500 },
    sampleIntervalMs: 150,
    cpuBreachSamples: 2,
  });
  t.after(() => cpuManager.shutdown());
  const spin = await cpuManager.create({ cli_tool: 'spin' });
  await waitFor('cpu limit', () => cpuManager.get(spin.session_id)?.state === 'error');
  const s = cpuManager.get(spin.session_id) as SessionInfo;
  assert.equal(s.state_reason.rule, 'max_cpu_percent');
  assert.match(s.state_reason.detail, /^CPU [\d.]+% over the limit of 1%$/);
});

test('resource_usage samples the whole tree', async (t) => {
  const { manager } = testManager([provider('sh', '/bin/sh', ['-c', 'sleep 30 & sleep 30 & wait'])], {
    sampleIntervalMs: 100,
  });
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'sh' });
  const usage = await waitFor('usage with 3 processes', () => {
    const u = manager.diagnostics(info.session_id).resource_usage;
    return u && u.num_processes === 3 ? u : null;
  });
  assert.ok(usage.num_threads >= 3);
  assert.ok(usage.num_fds >= 3);
  assert.ok(usage.memory_mb > 0);
});

test('commands: bracketed paste then Enter, journaled synchronously first; a throwing journal does not stop input', async (t) => {
  const entries: Parameters<CommandJournal['record']>[0][] = [];
  let fail = false;
  const journal: CommandJournal = {
    record(entry) {
      if (fail) throw new Error('disk full');
      entries.push(entry);
    },
  };
  const { manager, logs } = testManager([promptAgent({ bracketed_paste: true })], { journal });
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  const info = await manager.create({ cli_tool: 'prompt' });
  id = info.session_id;
  await waitFor('prompt', () => out.text().includes('> '));
  manager.command(id, 'one\x1b[201~two');
  assert.equal(entries.length, 1, 'journaled before command() returned');
  assert.deepEqual(
    { kind: entries[0]?.kind, text: entries[0]?.text, session: entries[0]?.session_id },
    { kind: 'command', text: 'one\x1b[201~two', session: id },
  );
  // The paste-end marker inside the text was stripped; the agent saw one paste, then Enter.
  await waitFor('pasted command ran', () => out.text().includes('done: PASTE[onetwo]'));

  fail = true;
  manager.input(id, 'x');
  manager.input(id, '\r');
  await waitFor('input despite journal failure', () => out.text().includes('done: x'));
  assert.ok(logs.some((l) => l.msg === 'command journal failed; input continues'));
  assert.equal(manager.diagnostics(id).recent_errors.at(-1)?.error_code, 'PERSISTENCE_PAUSED');
});

test('interrupt sends Ctrl-C, which the tty turns into SIGINT for the foreground process group', async (t) => {
  const script = 'trap "echo got-sigint" INT; echo ready; while :; do sleep 0.05; done';
  const { manager } = testManager([provider('sh', '/bin/sh', ['-c', script])], {
    detectorFactory: createPassiveDetector,
  });
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'sh' })).session_id;
  await waitFor('ready', () => out.text().includes('ready'));
  manager.interrupt(id);
  await waitFor('SIGINT trapped', () => out.text().includes('got-sigint'));
  assert.equal(manager.get(id)?.ended_at, null, 'the shell survived its trapped SIGINT');
});

test('the initial prompt is sent once the agent first waits for input', async (t) => {
  const { manager } = testManager([promptAgent()]);
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'prompt', initial_prompt: 'first task' })).session_id;
  await waitFor('initial prompt ran', () => out.text().includes('done: first task'));
  assert.deepEqual(manager.get(id)?.command_history, ['first task']);
  assert.equal(out.text().split('working: first task').length, 2, 'sent exactly once');
});

test('invalid transitions from the detector are logged and refused; ended sessions never change state', async (t) => {
  const detectors: Emitter<Detection>[] = [];
  const detectorFactory = (): ScreenStateDetector => {
    const emitter = new Emitter<Detection>();
    detectors.push(emitter);
    return {
      write: (_d, cb) => cb?.(),
      resize() {},
      noteInput() {},
      evaluate: () => ({
        state: 'starting',
        authentication_required: false,
        auth_prompt: null,
        reason: { source: 'lifecycle', detail: 'x', at: new Date().toISOString() },
      }),
      onDidDetect: emitter.event,
      serialize: () => 'SCREEN',
      screenText: () => '',
      regionText: () => '',
      onReply: () => ({ dispose() {} }),
      title: null,
      dispose() {},
    };
  };
  const { manager, logs } = testManager([nodeProvider('crash', 'proc-crash.mjs', ['0'])], {
    detectorFactory,
  });
  t.after(() => manager.shutdown());
  const detection = (state: Detection['state'], auth = false): Detection => ({
    state,
    authentication_required: auth,
    auth_prompt: auth ? 'Sign in with ChatGPT' : null,
    reason: { source: 'screen-rule', rule: `test.${state}`, detail: 'test', at: new Date().toISOString() },
  });
  // The mirror lives with the PTY in the host, so screen evidence cannot precede the process.
  const info = await manager.create({ cli_tool: 'crash' });
  assert.equal(info.state, 'starting');
  detectors[0]?.fire(detection('running'));
  detectors[0]?.fire(detection('initializing' as Detection['state']));
  assert.ok(
    logs.some(
      (l) => l.msg === 'refused invalid transition' && l.from === 'running' && l.to === 'initializing',
    ),
  );

  detectors[0]?.fire(detection('waiting_input', true));
  const authed = manager.get(info.session_id) as SessionInfo;
  assert.equal(authed.state, 'waiting_input');
  assert.equal(authed.authentication_required, true);
  assert.equal(authed.auth_prompt, 'Sign in with ChatGPT');
  assert.equal(authed.state_reason.rule, 'test.waiting_input');

  await waitFor('completed', () => manager.get(info.session_id)?.state === 'completed');
  detectors[0]?.fire(detection('processing'));
  assert.equal(manager.get(info.session_id)?.state, 'completed');
  assert.equal(manager.get(info.session_id)?.authentication_required, false);
  assert.equal((await manager.snapshot(info.session_id)).screen, 'SCREEN');
});

test('input to an ended or unknown session is a typed error', async (t) => {
  const { manager } = testManager([nodeProvider('crash', 'proc-crash.mjs', ['0'])]);
  t.after(() => manager.shutdown());
  const info = await manager.create({ cli_tool: 'crash' });
  await waitFor('completed', () => manager.get(info.session_id)?.state === 'completed');
  assert.throws(() => manager.input(info.session_id, 'x'), { error_code: 'SESSION_NOT_RUNNING' });
  assert.throws(() => manager.input('nope', 'x'), { error_code: 'NOT_FOUND' });
  await assert.rejects(manager.create({ cli_tool: 'unknown-tool' }), { error_code: 'PROVIDER_UNKNOWN' });
  assert.equal(manager.rename(info.session_id, 'renamed').name, 'renamed');
});
