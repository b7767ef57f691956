import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { Page as ApiPage } from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { makeRepo, type TestRepo } from '../../test/worktrees/helpers.ts';
import { launchBrowser, screenshot, signIn, waitFor } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// The Changes panel of a session in a worktree, in Debian Chromium against a real `autodev serve` and
// a real git repository: file list with counts, syntax-coloured diff in both layouts, live updates,
// commit, a refused merge (conflict, with its files), a squash merge, the read-only view, and the
// new-session dialog's "Isolate in a worktree".
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;
let page: Page;
let repo: TestRepo;
const cleanups: (() => unknown)[] = [];
let session: SessionInfo;

before(async () => {
  repo = makeRepo({ after: (fn) => cleanups.push(fn) });
  server = await startDashboardServer();
  browser = await launchBrowser();
  context = browser.context;
  page = await context.newPage();
  const created = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
    cli_tool: 'fakeagent',
    name: 'wt-agent',
    working_directory: repo.dir,
    worktree: {},
  });
  session = created.session;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const fn of cleanups) await fn();
});

const tab = (p: Page, name: string) =>
  p.locator('.tab', { has: p.getByRole('tab', { name: new RegExp(`^${name}`) }) });
const fileButton = (p: Page, file: string) => p.locator(`.changes-file[data-path="${file}"]`);

async function openChanges(p: Page): Promise<ReturnType<Page['getByRole']>> {
  await tab(p, 'wt-agent').waitFor({ timeout: 20_000 });
  await tab(p, 'wt-agent').getByRole('tab').click();
  const show = p.getByRole('button', { name: 'Show session details' });
  if (await show.isVisible()) await show.click();
  const detail = p.getByRole('complementary', { name: 'Details of wt-agent' });
  await detail.waitFor();
  assert.match(
    (await detail.locator('[data-field="worktree"]').textContent()) ?? '',
    /autodev\/wt-agent from main/,
  );
  await detail.getByRole('button', { name: 'Changes' }).click();
  const dialog = p.getByRole('dialog', { name: 'Changes — wt-agent' });
  await dialog.waitFor();
  return dialog;
}

test('the panel lists the changed files with counts and shows a syntax-coloured diff, unified or side by side', async () => {
  const wt = session.worktree!.path;
  writeFileSync(path.join(wt, 'src', 'main.ts'), 'export const answer = 42;\n');
  writeFileSync(path.join(wt, 'notes.md'), '# notes\n');
  await signIn(page, server.url, await server.token('control'));
  const dialog = await openChanges(page);
  await fileButton(page, 'src/main.ts').waitFor({ timeout: 20_000 });
  assert.equal(await fileButton(page, 'src/main.ts').locator('[data-field="counts"]').textContent(), '+1 −1');
  assert.equal(await fileButton(page, 'notes.md').locator('[data-field="counts"]').textContent(), '+1 −0');
  assert.equal(
    await fileButton(page, 'notes.md').locator('[data-status]').getAttribute('data-status'),
    'added',
  );
  assert.match((await fileButton(page, 'src/main.ts').textContent()) ?? '', /uncommitted/);
  assert.match(
    (await dialog.locator('[data-field="summary"]').textContent()) ?? '',
    /2 files · \+2 −1 · 0 ahead, 0 behind · 2 uncommitted/,
  );

  // react-diff-view's table, unified by default; the inserted line is there, coloured by Prism tokens.
  const unified = dialog.locator('section[data-path="src/main.ts"] table.diff-unified');
  await unified.waitFor();
  assert.match(
    (await unified.locator('.diff-code-insert').first().textContent()) ?? '',
    /export const answer = 42;/,
  );
  const keyword = unified.locator('.diff-code-insert .token.keyword').first();
  await keyword.waitFor();
  assert.equal(await keyword.textContent(), 'export');
  const colours = await page.evaluate(() => {
    const k = document.querySelector('.diff-code-insert .token.keyword');
    const n = document.querySelector('.diff-code-insert .token.number');
    return { keyword: k ? getComputedStyle(k).color : '', number: n ? getComputedStyle(n).color : '' };
  });
  assert.ok(colours.keyword && colours.number && colours.keyword !== colours.number, JSON.stringify(colours));
  await screenshot(page, 'changes-01-unified');

  await dialog.getByRole('button', { name: 'Side by side' }).click();
  const split = dialog.locator('section[data-path="src/main.ts"] table.diff-split');
  await split.waitFor();
  assert.match((await split.locator('.diff-code-delete').first().textContent()) ?? '', /answer = 41/);
  assert.match((await split.locator('.diff-code-insert').first().textContent()) ?? '', /answer = 42/);
  await screenshot(page, 'changes-02-split');

  // One file alone.
  await fileButton(page, 'notes.md').click();
  await waitFor(
    'only notes.md shown',
    async () => (await dialog.locator('section[data-path]').count()) === 1,
  );
  assert.equal(await dialog.locator('section[data-path]').getAttribute('data-path'), 'notes.md');
  await dialog.getByRole('button', { name: 'All files' }).click();
  await dialog.getByRole('button', { name: 'Unified' }).click();
});

test('it updates live when files in the worktree change (no reload)', async () => {
  const dialog = page.getByRole('dialog', { name: 'Changes — wt-agent' });
  const updatesBefore = Number(await dialog.locator('[data-updates]').getAttribute('data-updates'));
  writeFileSync(path.join(session.worktree!.path, 'src', 'added-live.ts'), 'export const live = true;\n');
  await fileButton(page, 'src/added-live.ts').waitFor({ timeout: 20_000 });
  assert.ok(Number(await dialog.locator('[data-updates]').getAttribute('data-updates')) > updatesBefore);
  assert.equal(
    await fileButton(page, 'src/added-live.ts').locator('[data-field="counts"]').textContent(),
    '+1 −0',
  );
});

