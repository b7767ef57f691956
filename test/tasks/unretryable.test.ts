import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import type { AttemptOutcome } from '../../src-main/core/tasks/attempt-outcome.ts';
import { classifyOutcome } from '../../src-main/core/tasks/classify-outcome.ts';
import { getOutputFormat } from '../../src-main/core/tasks/output-formats.ts';
import { OneShotOutputParser } from '../../src-main/core/tasks/output-parser.ts';
import { createTaskService } from '../../src-main/core/tasks/task-service.ts';
import { FAKE_AGENT, fakeProvider, fakeRegistry, openTaskDb, tempEnv } from './helpers.ts';

const fixtures = path.dirname(FAKE_AGENT);

/** The bundled ids pick the codex and gemini dialects (and their fatal rules) by data. */
function setup(t: TestContext) {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const codex = fakeProvider('codex', {
    one_shot: {
      args: [path.join(fixtures, 'fake-codex.mjs'), 'exec', '--json'],
      prompt: { via: 'arg' },
      output: 'stream-json',
      full_access_args: [],
    },
  });
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
    providers: fakeRegistry([codex, gemini, fakeProvider('fake')]),
    workerId: 'w-fatal',
    retryBaseMs: 20,
    env: { ...process.env, HOME: env.dir, FAKE_AGENT_LOG: env.log },
  });
  t.after(async () => {
    await service.shutdown({ requeue: false });
    opened.close();
    env.cleanup();
  });
  const starts = (tool: string) =>
    readFileSync(env.log, { encoding: 'utf8', flag: 'a+' })
      .split('\n')
      .filter((l) => l.startsWith(`start ${tool} `)).length;
  return { env, service, starts };
}

test('codex "Not inside a trusted directory" and gemini "Please set an Auth method" are failed once, never retried', async (t) => {
  const { env, service, starts } = setup(t);
  const { tasks } = await service.submit([
    { cli_tool: 'codex', prompt: 'untrusted', max_retries: 3 },
    { cli_tool: 'gemini', prompt: 'noauth', max_retries: 3 },
  ]);
  const [codex, gemini] = await Promise.all(tasks.map((x) => service.waitForFinal(x.task_id, 30_000)));

  assert.equal(codex!.state, 'failed');
  assert.equal(codex!.attempts, 1);
  assert.equal(starts('codex'), 1, 'the agent ran exactly once');
  assert.equal(codex!.exit_code, 1);
  assert.equal(
    codex!.error,
    'codex: the working directory is not trusted (exit 1; not retried): Not inside a trusted directory and --skip-git-repo-check was not specified.',
  );
  assert.match(codex!.state_reason, /\(codex\.untrusted-directory, exit 1\): not retried/);

  assert.equal(gemini!.state, 'failed');
  assert.equal(gemini!.attempts, 1);
  assert.equal(starts('gemini'), 1);
  assert.equal(gemini!.exit_code, 41);
  assert.match(
    gemini!.error ?? '',
    /^gemini: authentication is missing or was refused \(exit 41; not retried\): Please set an Auth method in your .*settings\.json or specify one of the following environment variables before running: GEMINI_API_KEY/,
  );
  assert.ok(gemini!.error!.includes(env.dir), 'the real message, with the settings path the agent printed');
  assert.match(gemini!.state_reason, /gemini\.auth-method/);

  for (const task of [codex!, gemini!]) {
    const detail = await service.getDetail(task.task_id);
    assert.ok(
      !detail.history.some((h) => h.state_from !== null && h.state_to === 'queued'),
      `never re-queued: ${JSON.stringify(detail.history)}`,
    );
    assert.equal(detail.history.at(-1)?.reason, task.state_reason);
  }
});

test('a failure no fatal rule matches (no result, exit 3) is still retried', async (t) => {
  const { service } = setup(t);
  const { tasks } = await service.submit({ cli_tool: 'fake', prompt: 'noresult', max_retries: 2 });
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.equal(task.state, 'error');
  assert.equal(task.attempts, 3);
  assert.match(task.state_reason, /exit 3 without a result; last output line: fatal: something broke/);
});

test('exit 0 without a result message: passed, and the task says what happened', async (t) => {
  const { service } = setup(t);
  const { tasks } = await service.submit({ cli_tool: 'fake', prompt: 'quiet:no-changes-needed' });
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.equal(task.state, 'passed');
  assert.equal(task.result_text, null);
  assert.equal(task.state_reason, 'exited 0 without a result message; last output line: no-changes-needed');
});

