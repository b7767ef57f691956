// When a turn starts and ends, from the session manager's state events alone, with the event sequences
// real agents produce (recorded from codex 0.171 through autodev serve): busy/idle flaps of a few tens
// of ms around a turn's edges, a person's line that shows up on the next event, an agent that starts
// working before the submission is confirmed. A scripted manager stands in for the real one here (the
// sequences are the point); send-message.test.ts runs the same service on real PTYs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConversationError,
  createConversationService,
  SessionRecords,
} from '../../../src-main/core/conversation/index.ts';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import type { SubmitOutcome } from '../../../src-main/core/pty-host/types.ts';
import type { SessionManager } from '../../../src-main/core/sessions/types.ts';
import { Emitter } from '../../../src-main/core/util/event.ts';
import type { ConversationTurnEvent } from '../../../src-shared/conversation.ts';
import type { SessionInfo, SessionState } from '../../../src-shared/session.ts';
import { registry } from '../sessions/helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function session(over: Partial<SessionInfo> = {}): SessionInfo {
  const now = new Date().toISOString();
  return {
    session_id: 's1',
    name: 'x',
    cli_tool: 'x',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    state: 'waiting_input',
    state_reason: { source: 'screen-rule', rule: 'x.prompt', detail: '', at: now },
    authentication_required: false,
    auth_prompt: null,
    pid: null,
    created_at: now,
    started_at: now,
    ended_at: null,
    last_activity: now,
    current_directory: '/',
    exit_code: null,
    exit_signal: null,
    cols: 80,
    rows: 24,
    last_seq: 0,
    title: null,
    command_history: [],
    metadata: {},
    worktree: null,
    ...over,
  };
}

/** A manager whose state events a test plays; `command` records the line and resolves when told. */
class ScriptedManager {
  info = session();
  readonly changes = new Emitter<{ session: SessionInfo; previous: SessionState }>();
  readonly created = new Emitter<SessionInfo>();
  readonly exited = new Emitter<SessionInfo>();
  readonly removed = new Emitter<string>();
  resolveCommand: ((o: SubmitOutcome) => void) | null = null;

  state(state: SessionState, rule: string, source: SessionInfo['state_reason']['source'] = 'screen-rule') {
    const previous = this.info.state;
    this.info = {
      ...this.info,
      state,
      state_reason: { source, rule, detail: '', at: new Date().toISOString() },
    };
    this.changes.fire({
      session: { ...this.info, command_history: [...this.info.command_history] },
      previous,
    });
  }

  /** A line submitted (history grows; no event of its own, as in the real manager). */
  line(text: string) {
    this.info = { ...this.info, command_history: [...this.info.command_history, text] };
  }

  asManager(): SessionManager {
    return {
      get: (id: string) => (id === 's1' ? { ...this.info } : undefined),
      list: () => [{ ...this.info }],
      onDidCreate: this.created.event,
      onDidChangeState: this.changes.event,
      onDidExit: this.exited.event,
      onDidRemove: this.removed.event,
      snapshot: async () => ({ seq: 0, screen: '', cols: 80, rows: 24 }),
      command: (_id: string, text: string) => {
        this.line(text);
        return new Promise<SubmitOutcome>((resolve) => {
          this.resolveCommand = resolve;
        });
      },
    } as unknown as SessionManager;
  }
}

function rig(t: { after(fn: () => void): void }, defs: ProviderDefinition[] = []) {
  const m = new ScriptedManager();
  const conversations = createConversationService({
    sessions: m.asManager(),
    records: new SessionRecords({ providers: registry(defs) }),
    providers: registry(defs),
    endSettleMs: 150,
    progressMs: 50,
  });
  const events: ConversationTurnEvent[] = [];
  conversations.onTurn((e) => events.push(e));
  t.after(() => conversations.dispose());
  return { m, conversations, events, ended: () => events.filter((e) => e.phase === 'ended') };
}

test("a person's line seen on a stale flap: the flap does not count; the turn ends after the real work", async (t) => {
  const r = rig(t);
  r.m.state('waiting_input', 'x.done');
  r.m.line('typed by a person');
  // codex: the previous turn's spinner title flaps while the line is submitted…
  r.m.state('processing', 'x.title-spinner');
  r.m.state('waiting_input', 'x.idle');
  await sleep(300);
  assert.equal(r.ended().length, 0, 'no turn ended on the stale idle');
  // …then the agent really works and finishes.
  r.m.state('processing', 'x.working');
  r.m.state('waiting_input', 'x.done');
  await sleep(300);
  assert.deepEqual(
    r.ended().map((e) => [e.origin, e.prompt]),
    [['person', 'typed by a person']],
  );
});

