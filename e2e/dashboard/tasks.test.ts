import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { Page as ApiPage } from '../../src-shared/rest.ts';
import type { TaskInfo } from '../../src-shared/tasks.ts';
import { launchBrowser, screenshot, signIn, waitFor } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// The tasks view against a real `autodev serve` whose `oneshot` provider is the claude-style
// stream-json fake agent (test/fixtures/oneshot/fake-agent.mjs: the prompt picks its behaviour).
// The per-user rate limit is 10 task runs per hour: this file queues 6.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;
let page: Page;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser();
  context = browser.context;
  page = await context.newPage();
  await signIn(page, server.url, await server.token('control'));
  await page.getByRole('button', { name: 'Tasks' }).click();
  await page.getByRole('region', { name: 'Tasks' }).waitFor();
  // Every state each task row shows, in order: proves the lists change live (events, no reload).
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {};
    (window as unknown as { taskStates: typeof seen }).taskStates = seen;
    const scan = () => {
      for (const row of document.querySelectorAll<HTMLElement>('.task-row[data-task-id]')) {
        const id = row.dataset.taskId ?? '';
        const state = row.querySelector<HTMLElement>('[data-task-state]')?.dataset.taskState ?? '';
        const list = seen[id] ?? [];
        seen[id] = list;
        if (list.at(-1) !== state) list.push(state);
      }
    };
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const form = () => page.getByRole('form', { name: 'New task' });
const row = (prompt: string) =>
  page.locator('.task-row', { has: page.locator('.task-title', { hasText: new RegExp(`^${prompt}$`) }) });
const list = (name: 'queue' | 'running' | 'finished') => page.locator(`[data-list="${name}"]`);

async function taskByPrompt(prompt: string): Promise<TaskInfo> {
  const tasks = await server.rest<ApiPage<TaskInfo>>('GET', '/tasks?limit=500');
  const found = (tasks.items ?? (tasks as unknown as { tasks: TaskInfo[] }).tasks).find(
    (t) => t.prompt === prompt,
  );
  assert.ok(found, `task ${prompt} exists`);
  return found;
}

async function stateOf(prompt: string): Promise<string | null> {
  return row(prompt).locator('[data-task-state]').first().getAttribute('data-task-state', { timeout: 1000 });
}

async function submit(prompt: string, options: { batch?: boolean; priority?: string } = {}): Promise<void> {
  const f = form();
  await f.getByLabel('Provider').selectOption('oneshot');
  const batch = f.getByLabel('Batch: one prompt per line');
  if ((await batch.isChecked()) !== (options.batch ?? false)) await batch.click();
  await f.getByLabel(options.batch ? 'Prompts (one task per line)' : 'Prompt', { exact: true }).fill(prompt);
  if (options.priority) await f.getByLabel('Priority (0–100)').fill(options.priority);
  await f.getByRole('button', { name: /^Queue/ }).click();
  await f
    .getByRole('status')
    .filter({ hasText: /^Queued \d+ tasks?\.$/ })
    .waitFor({ timeout: 20_000 });
}

test('submit from the form: the task goes queued → running → passed live', async () => {
  // Only providers with a one-shot mode are offered; the installed one is preselected.
  const options = await waitFor('providers loaded', async (): Promise<string[] | null> => {
    const texts = await form().getByLabel('Provider').locator('option').allTextContents();
    return texts.some((o) => /^Fake One-shot — installed/.test(o)) ? texts : null;
  });
  assert.ok(!options.some((o) => /^(Shell|Fake Agent)\b/.test(o)), options.join(', '));
  assert.equal(await form().getByLabel('Provider').inputValue(), 'oneshot');
  await screenshot(page, 'tasks-01-empty');
  await submit('ok:2500 alpha');
  await row('ok:2500 alpha').waitFor({ timeout: 20_000 });
  await waitFor(
    'alpha running in the Running list',
    async () => (await list('running').locator('.task-row', { hasText: 'ok:2500 alpha' }).count()) === 1,
  );
  await screenshot(page, 'tasks-02-running');
  await waitFor(
    'alpha passed in the Finished list',
    async () =>
      (await list('finished').locator('.task-row', { hasText: 'ok:2500 alpha' }).count()) === 1 &&
      (await stateOf('ok:2500 alpha')) === 'passed',
    30_000,
  );
  const alpha = await taskByPrompt('ok:2500 alpha');
  const states = await page.evaluate(
    (id) => (window as unknown as { taskStates: Record<string, string[]> }).taskStates[id] ?? [],
    alpha.task_id,
  );
  assert.equal(states[0], 'queued', states.join(' → '));
  assert.ok(states.includes('running'), states.join(' → '));
  assert.equal(states.at(-1), 'passed', states.join(' → '));
  assert.ok(states.indexOf('running') < states.indexOf('passed'));
});

test('task detail: result text, cost, tokens, duration and the history with reasons', async () => {
  await row('ok:2500 alpha').locator('.task-open').click();
  const detail = page.getByRole('complementary', { name: /^Task ok:2500 alpha/ });
  await detail.waitFor();
  await waitFor(
    'result text',
    async () => (await detail.locator('[data-field="result"]').textContent()) === 'done alpha',
  );
  assert.equal(await detail.locator('[data-field="cost"]').textContent(), '$0.0123');
  assert.equal(await detail.locator('[data-field="tokens"]').textContent(), '100 in · 20 out · 5 cache');
  assert.match((await detail.locator('[data-field="duration"]').textContent()) ?? '', /^\d+(\.\d+)? (ms|s)/);
  const history = (await detail.locator('.task-history li').allTextContents()).join('\n');
  assert.match(history, /∅ → queued submitted/);
  assert.match(history, /starting → running spawned /);
  assert.match(history, /completing → passed exited 0/);
  assert.match((await detail.locator('.task-outputs').textContent()) ?? '', /stdout:result/);
  // Metrics follow the task events (re-read shortly after the last one).
  await waitFor(
    'metrics show the pass',
    async () =>
      (await page
        .getByTestId('chart-states')
        .locator('g[data-label="Passed"]')
        .getAttribute('data-value')) === '1',
  );
  await screenshot(page, 'tasks-03-detail');
  await detail.getByRole('button', { name: 'Close task details' }).click();
});

