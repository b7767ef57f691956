import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadConfig } from '../../src-main/core/config.ts';
import { createCore } from '../../src-main/core/core.ts';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { issueToken } from '../../src-main/server/auth/tokens.ts';
import { startServer } from '../../src-main/server/server.ts';
import { tempEnv, waitFor } from './helpers.ts';
import { startMockMessagesApi } from './mock-messages-api.ts';

const KEY = 'sk-ant-api03-server-test-key-abcdefghij';

/**
 * The whole path as a user sets it up: config.yaml (tasks.api_fallback) and providers.yaml (a claude
 * binary that is not there) in the data dir, the real core and server, REST with a bearer token.
 */
async function startAutodev(t: TestContext, apiFallback: boolean) {
  const env = tempEnv();
  const mock = await startMockMessagesApi([
    {
      kind: 'stream',
      chunks: ['hello from ', 'the API'],
      usage: { input: 7, output: 4, cache_read: 0, cache_write: 0 },
    },
  ]);
  const providersFile = path.join(env.dir, 'providers.yaml');
  // The bundled api_fallback data, overridden the way a user would (another model, other prices).
  writeFileSync(
    providersFile,
    [
      'providers:',
      '  claude:',
      `    binary: ${path.join(env.dir, 'missing', 'claude')}`,
      '    api_fallback:',
      '      api: anthropic-messages',
      '      key_env: ANTHROPIC_API_KEY',
      '      base_url_env: ANTHROPIC_BASE_URL',
      '      base_url: https://api.anthropic.com',
      '      model: claude-test-model',
      '      max_tokens: 1000',
      '      price_per_mtok: { input: 1000, output: 2000, cache_read: 0, cache_write: 0 }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(env.dir, 'config.yaml'),
    `providers_file: ${providersFile}\ntasks:\n  api_fallback: ${apiFallback}\n`,
  );
  mkdirSync(path.join(env.dir, 'work'));
  const processEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: env.dir,
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: mock.url,
  };
  const config = loadConfig({ dataDir: env.dir, env: processEnv });
  assert.equal(config.tasks.api_fallback, apiFallback, 'the config key is read');
  const logs: string[] = [];
  const core = await createCore(config, {
    env: processEnv,
    logger: createLogger({ level: 'debug', sink: (line) => logs.push(line) }),
  });
  const key = new Uint8Array(randomBytes(32));
  const server = await startServer({ core, signingKey: key, host: '127.0.0.1', port: 0, dashboardDir: null });
  t.after(async () => {
    await server.close();
    await core.close();
    await mock.close();
    env.cleanup();
  });
  const { token } = await issueToken(key, { scope: 'control', ttlSeconds: 600 });
  const base = server.url.replace(/\/$/, '');
  const api = async (method: string, pathname: string, body?: unknown) => {
    const res = await fetch(`${base}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
    return { status: res.status, body: (await res.json()) as any };
  };
  return { api, mock, logs, workDir: path.join(env.dir, 'work') };
}

test('REST: a claude task on a machine without claude runs through the API and says executor "api"', async (t) => {
  const { api, mock, logs, workDir } = await startAutodev(t, true);
  const submitted = await api('POST', '/tasks', {
    cli_tool: 'claude',
    prompt: 'say hello',
    working_directory: workDir,
  });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  const id = submitted.body.task_id as string;
  const done = await waitFor(async () => {
    const r = await api('GET', `/tasks/${id}`);
    return ['passed', 'failed', 'error'].includes(r.body.task.state) && r;
  }, 'a final state');
  assert.equal(done.body.task.state, 'passed', JSON.stringify(done.body.task));
  assert.equal(done.body.task.executor, 'api');
  assert.equal(done.body.task.result_text, 'hello from the API');
  assert.match(done.body.task.state_reason, /answered through the API/);
  assert.equal(mock.requests.length, 1);
  assert.equal(mock.requests[0]!.body.model, 'claude-test-model', 'providers.yaml chose the model');
  assert.equal(mock.requests[0]!.body.max_tokens, 1000);
  // 7 input and 4 output tokens at 1000 and 2000 USD per million.
  assert.ok(Math.abs(done.body.task.usage.cost_usd - (7 * 1000 + 4 * 2000) / 1e6) < 1e-12);
  const listed = await api('GET', '/tasks?cli_tool=claude');
  assert.equal(listed.body.items[0].executor, 'api');
  assert.ok(!logs.some((l) => l.includes(KEY)), 'the key never reaches the logs');
});

test('REST: with tasks.api_fallback: false the same task fails and says the fallback is off', async (t) => {
  const { api, mock, workDir } = await startAutodev(t, false);
  const submitted = await api('POST', '/tasks', {
    cli_tool: 'claude',
    prompt: 'say hello',
    working_directory: workDir,
  });
  const id = submitted.body.task_id as string;
  const done = await waitFor(async () => {
    const r = await api('GET', `/tasks/${id}`);
    return ['passed', 'failed', 'error'].includes(r.body.task.state) && r;
  }, 'a final state');
  assert.equal(done.body.task.state, 'error');
  assert.equal(done.body.task.executor, null);
  assert.match(done.body.task.error, /the API fallback is turned off \(tasks\.api_fallback: false/);
  assert.equal(mock.requests.length, 0);
});
