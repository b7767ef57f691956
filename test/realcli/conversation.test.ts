// Talking to the REAL agent CLIs (pinned in pinned-clis.json) through `autodev serve` against the mock
// model service: POST /cli/sessions/{id}/message answers with the agent's reply — from its own record
// (Claude Code's transcript, Codex's rollout, Gemini CLI's chat file), or from the screen when the
// record is turned off in the providers file — GET /messages has the turns (one typed by a person), and
// the tokens the mock reported reach /cli/sessions/{id}/usage and /usage.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultProviders } from '../../src-main/core/providers/defaults.ts';
import { startMockModelServer } from '../mock-model/server.ts';
import { type AutodevServe, type Json, startAutodevServe } from './autodev-serve.ts';
import { CliSession } from './cli-session.ts';
// @ts-expect-error plain ESM helper shared with scripts/test.mjs (no type declarations)
import { ensureAgentClis } from './install-clis.mjs';
import { type CliId, PROFILES } from './profiles.ts';

const skip =
  process.env['AUTODEV_SKIP_REAL_CLIS'] === '1'
    ? 'AUTODEV_SKIP_REAL_CLIS=1: the real agent CLIs are not run'
    : false;
const dataParent = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '.cache',
  'conversation-serve',
);

let withRecords: AutodevServe;
let screenOnly: AutodevServe;

before(async () => {
  if (skip) return;
  ensureAgentClis({ log: () => {} });
  mkdirSync(dataParent, { recursive: true, mode: 0o755 });
  const all = Object.values(PROFILES);
  // The mock's model names get a price, so cost is checked too (a providers.yaml addition).
  const prices = [
    {
      model: '^(claude-opus-5-5|mock-model|gemini-3\\.8-flash)$',
      input: 1,
      output: 2,
      cache_read: 0.1,
      cache_write: 1.25,
    },
  ];
  withRecords = await startAutodevServe({
    providers: Object.fromEntries(all.map((p) => [p.provider, { binary: p.binary, extra_prices: prices }])),
    dataDirParent: dataParent,
  });
  // The same CLIs with the record turned off (the screen layout kept): answers from the screen.
  const screenData = (id: string) => {
    const { record: _r, ...rest } = defaultProviders({}).find((p) => p.id === id)?.conversation ?? {};
    return rest;
  };
  screenOnly = await startAutodevServe({
    providers: Object.fromEntries(
      all.map((p) => [p.provider, { binary: p.binary, conversation: screenData(p.provider) }]),
    ),
    dataDirParent: dataParent,
  });
});

after(async () => {
  await withRecords?.stop();
  await screenOnly?.stop();
});

const PLAN = 'Here is the plan:\n\n1. Read the **config** file\n2. Fix `the bug`\n\nDone — all good.';
// What each CLI draws of PLAN (markdown rendered).
const PLAN_ON_SCREEN: Record<CliId, string> = {
  claude: 'Here is the plan:\n\n1. Read the config file\n2. Fix the bug\n\nDone — all good.',
  codex: 'Here is the plan:\n\n1. Read the config file\n2. Fix the bug\n\nDone — all good.',
  gemini: 'Here is the plan:\n\n 1. Read the config file\n 2. Fix the bug\n\nDone — all good.',
};

async function ready(
  cli: CliId,
  serve: AutodevServe,
  mock: Awaited<ReturnType<typeof startMockModelServer>>,
) {
  const profile = PROFILES[cli];
  const s = await CliSession.start({ serve, profile, mock, scenario: 'conversation' });
  await s.screen.waitFor(
    (f) => profile.screen.ready.test(f.text) && !profile.screen.working(f.text, f.title),
    {
      timeoutMs: 60_000,
    },
  );
  await s.screen.quiet(1500, 60_000);
  await s.waitState((x) => x.state === 'waiting_input', { timeoutMs: 30_000 });
  return s;
}

