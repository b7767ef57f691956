import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CommandJournal } from '../../../src-main/core/sessions/types.ts';
import { collect, nodeProvider, provider, testManager, waitFor } from './helpers.ts';

/** Issue 10: only what a person typed (or AutoDev's own confirmed submission) reaches the agent. */

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-integrity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const readLog = (file: string): string[] =>
  (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as string);

test('a live terminal query gets exactly one answer, from the session mirror, with no viewer attached', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'input.log');
  const { manager } = testManager([nodeProvider('queries', 'proc-queries.mjs')]);
  t.after(() => manager.shutdown());
  const info = await manager.create({
    cli_tool: 'queries',
    env: { FAKE_INPUT_LOG: log },
    cols: 90,
    rows: 30,
  });
  const answers = () => readLog(log).join('');
  await waitFor(
    'all three answers',
    () =>
      /\x1b\[\?1;2c/.test(answers()) &&
      /\x1b\[\d+;\d+R/.test(answers()) &&
      answers().includes('\x1b]11;rgb:'),
  );
  // Viewers come and go, snapshots and replays are taken: none of that may produce input.
  const views = Array.from({ length: 5 }, () =>
    manager.attach(info.session_id, { flowControlled: false, onData() {} }),
  );
  for (let i = 0; i < 3; i++) {
    await manager.snapshot(info.session_id);
    manager.replay(info.session_id, 0);
  }
  for (const v of views) v.dispose();
  await new Promise((r) => setTimeout(r, 600));
  const all = answers();
  assert.equal(all.match(/\x1b\[\?1;2c/g)?.length, 1, 'one device-attributes answer');
  assert.equal(all.match(/\x1b\[\d+;\d+R/g)?.length, 1, 'one cursor-position answer');
  assert.equal(all.match(/\x1b\]11;rgb:[0-9a-f/]+\x1b\\/g)?.length, 1, 'one background-colour answer');
  const rest = all
    .replace(/\x1b\[\?1;2c/, '')
    .replace(/\x1b\[\d+;\d+R/, '')
    .replace(/\x1b\]11;rgb:[0-9a-f/]+\x1b\\/, '');
  assert.equal(rest, '', 'nothing but the answers reached the agent');
  // The position answered is the mirror's cursor: after "round 1: asking\r\n", row 2, column 1.
  assert.match(all, /\x1b\[2;1R/);
  assert.deepEqual(manager.get(info.session_id)?.command_history, [], 'answers are never "commands"');
});

test('queries printed again later are answered again, once each', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'input.log');
  const rounds = path.join(dir, 'rounds');
  const { manager } = testManager([nodeProvider('queries', 'proc-queries.mjs')]);
  t.after(() => manager.shutdown());
  await manager.create({
    cli_tool: 'queries',
    env: { FAKE_INPUT_LOG: log, FAKE_QUERY_EVERY_MS: '300', FAKE_QUERY_ROUNDS_FILE: rounds },
  });
  await waitFor('4 rounds', () => {
    try {
      return Number(readFileSync(rounds, 'utf8')) >= 4;
    } catch {
      return false;
    }
  });
  await new Promise((r) => setTimeout(r, 250));
  const printed = Number(readFileSync(rounds, 'utf8'));
  const all = readLog(log).join('');
  const da = all.match(/\x1b\[\?1;2c/g)?.length ?? 0;
  // The last round may still be in flight; never more answers than questions.
  assert.ok(da >= printed - 1 && da <= printed, `${da} answers for ${printed} rounds`);
  assert.equal(all.match(/\x1b\[\d+;\d+R/g)?.length, da);
});

test('command history holds the lines a person submitted, not keystrokes', async (t) => {
  const rows: { kind: string; text: string }[] = [];
  const journal: CommandJournal = { record: (e) => void rows.push({ kind: e.kind, text: e.text }) };
  const prompt = {
    id: 'test.prompt',
    pattern: '^>\\s*$',
    region: { kind: 'last-lines' as const, count: 1 },
    state: 'waiting_input' as const,
  };
  const { manager } = testManager(
    [nodeProvider('prompt', 'proc-prompt.mjs', [], { screen_rules: [prompt], stability_ms: 300 })],
    { journal },
  );
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'prompt' })).session_id;
  await waitFor('prompt', () => out.text().includes('> '));
  for (const key of ['l', 's', ' ', '-', 'x', '\x7f', 'l', 'a', '\r']) manager.input(id, key);
  await waitFor('done', () => out.text().includes('done: ls -la'));
  manager.input(id, 'abc\x15'); // Ctrl-U: typed, then cleared; never submitted
  manager.input(id, 'pwd\r');
  await waitFor('pwd done', () => out.text().includes('done: pwd'));
  assert.deepEqual(manager.get(id)?.command_history, ['ls -la', 'pwd']);
  assert.deepEqual(
    rows.filter((r) => r.kind === 'command').map((r) => r.text),
    ['ls -la', 'pwd'],
  );
  // The raw keys stay journaled (durability and replay), as input.
  assert.equal(rows.filter((r) => r.kind === 'input').length, 11);
});

