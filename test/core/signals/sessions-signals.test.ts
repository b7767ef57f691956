// Signals through the real session manager: real PTYs, the real signal service and relay, fixture
// agents that run their hooks/notify/OSC 7501 like the real CLIs (test/fixtures/agents/agent-signals.mjs).
// And the fallback: with the wiring off, or with AutoDev's endpoint gone, the screen rules decide.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import type { SessionManager } from '../../../src-main/core/sessions/types.ts';
import { createSignalService, type SignalService } from '../../../src-main/core/signals/index.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { fixture, testManager, waitFor } from '../sessions/helpers.ts';

function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The bundled provider (rules, signals: all its data) running a fixture script instead of the CLI. */
function asFixture(id: string, script: string, change: Partial<ProviderDefinition> = {}): ProviderDefinition {
  const def = defaultProviders({}).find((p) => p.id === id) as ProviderDefinition;
  return { ...def, binary: process.execPath, interactive_args: [fixture(script)], ...change };
}

interface Rig {
  manager: SessionManager;
  service: SignalService | null;
  /** Every state event of every session, in order. */
  events: SessionInfo[];
  cwd: string;
}

async function rig(
  t: { after(fn: () => void | Promise<void>): void },
  defs: ProviderDefinition[],
  options: { signals?: boolean } = {},
): Promise<Rig> {
  const service =
    options.signals === false
      ? null
      : await createSignalService({ dataDir: tempDir(t, 'autodev-sig-data-') });
  const { manager } = testManager(defs, service ? { signals: service } : {});
  const events: SessionInfo[] = [];
  manager.onDidChangeState(({ session }) => events.push(session));
  t.after(async () => {
    await manager.shutdown();
    await service?.close();
  });
  return { manager, service, events, cwd: tempDir(t, 'autodev-sig-cwd-') };
}

const stateOf = (r: Rig, id: string) => r.manager.get(id) as SessionInfo;

async function until(r: Rig, id: string, what: string, ok: (s: SessionInfo) => boolean, timeoutMs = 15_000) {
  return waitFor(
    what,
    () => {
      const s = stateOf(r, id);
      return ok(s) ? s : null;
    },
    timeoutMs,
  ).catch((error: Error) => {
    const s = stateOf(r, id);
    throw new Error(`${error.message}; now ${s.state} ${JSON.stringify(s.state_reason)}`);
  });
}

test('claude (fixture): hooks decide the states, with state_reason.source "hook"; the conversation id is recorded', async (t) => {
  const r = await rig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const s = await r.manager.create({
    cli_tool: 'claude',
    working_directory: r.cwd,
    env: { FAKE_WORK_MS: '900' },
  });
  const id = s.session_id;

  const ready = await until(
    r,
    id,
    'SessionStart',
    (x) => x.conversation_id !== null && x.state === 'waiting_input',
  );
  assert.match(ready.conversation_id ?? '', /^[0-9a-f-]{36}$/);

  r.manager.command(id, 'explain the code');
  const done = await until(r, id, 'Stop hook', (x) => x.state_reason.rule === 'claude.hook.stop');
  assert.equal(done.state, 'waiting_input');
  assert.equal(done.state_reason.source, 'hook');
  const sawWorking = r.events.some((e) => e.session_id === id && e.state === 'processing');
  assert.ok(sawWorking, 'the turn showed as processing');

  // A permission question: PermissionRequest / Notification(permission_prompt) → waiting_input.
  r.manager.command(id, 'run bash please');
  const asked = await until(r, id, 'permission hook', (x) =>
    /claude\.hook\.permission/.test(x.state_reason.rule ?? ''),
  );
  assert.equal(asked.state, 'waiting_input');
  r.manager.input(id, '1');
  await until(r, id, 'working after approval', (x) => x.state === 'processing' || x.state === 'running');
  await until(r, id, 'Stop after the tool', (x) => x.state_reason.rule === 'claude.hook.stop');
  assert.equal(stateOf(r, id).conversation_id, ready.conversation_id, 'one conversation throughout');
});

/** A turn that shows no spinner and sets the idle title, with a sub-agent's Stop mid-turn: the
 *  "waiting" verdicts seen before the turn's own end. */
async function quietTurn(t: { after(fn: () => void | Promise<void>): void }, signals: boolean) {
  const r = await rig(t, [asFixture('claude', 'fake-claude.mjs')], { signals });
  const s = await r.manager.create({
    cli_tool: 'claude',
    working_directory: r.cwd,
    env: { FAKE_WORK_MS: '2500', FAKE_CLAUDE_TITLE: '1' },
  });
  const id = s.session_id;
  await until(r, id, 'ready', (x) => x.state === 'waiting_input');
  const since = r.events.length;
  const started = Date.now();
  r.manager.command(id, 'quiet subagent work');
  // The fixture answers after 2.5 s; look at everything up to just before that.
  await new Promise((resolve) => setTimeout(resolve, 2200));
  const turn = r.events
    .slice(since)
    .filter((e) => e.session_id === id && Date.parse(e.state_reason.at) < started + 2400);
  // From the moment the hooks said it works (a relay can take a while to start on a loaded machine;
  // before that only the screen can speak): with hooks, nothing may say "waiting" after that.
  const firstHook = turn.findIndex((e) => e.state_reason.source === 'hook');
  const during = signals ? turn.slice(Math.max(0, firstHook)) : turn;
  if (signals) assert.ok(firstHook >= 0, 'a hook spoke during the turn');
  await until(r, id, 'the answer', (x) => x.state === 'waiting_input' && Date.now() - started > 2500, 20_000);
  return {
    falseWaits: during
      .filter((e) => e.state === 'waiting_input')
      .map((e) => `${e.state_reason.source}:${e.state_reason.rule}`),
    sources: during.map((e) => e.state_reason.source),
    final: stateOf(r, id),
  };
}