test('a flap at the end of the work (idle, spinner, idle within ms) ends the turn once, after it settles', async (t) => {
  const r = rig(t);
  r.m.line('go');
  r.m.state('running', 'input-sent', 'user');
  r.m.state('processing', 'x.working');
  r.m.state('waiting_input', 'x.done');
  await sleep(20);
  r.m.state('processing', 'x.title-spinner');
  await sleep(20);
  r.m.state('waiting_input', 'x.idle');
  await sleep(60);
  assert.equal(r.ended().length, 0, 'not before the settle time');
  await sleep(300);
  assert.equal(r.ended().length, 1);
  // Work resuming within the settle time keeps the turn open.
  r.m.line('again');
  r.m.state('running', 'input-sent', 'user');
  r.m.state('waiting_input', 'x.done');
  await sleep(50);
  r.m.state('processing', 'x.working');
  await sleep(300);
  assert.equal(r.ended().length, 1, 'the second turn is still running');
  r.m.state('waiting_input', 'x.done');
  await sleep(300);
  assert.equal(r.ended().length, 2);
});

test('an API turn: busy before the submission is confirmed counts once confirmed; stale flaps before do not', async (t) => {
  const r = rig(t);
  const sent = r.conversations.send('s1', { content: 'And once more', timeout_s: 10, queue: true });
  await sleep(50);
  assert.ok(r.m.resolveCommand, 'submitted');
  // The previous turn's flap arrives with the submitted line…
  r.m.state('processing', 'x.title-spinner');
  r.m.state('waiting_input', 'x.idle');
  await sleep(250);
  assert.equal(r.ended().length, 0);
  // …the agent starts working before the submitter confirms, then the confirmation arrives.
  r.m.state('processing', 'x.working');
  r.m.resolveCommand?.({ ok: true, attempts: 1, detail: 'submitted' });
  await sleep(20);
  r.m.state('waiting_input', 'x.done');
  const out = await sent;
  assert.equal(out.status, 'answered');
  assert.equal(r.ended().length, 1);
  assert.equal(r.ended()[0]?.origin, 'api');
});

test("ready means the idle prompt: a permission question refuses queue:false; Claude's idle notification does not", async (t) => {
  const claude = defaultProviders({}).find((p) => p.id === 'claude') as ProviderDefinition;
  const r = rig(t, [{ ...claude, id: 'x' }]);
  r.m.state('waiting_input', 'claude.hook.permission-request', 'hook');
  await assert.rejects(
    r.conversations.send('s1', { content: 'go', timeout_s: 5, queue: false }),
    (e: unknown) => e instanceof ConversationError && e.error_code === 'AGENT_BUSY',
  );
  // "Claude is waiting for your input" (idle_prompt) is reported under claude.hook.question: ready.
  r.m.state('waiting_input', 'claude.hook.question', 'hook');
  const sent = r.conversations.send('s1', { content: 'go', timeout_s: 5, queue: false });
  await sleep(50);
  assert.ok(r.m.resolveCommand, 'the prompt was submitted');
  r.m.resolveCommand?.({ ok: false, attempts: 2, detail: 'test ends here' });
  await assert.rejects(
    sent,
    (e: unknown) => e instanceof ConversationError && e.error_code === 'COMMAND_NOT_SUBMITTED',
  );
});

test("a person's line seen on the agent's own busy report (a hook) counts as that turn's work", async (t) => {
  const r = rig(t);
  r.m.state('waiting_input', 'x.stop', 'hook');
  r.m.line('typed by a person');
  // Claude Code: the UserPromptSubmit hook is the first event after the line (no input-sent in between).
  r.m.state('processing', 'x.hook.prompt-submit', 'hook');
  r.m.state('waiting_input', 'x.hook.stop', 'hook');
  await sleep(300);
  assert.deepEqual(
    r.ended().map((e) => [e.origin, e.prompt]),
    [['person', 'typed by a person']],
  );
});