/** An attempt that printed `lines` on stderr and exited with `code`, through a dialect's parser. */
function outcome(format: string, code: number, stderr: string[], stdout: string[] = []): AttemptOutcome {
  const parser = new OneShotOutputParser(getOutputFormat(format)!);
  const raw = stdout.flatMap((l) => parser.push(`${l}\n`)).filter((l) => l.kind === 'raw');
  const unstructured = [...raw.map((l) => l.content), ...stderr].join('\n');
  return {
    end: { kind: 'exited', exit_code: code, signal: null },
    parsed: parser.result(),
    stderr_tail: stderr.join('\n'),
    unstructured_tail: unstructured,
    last_line: stderr.at(-1) ?? stdout.at(-1) ?? null,
    duration_ms: 5,
  };
}

test('fatal rules are per-dialect data, matched only outside the answer', () => {
  const ctx = (id: string) => ({ cliTool: id.split('-')[0]!, binary: 'x', format: getOutputFormat(id)! });
  const untrusted = ['Not inside a trusted directory and --skip-git-repo-check was not specified.'];

  // The codex dialect knows codex's message; gemini's dialect does not, so there it is infrastructure.
  assert.equal(
    classifyOutcome(ctx('codex-stream-json'), outcome('codex-stream-json', 1, untrusted)).state,
    'failed',
  );
  const elsewhere = classifyOutcome(ctx('gemini-stream-json'), outcome('gemini-stream-json', 1, untrusted));
  assert.equal(elsewhere.state, 'error');
  assert.equal(elsewhere.retryable, true);

  // gemini documents exit 41 as an authentication failure: the code alone decides.
  const exit41 = classifyOutcome(
    ctx('gemini-stream-json'),
    outcome('gemini-stream-json', 41, ['some other words']),
  );
  assert.equal(exit41.state, 'failed');
  assert.match(exit41.reason, /gemini\.auth-exit/);
  const exit52 = classifyOutcome(
    ctx('gemini-stream-json'),
    outcome('gemini-stream-json', 52, ['Invalid configuration in settings.json']),
  );
  assert.equal(exit52.state, 'failed');
  assert.match(exit52.reason, /configuration problem \(gemini\.config-exit, exit 52\)/);
  const exit41codex = classifyOutcome(
    ctx('codex-stream-json'),
    outcome('codex-stream-json', 41, ['some other words']),
  );
  assert.equal(exit41codex.state, 'error', 'exit 41 means nothing for codex');

  // Common rules: a refused key on any dialect, including plain text output.
  const key = classifyOutcome(
    ctx('text'),
    outcome('text', 1, ['Error: 401 Unauthorized - Incorrect API key provided']),
  );
  assert.equal(key.state, 'failed');
  assert.match(key.reason, /authentication/);

  const invalidKey = classifyOutcome(
    ctx('cursor-stream-json'),
    outcome('cursor-stream-json', 1, ['Error: Invalid API key. Set CURSOR_API_KEY.']),
  );
  assert.equal(invalidKey.state, 'failed');
  assert.match(invalidKey.reason, /any\.invalid-api-key/);

  // The API executor: 4xx is the user's to fix, 5xx/529 and no answer at all are infrastructure.
  const api = (status: number | null, type: string) =>
    classifyOutcome(ctx('claude-stream-json'), {
      ...outcome('claude-stream-json', 0, []),
      end: { kind: 'api_error', status, error_type: type, message: `${status} ${type}` },
    });
  for (const [status, type, kind] of [
    [401, 'authentication_error', /authentication/],
    [403, 'permission_error', /authentication/],
    [400, 'invalid_request_error', /configuration/],
    [404, 'not_found_error', /configuration/],
  ] as const) {
    const v = api(status, type);
    assert.equal(v.state, 'failed', `${status}`);
    assert.equal(v.retryable, false);
    assert.match(v.reason, kind);
  }
  for (const [status, type] of [
    [500, 'api_error'],
    [529, 'overloaded_error'],
    [null, 'connection'],
  ] as const) {
    const v = api(status, type);
    assert.equal(v.state, 'error', `${status}`);
    assert.equal(v.retryable, true);
  }

  // An answer that merely quotes the words is not a failure: the run succeeded with a result.
  const answer = JSON.stringify({
    type: 'result',
    result: 'Fixed the handler for "Not inside a trusted directory" and 401 Unauthorized errors',
    is_error: false,
  });
  const quoted = classifyOutcome(ctx('claude-stream-json'), outcome('claude-stream-json', 0, [], [answer]));
  assert.equal(quoted.state, 'passed');

  // Exit 0 without a result, but the agent said it is not logged in: failed, not "passed".
  const loggedOut = classifyOutcome(
    ctx('claude-stream-json'),
    outcome('claude-stream-json', 0, ['Not logged in · Please run /login']),
  );
  assert.equal(loggedOut.state, 'failed');
  assert.match(loggedOut.reason, /claude\.login/);
});