test('batch: one prompt per line queues one task each; a failing one shows as failed with its result', async () => {
  await submit('ok beta\nok gamma\nfail', { batch: true });
  for (const p of ['ok beta', 'ok gamma'])
    await waitFor(`${p} passed`, async () => (await stateOf(p)) === 'passed', 30_000);
  await waitFor('fail failed', async () => (await stateOf('fail')) === 'failed', 30_000);
  const failed = await taskByPrompt('fail');
  assert.equal(failed.state, 'failed');
  assert.equal(failed.attempts, 1, "the agent's own failure is not retried");
});

test('cancel a hanging task; pause and resume a running one', async () => {
  await submit('hang');
  await waitFor('hang running', async () => (await stateOf('hang')) === 'running', 30_000);
  await row('hang').getByRole('button', { name: 'Cancel task hang' }).click();
  await waitFor('hang cancelled', async () => (await stateOf('hang')) === 'cancelled', 40_000);
  assert.equal(await row('hang').getByRole('button').count(), 1, 'a finished task has no controls left');
  const hang = await server.rest<{ history: { state_to: string; reason: string }[] }>(
    'GET',
    `/tasks/${(await taskByPrompt('hang')).task_id}`,
  );
  assert.match(hang.history.at(-1)?.reason ?? '', /cancel/);

  await submit('tick:5000 delta');
  await waitFor('delta running', async () => (await stateOf('tick:5000 delta')) === 'running', 30_000);
  await row('tick:5000 delta').getByRole('button', { name: 'Pause task tick:5000 delta' }).click();
  await waitFor('delta paused', async () => (await stateOf('tick:5000 delta')) === 'paused', 20_000);
  await waitFor(
    'metrics count the pause',
    async () =>
      (await page
        .getByTestId('chart-states')
        .locator('g[data-label="Paused"]')
        .getAttribute('data-value')) === '1',
  );
  await screenshot(page, 'tasks-04-paused');
  await row('tick:5000 delta').getByRole('button', { name: 'Resume task tick:5000 delta' }).click();
  await waitFor('delta passed', async () => (await stateOf('tick:5000 delta')) === 'passed', 40_000);
});

test('metrics charts show the counts, success rate, durations and usage', async () => {
  const states = page.getByTestId('chart-states');
  const value = (label: string) => states.locator(`g[data-label="${label}"]`).getAttribute('data-value');
  await waitFor(
    'metrics caught up',
    async () =>
      (await value('Passed')) === '4' &&
      (await value('Failed')) === '1' &&
      (await value('Cancelled')) === '1',
    20_000,
  );
  assert.equal(await value('Queued'), '0');
  // Accessible: the SVG is an image named by its title and described with every number.
  const svg = states.getByRole('img', { name: /Tasks by state/ });
  assert.match(
    (await svg.locator('desc').textContent()) ?? '',
    /Passed: 4; Failed: 1; Error: 0; Cancelled: 1; Timed out: 0/,
  );
  assert.equal(await page.locator('[data-metric="total"]').textContent(), '6');
  assert.equal(await page.locator('[data-metric="success-rate"]').textContent(), '80.0%');
  assert.equal(await page.locator('[data-metric="cost"]').textContent(), '$0.0615');
  assert.match(
    (await page.getByTestId('chart-durations').locator('desc').textContent()) ?? '',
    /oneshot p50: .+; oneshot p95: .+; oneshot p99: /,
  );
  assert.match(
    (await page.getByTestId('chart-usage').locator('desc').textContent()) ?? '',
    /oneshot: 625 tok · \$0.0615/,
  );
  const passedBar = await states.locator('g[data-label="Passed"] rect.chart-bar').getAttribute('width');
  const failedBar = await states.locator('g[data-label="Failed"] rect.chart-bar').getAttribute('width');
  assert.ok(
    Number(passedBar) > Number(failedBar) && Number(failedBar) > 0,
    `${passedBar} > ${failedBar} > 0`,
  );
  await page.locator('.task-metrics-panel').scrollIntoViewIfNeeded();
  await screenshot(page, 'tasks-05-metrics');
});

test('read-only token: sees the tasks and charts, no form and no controls', async () => {
  const reader = await context.newPage();
  try {
    await signIn(reader, server.url, await server.token('read'));
    await reader.getByRole('button', { name: 'Tasks' }).click();
    await reader.locator('.task-row', { hasText: 'ok:2500 alpha' }).waitFor({ timeout: 20_000 });
    assert.equal(await reader.getByRole('form', { name: 'New task' }).count(), 0);
    assert.equal(await reader.getByRole('button', { name: /^(Cancel|Pause|Resume) task/ }).count(), 0);
    await reader.getByText('Read-only: this token can watch tasks').waitFor();
    await reader.locator('.task-row', { hasText: 'ok:2500 alpha' }).locator('.task-open').click();
    await reader.locator('[data-field="result"]').filter({ hasText: 'done alpha' }).waitFor();
    assert.equal(await reader.getByRole('button', { name: /^(Cancel|Pause|Resume) task/ }).count(), 0);
    await screenshot(reader, 'tasks-06-read-only');
  } finally {
    await reader.close();
  }
});