for (const cli of ['claude', 'codex', 'gemini'] as const) {
  test(`${cli} (real CLI): POST /message replies with the record's answer and usage; a person's turn is in GET /messages`, {
    skip,
  }, async (t) => {
    const mock = await startMockModelServer({ lifetimeMs: 3 * 60_000 });
    const s = await ready(cli, withRecords, mock);
    try {
      mock.script(
        { kind: 'text', text: PLAN },
        { kind: 'text', text: 'Typed answer.' },
        { kind: 'text', text: 'Second API answer.' },
      );
      const res = await withRecords.api('POST', `/cli/sessions/${s.id}/message`, {
        content: 'Please explain the plan',
        timeout_s: 90,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const body = res.body as Json;
      t.diagnostic(`${cli}: reply from ${body.reply_source}, usage ${JSON.stringify(body.usage)}`);
      assert.equal(body.reply, PLAN);
      assert.equal(body.reply_source, 'record');
      assert.equal(body.state, 'waiting_input');
      assert.ok(body.usage?.calls >= 1 && body.usage.output_tokens > 0, JSON.stringify(body.usage));
      assert.ok(body.usage.cost_usd > 0, 'the mock model has a price in providers.yaml');

      // A person types the next prompt in the terminal.
      const typedAt = await s.submit('typed by a person');
      await s.screen.waitFor(
        (f) => f.text.includes('Typed answer.') && PROFILES[cli].screen.ready.test(f.text),
        {
          since: typedAt,
          timeoutMs: 60_000,
        },
      );
      const second = await withRecords.api('POST', `/cli/sessions/${s.id}/message`, {
        content: 'And once more',
        timeout_s: 90,
      });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(second.body.reply, 'Second API answer.');

      const view = (await withRecords.api('GET', `/cli/sessions/${s.id}/messages`)).body as Json;
      assert.equal(view.source, 'record');
      assert.deepEqual(
        view.messages.map((m: Json) => [m.role, m.content, m.origin]),
        [
          ['user', 'Please explain the plan', 'api'],
          ['agent', PLAN, 'api'],
          ['user', 'typed by a person', 'person'],
          ['agent', 'Typed answer.', 'person'],
          ['user', 'And once more', 'api'],
          ['agent', 'Second API answer.', 'api'],
        ],
      );

      // Usage: the three answers' tokens, as the record has them, per session and in the report.
      let usage: Json = null;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        usage = (await withRecords.api('GET', `/cli/sessions/${s.id}/usage`)).body;
        if (usage?.totals?.calls >= 3) break;
        await new Promise((r) => setTimeout(r, 300));
      }
      assert.ok(usage?.totals?.calls >= 3, JSON.stringify(usage));
      assert.ok(usage.totals.output_tokens >= body.usage.output_tokens + second.body.usage.output_tokens);
      const report = (await withRecords.api('GET', '/usage?days=1')).body as Json;
      assert.ok(report.sessions.some((x: Json) => x.session_id === s.id));
    } finally {
      await s.close();
      await mock.close();
    }
  });

  test(`${cli} (real CLI): with the record turned off, the reply comes from the screen without the interface`, {
    skip,
  }, async () => {
    const mock = await startMockModelServer({ lifetimeMs: 3 * 60_000 });
    const s = await ready(cli, screenOnly, mock);
    try {
      mock.script({ kind: 'text', text: PLAN }, { kind: 'text', text: 'OK.' }, { kind: 'text', text: 'OK.' });
      const first = await screenOnly.api('POST', `/cli/sessions/${s.id}/message`, {
        content: 'Please explain the plan',
        timeout_s: 90,
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.reply_source, 'screen');
      assert.equal(first.body.reply, PLAN_ON_SCREEN[cli]);
      // The same prompt and answer twice: each reply is still the answer.
      for (let i = 0; i < 2; i++) {
        const again = await screenOnly.api('POST', `/cli/sessions/${s.id}/message`, {
          content: 'Say OK',
          timeout_s: 90,
        });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.reply, 'OK.');
      }
    } finally {
      await s.close();
      await mock.close();
    }
  });
}