test('claude (fixture): hooks saying "working" beat an idle screen; a sub-agent finishing is not the turn finishing', async (t) => {
  const withHooks = await quietTurn(t, true);
  assert.deepEqual(withHooks.falseWaits, [], 'no "waiting" while the hooks said the agent works');
  assert.equal(withHooks.final.state_reason.rule, 'claude.hook.stop');
  // The same turn without hooks: the screen alone reads the idle screen as waiting (what hooks fix).
  const screenOnly = await quietTurn(t, false);
  assert.ok(screenOnly.falseWaits.length > 0, `screen only: ${screenOnly.sources.join(', ')}`);
});

test('codex (fixture): OSC 7501 and the notify program decide; the title thread is not the conversation', async (t) => {
  const r = await rig(t, [asFixture('codex', 'fake-codex.mjs')]);
  const s = await r.manager.create({
    cli_tool: 'codex',
    working_directory: r.cwd,
    env: { FAKE_WORK_MS: '900' },
  });
  const id = s.session_id;
  await until(r, id, 'ready', (x) => x.state === 'waiting_input');

  r.manager.command(id, 'run the listing');
  const working = await until(r, id, 'OSC working', (x) => x.state_reason.rule === 'codex.osc.working');
  assert.equal(working.state, 'processing');
  assert.equal(working.state_reason.source, 'osc-status');
  // The permission report hands over to the screen, which shows the dialog.
  await until(r, id, 'approval dialog', (x) => x.state_reason.rule === 'codex.approval-prompt');
  r.manager.input(id, '1');
  const done = await until(
    r,
    id,
    'turn complete',
    (x) => x.conversation_id !== null && x.state === 'waiting_input',
  );
  assert.equal(done.state_reason.rule, 'codex.osc.done');
  // The side thread (title) notified first with another thread id; only the real one is kept.
  const ids = new Set(r.events.filter((e) => e.session_id === id).map((e) => e.conversation_id));
  ids.delete(null);
  assert.equal(ids.size, 1, `conversation ids seen: ${[...ids].join(', ')}`);
});

test('fallback: with hooks disabled (no signal wiring) the screen rules alone still find every state', async (t) => {
  const r = await rig(t, [asFixture('claude', 'fake-claude.mjs', { signals: undefined })]);
  const s = await r.manager.create({
    cli_tool: 'claude',
    working_directory: r.cwd,
    env: { FAKE_WORK_MS: '900' },
  });
  const id = s.session_id;
  await until(r, id, 'ready (screen)', (x) => x.state === 'waiting_input');
  r.manager.command(id, 'run bash please');
  await until(r, id, 'busy (screen)', (x) => x.state_reason.rule === 'claude.busy');
  const asked = await until(
    r,
    id,
    'permission (screen)',
    (x) => x.state_reason.rule === 'claude.permission-prompt',
  );
  assert.equal(asked.state, 'waiting_input');
  r.manager.input(id, '1');
  await until(r, id, 'back at the prompt (screen)', (x) => x.state_reason.rule === 'claude.prompt');
  const sources = new Set(r.events.filter((e) => e.session_id === id).map((e) => e.state_reason.source));
  assert.ok(!sources.has('hook'), 'no hook was wired, none decided');
  assert.equal(stateOf(r, id).conversation_id, null);
  // And nothing was written for it: no --settings file.
  assert.ok(r.service);
  assert.ok(!existsSync(r.service.paths.sessions) || readdirSync(r.service.paths.sessions).length === 0);
});

test('fallback: when the relay cannot reach AutoDev, the agent is not slowed and the screen rules decide', async (t) => {
  const r = await rig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const s = await r.manager.create({
    cli_tool: 'claude',
    working_directory: r.cwd,
    env: { FAKE_WORK_MS: '600' },
  });
  const id = s.session_id;
  await until(r, id, 'ready', (x) => x.state === 'waiting_input');
  await r.service?.close(); // AutoDev's endpoint goes away; the agent keeps its wiring
  const before = r.events.length;
  const started = Date.now();
  r.manager.command(id, 'explain again');
  await until(
    r,
    id,
    'back at the prompt (screen)',
    (x) => x.state_reason.rule === 'claude.prompt' && Date.now() - started > 600,
  );
  const later = r.events.slice(before).filter((e) => e.session_id === id);
  assert.ok(!later.some((e) => e.state_reason.source === 'hook'), 'no hook reached a closed endpoint');
  assert.ok(
    later.some((e) => e.state === 'processing'),
    'the screen saw it work',
  );
});

test('a session ends: its signal files are deleted and its relay is turned away', async (t) => {
  const r = await rig(t, [asFixture('claude', 'fake-claude.mjs')]);
  const s = await r.manager.create({ cli_tool: 'claude', working_directory: r.cwd });
  assert.ok(r.service);
  const dir = path.join(r.service.paths.sessions, s.session_id);
  await until(r, s.session_id, 'ready', (x) => x.state === 'waiting_input');
  assert.ok(
    existsSync(path.join(dir, 'claude-settings.json')),
    'the per-session settings file exists while it runs',
  );
  await r.manager.terminate(s.session_id);
  assert.ok(!existsSync(dir), 'and is gone once the session ended');
  assert.equal(r.service.fusionFor(s.session_id), undefined);
});