const geminiLike = (submit: Record<string, unknown>) =>
  nodeProvider('gem', 'fake-gemini.mjs', [], {
    bracketed_paste: true,
    submit,
    stability_ms: 400,
    screen_rules: [
      {
        id: 'gem.busy',
        pattern: '\\(esc to cancel',
        region: { kind: 'last-lines', count: 10 },
        state: 'processing',
      },
      {
        id: 'gem.prompt',
        pattern: 'Type your message',
        region: { kind: 'last-lines', count: 8 },
        state: 'waiting_input',
      },
    ],
  });

async function geminiTurn(
  t: { after(fn: () => Promise<void> | void): void },
  guard: string,
  submit: Record<string, unknown>,
) {
  const { manager } = testManager([geminiLike(submit)]);
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'gem', env: { FAKE_PASTE_GUARD_MS: guard, FAKE_WORK_MS: '300' } }))
    .session_id;
  await waitFor('composer', () => out.text().includes('Type your message'));
  const outcome = await manager.command(id, 'hello there');
  return { manager, id, out, outcome };
}

test('a paste whose Enter the agent drops is confirmed and re-sent once (gemini paste guard)', async (t) => {
  const { out, outcome } = await geminiTurn(t, '120', { enter_delay_ms: 30, timeout_ms: 800 });
  assert.deepEqual({ ok: outcome.ok, attempts: outcome.attempts }, { ok: true, attempts: 2 });
  await waitFor('the turn happened', () => out.text().includes('Answer for: hello there'));
});

test("gemini's submit strategy (Enter after the paste guard) submits on the first Enter", async (t) => {
  const { out, outcome } = await geminiTurn(t, '120', { enter_delay_ms: 150, timeout_ms: 800 });
  assert.deepEqual({ ok: outcome.ok, attempts: outcome.attempts }, { ok: true, attempts: 1 });
  await waitFor('the turn happened', () => out.text().includes('Answer for: hello there'));
  assert.equal(out.text().split('Answer for: hello there').length, 2, 'exactly one turn');
});

test('a prompt the agent never takes is reported, never silent', async (t) => {
  const { manager, id, outcome } = await geminiTurn(t, 'always', { enter_delay_ms: 30, timeout_ms: 500 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.attempts, 2);
  assert.match(outcome.detail, /stayed in the input/);
  const errors = manager.diagnostics(id).recent_errors;
  assert.equal(errors.at(-1)?.error_code, 'COMMAND_NOT_SUBMITTED');
});

test('a shell command is typed and confirmed on the cursor line', async (t) => {
  const home = tempDir(t);
  const { manager } = testManager([provider('bash', '/bin/bash', ['--norc', '--noprofile', '-i'])]);
  t.after(() => manager.shutdown());
  let id: string | undefined;
  const out = collect(manager, () => id);
  id = (await manager.create({ cli_tool: 'bash', env: { HOME: home, PS1: 'ready$ ' } })).session_id;
  await waitFor('prompt', () => out.text().includes('ready$ '));
  const outcome = await manager.command(id, 'echo $((6*7))');
  assert.deepEqual({ ok: outcome.ok, attempts: outcome.attempts }, { ok: true, attempts: 1 });
  await waitFor('42', () => /\r42\r\n/.test(out.text()), 5000).catch((error) => {
    throw new Error(`${error.message}: ${JSON.stringify(out.text())} ${JSON.stringify(outcome)}`);
  });
});
