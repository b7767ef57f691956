import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createTaskService } from '../../src-main/core/tasks/task-service.ts';
import { FAKE_AGENT, fakeProvider, fakeRegistry, openTaskDb, tempEnv } from './helpers.ts';

const fixtures = path.dirname(FAKE_AGENT);

test('codex and gemini dialects end to end: results, usage, failures as failed', async (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  // Bundled-provider ids pick their format by data (`<id>-stream-json`); argv as the real CLIs get it.
  const codex = fakeProvider('codex', {
    one_shot: {
      args: [path.join(fixtures, 'fake-codex.mjs'), 'exec', '--json'],
      prompt: { via: 'arg' },
      output: 'stream-json',
      full_access_args: [],
    },
  });
  // Flag mode puts `-p <prompt>` right after the binary, so the script itself is the binary here
  // (its shebang finds node on PATH); `node -p` would evaluate the prompt.
  const gemini = fakeProvider('gemini', {
    binary: path.join(fixtures, 'fake-gemini.mjs'),
    one_shot: {
      args: ['-o', 'stream-json'],
      prompt: { via: 'flag', flag: '-p' },
      output: 'stream-json',
      full_access_args: [],
    },
  });
  const service = createTaskService({
    db: opened.db,
    providers: fakeRegistry([codex, gemini]),
    workerId: 'w',
  });
  t.after(async () => {
    await service.shutdown({ requeue: false });
    opened.close();
    env.cleanup();
  });
  const { tasks } = await service.submit([
    { cli_tool: 'codex', prompt: 'hello' },
    { cli_tool: 'codex', prompt: 'fail' },
    { cli_tool: 'gemini', prompt: 'hi there' },
    { cli_tool: 'gemini', prompt: 'fail' },
  ]);
  const [ok, failed, gOk, gFailed] = await Promise.all(
    tasks.map((x) => service.waitForFinal(x.task_id, 30_000)),
  );
  assert.equal(ok!.state, 'passed');
  assert.equal(ok!.result_text, 'codex says: hello');
  assert.deepEqual(ok!.usage, {
    input_tokens: 1200,
    output_tokens: 60,
    cache_read_tokens: 700,
    cost_usd: null,
  });
  assert.equal(failed!.state, 'failed');
  assert.equal(failed!.error, 'stream disconnected before completion');
  assert.equal(failed!.attempts, 1);
  assert.equal(gOk!.state, 'passed', gOk!.error ?? '');
  assert.equal(gOk!.result_text, 'gemini says: hi there');
  assert.equal(gOk!.usage.input_tokens, 30);
  assert.equal(gOk!.usage.output_tokens, 12);
  assert.equal(gFailed!.state, 'failed');
  assert.equal(gFailed!.error, 'quota exceeded');
});