test('commit all, a merge refused for a conflict (files listed, nothing changed), then a squash merge', async () => {
  const dialog = page.getByRole('dialog', { name: 'Changes — wt-agent' });
  await dialog.getByLabel('Commit message').fill('agent work');
  await dialog.getByRole('button', { name: 'Commit all' }).click();
  await dialog
    .getByRole('status')
    .filter({ hasText: /^Committed 3 files as [0-9a-f]{8} on autodev\/wt-agent\.$/ })
    .waitFor();
  await waitFor(
    'no uncommitted badge',
    async () => !/uncommitted/.test((await fileButton(page, 'src/main.ts').textContent()) ?? ''),
  );
  assert.match((await dialog.locator('[data-field="summary"]').textContent()) ?? '', /1 ahead, 0 behind$/);

  // Someone changed the same line on main meanwhile.
  repo.write('src/main.ts', 'export const answer = 40;\n');
  const mainBefore = repo.commit('human change');
  await dialog.getByLabel('Merge strategy').selectOption('squash');
  await dialog.getByRole('button', { name: 'Merge into main' }).click();
  const alert = dialog.getByRole('alert');
  await alert.waitFor();
  assert.match(
    (await alert.textContent()) ?? '',
    /merge conflict in 1 file \(src\/main\.ts\); nothing was changed/,
  );
  assert.deepEqual(
    await alert.getByRole('list', { name: 'Files concerned' }).getByRole('listitem').allTextContents(),
    ['src/main.ts'],
  );
  assert.equal(repo.head('main'), mainBefore);
  assert.equal(repo.git('status', '--porcelain'), '');
  await screenshot(page, 'changes-03-conflict');

  // Take the human change back: the squash merge goes through and main's checkout is updated.
  repo.git('reset', '-q', '--hard', 'HEAD~1');
  await dialog.getByRole('button', { name: 'Merge into main' }).click();
  await dialog
    .getByRole('status')
    .filter({ hasText: /^Merged into main \(squash\): main is now [0-9a-f]{8}; .* updated\.$/ })
    .waitFor();
  assert.equal(repo.read('src/main.ts'), 'export const answer = 42;\n');
  assert.equal(repo.git('log', '-1', '--format=%s', 'main'), 'wt-agent');
  await waitFor('nothing left to merge', async () =>
    /0 files/.test((await dialog.locator('[data-field="summary"]').textContent()) ?? ''),
  );
  await screenshot(page, 'changes-04-merged');
  await dialog.getByRole('button', { name: 'Close' }).click();
});

test('a read-only token sees the changes and no action', async () => {
  writeFileSync(path.join(session.worktree!.path, 'after-merge.txt'), 'more\n');
  const viewer = await context.newPage();
  await signIn(viewer, server.url, await server.token('read'));
  const dialog = await openChanges(viewer);
  await fileButton(viewer, 'after-merge.txt').waitFor({ timeout: 20_000 });
  await dialog.getByText(/Read-only access/).waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Commit all' }).count(), 0);
  assert.equal(await dialog.getByRole('button', { name: /Merge into/ }).count(), 0);
  assert.equal(await dialog.getByRole('button', { name: 'Discard…' }).count(), 0);
  await screenshot(viewer, 'changes-05-read-only');
  await viewer.close();
});

test('the new-session dialog offers "Isolate in a worktree" for a directory in a repository', async () => {
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New session' });
  await dialog.waitFor();
  const pick = async (pattern: RegExp) =>
    dialog.getByLabel('Provider').selectOption({
      label: await waitFor(`provider ${pattern}`, async () =>
        (await dialog.getByLabel('Provider').locator('option').allTextContents()).find((o) =>
          pattern.test(o),
        ),
      ),
    });
  // A provider with a one-shot (or full-access) mode is an agent by its data: isolated by default.
  await pick(/^Fake One-shot/);
  await dialog.getByRole('textbox', { name: 'Working directory' }).fill(repo.dir);
  const isolate = dialog.getByLabel(/Isolate in a worktree/);
  await isolate.waitFor({ timeout: 20_000 });
  await waitFor('on by default for an agent', () => isolate.isChecked());
  // The fake agent has neither mode: off by default.
  await pick(/^Fake Agent/);
  await waitFor('off for the plain fake agent', async () => !(await isolate.isChecked()));
  await isolate.check();
  assert.equal(await dialog.getByLabel('Base branch').inputValue(), 'main');
  await dialog.getByLabel('New branch (optional)').fill('feature/from-dialog');
  await dialog.getByLabel('Name (optional)').fill('dialog-wt');
  await screenshot(page, 'changes-06-dialog');
  await dialog.getByLabel('Name (optional)').press('Enter');
  await dialog.waitFor({ state: 'detached', timeout: 20_000 });
  const created = await waitFor('the session in its worktree', async () => {
    const list = await server.rest<ApiPage<SessionInfo>>('GET', '/cli/sessions?limit=500');
    return list.items.find((s) => s.name === 'dialog-wt');
  });
  assert.equal(created.worktree?.branch, 'feature/from-dialog');
  assert.equal(created.worktree?.base, 'main');
  assert.equal(created.worktree?.repo, repo.dir);
});
