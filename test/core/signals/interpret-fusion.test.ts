// What a payload means (provider data + parsers) and how a signal is laid over the screen (fusion),
// with an injected clock. The bundled provider data is what is tested, not copies of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import {
  OscScanner,
  PAYLOAD_PARSERS,
  SessionSignalFusion,
  SignalInterpreter,
} from '../../../src-main/core/signals/index.ts';
import type { Detection } from '../../../src-main/core/state/types.ts';

const byId = (id: string) => defaultProviders({}).find((p) => p.id === id) as ProviderDefinition;

test('claude hook events map to states as the provider data says', () => {
  const i = new SignalInterpreter(byId('claude').signals);
  const state = (payload: Record<string, string>) => {
    const r = i.interpret('hooks', { session_id: 'c1', ...payload }, 1000);
    return r.kind === 'state' ? `${r.signal.state} ${r.signal.rule}` : r.kind;
  };
  // SessionStart: the conversation id only (its hook may run after the first prompt was sent).
  assert.equal(state({ hook_event_name: 'SessionStart', source: 'startup' }), 'none');
  assert.equal(state({ hook_event_name: 'UserPromptSubmit' }), 'processing claude.hook.prompt-submit');
  assert.equal(state({ hook_event_name: 'PreToolUse' }), 'processing claude.hook.pre-tool');
  assert.equal(
    state({ hook_event_name: 'PermissionRequest' }),
    'waiting_input claude.hook.permission-request',
  );
  assert.equal(
    state({ hook_event_name: 'Notification', notification_type: 'permission_prompt' }),
    'waiting_input claude.hook.permission-prompt',
  );
  assert.equal(state({ hook_event_name: 'Notification', notification_type: 'auth_success' }), 'none');
  assert.equal(state({ hook_event_name: 'Stop' }), 'waiting_input claude.hook.stop');
  assert.equal(state({ hook_event_name: 'StopFailure' }), 'error claude.hook.stop-failure');
  assert.equal(state({ hook_event_name: 'SessionEnd' }), 'none', 'exit comes from the process, not a hook');
});

test('sub-agent payloads, unknown events and unparseable payloads change nothing (never "done" by default)', () => {
  const i = new SignalInterpreter(byId('claude').signals);
  const sub = i.interpret('hooks', { hook_event_name: 'Stop', agent_id: 'a1', session_id: 'c1' }, 1);
  assert.equal(sub.kind, 'none');
  assert.equal(sub.conversationId, null, "a sub-agent's session is not the conversation");
  assert.equal(i.interpret('hooks', { hook_event_name: 'Brand new event' }, 1).kind, 'none');
  assert.equal(i.interpret('hooks', 'Stop', 1).kind, 'none');
  assert.equal(i.interpret('hooks', null, 1).kind, 'none');
  assert.equal(i.interpret('hooks', { session_id: 'c1' }, 1).kind, 'none');
  assert.equal(i.interpret('no-such-source', { hook_event_name: 'Stop' }, 1).kind, 'none');
});

test('the conversation id comes from the field the data names; junk ids are refused', () => {
  const claude = new SignalInterpreter(byId('claude').signals);
  assert.equal(
    claude.interpret('hooks', { hook_event_name: 'SessionStart', session_id: 'abc-123' }, 1).conversationId,
    'abc-123',
  );
  assert.equal(
    claude.interpret('hooks', { hook_event_name: 'SessionStart', session_id: '../../etc' }, 1).conversationId,
    null,
  );
  const codex = new SignalInterpreter(byId('codex').signals);
  const turn = codex.interpret('notify', { type: 'agent-turn-complete', 'thread-id': 'th-1' }, 1);
  assert.equal(turn.conversationId, 'th-1');
  // Not a state: codex runs notify without waiting, so it may come after the next prompt was sent.
  assert.equal(turn.kind, 'none');
  // The title generator's side thread finishes first; it is neither the conversation nor the turn.
  const title = codex.interpret(
    'notify',
    {
      type: 'agent-turn-complete',
      'thread-id': 'side',
      'last-assistant-message': '{"title":"Fix the build"}',
    },
    1,
  );
  assert.equal(title.kind, 'none');
  assert.equal(title.conversationId, null);
});

test('OSC 7501 reports: parsed as the protocol says, mapped by codex data', () => {
  const parse = PAYLOAD_PARSERS['osc-kv'] as (p: unknown) => Record<string, string> | null;
  const msg = Buffer.from('Run ls -la?').toString('base64');
  assert.deepEqual(parse(`state=blocked:app=codex:kind=permission:msg=${msg}`), {
    state: 'blocked',
    app: 'codex',
    kind: 'permission',
    msg: 'Run ls -la?',
  });
  assert.deepEqual(
    parse('state=working:bad pair:Key=x:state=done'),
    { state: 'done' },
    'last duplicate wins',
  );
  assert.equal(parse('state=done:msg=a=bc'), null, 'invalid base64 discards the report');
  assert.deepEqual(parse('state=done:msg=***'), { state: 'done' }, 'a malformed pair is skipped');
  assert.equal(
    parse(`state=done:msg=${Buffer.from('a\x1b[31mb').toString('base64')}`),
    null,
    'control characters',
  );

  const i = new SignalInterpreter(byId('codex').signals);
  // A permission report comes before codex draws the dialog: it hands the decision to the screen.
  const blocked = i.interpret('osc7501', `state=blocked:app=codex:kind=permission:msg=${msg}`, 5);
  assert.equal(blocked.kind, 'clear');
  const done = i.interpret('osc7501', 'state=done:app=codex', 5);
  assert.ok(done.kind === 'state');
  assert.equal(done.signal.state, 'waiting_input');
  assert.equal(done.signal.provenance, 'osc-status');
  const auth = i.interpret('osc7501', 'state=blocked:kind=auth', 5);
  assert.ok(auth.kind === 'state' && auth.signal.authentication_required);
  assert.equal(i.interpret('osc7501', 'state=working', 5).kind, 'state');
  assert.equal(i.interpret('osc7501', 'state=clear', 5).kind, 'clear');
  assert.equal(i.interpret('osc7501', 'state=blocked:id=sub/1', 5).kind, 'none', 'sub-records are ignored');
});

function det(
  state: Detection['state'],
  source: Detection['reason']['source'],
  rule: string,
  at: number,
): Detection {
  return {
    state,
    authentication_required: false,
    auth_prompt: null,
    reason: { source, rule, detail: rule, at: new Date(at).toISOString() },
  };
}

function fused(providerId: string) {
  let now = 10_000;
  const provider = byId(providerId);
  const fusion = new SessionSignalFusion({
    provider,
    interpreter: new SignalInterpreter(provider.signals),
    now: () => now,
  });
  const seen: Detection[] = [];
  fusion.onDidDetect((d) => seen.push(d));
  return {
    screen: { set: (d: Detection) => fusion.screen(d) },
    detector: fusion,
    seen,
    at: (ms: number) => {
      now = ms;
    },
    hook: (event: string, at: number, extra: Record<string, string> = {}) =>
      fusion.receive('hooks', { hook_event_name: event, session_id: 'conv', ...extra }, at),
  };
}

test('a fresh signal outranks weak screen evidence: an idle title or prompt while hooks say working', () => {
  const f = fused('claude');
  f.at(10_000);
  f.hook('UserPromptSubmit', 10_000);
  assert.equal(f.detector.evaluate().reason.rule, 'claude.hook.prompt-submit');
  f.at(10_500);
  f.screen.set(det('waiting_input', 'osc-title', 'claude.title-idle', 10_500));
  assert.equal(f.detector.evaluate().state, 'processing', 'the title is no match for the hook');
  f.screen.set(det('waiting_input', 'screen-rule', 'claude.prompt', 10_600));
  assert.equal(f.detector.evaluate().state, 'processing', 'a weak prompt marker either');
  f.screen.set(det('waiting_input', 'stability', 'screen-stable', 10_700));
  assert.equal(f.detector.evaluate().reason.source, 'hook');
});

test('the signal yields: at its TTL, to input after a "waiting" signal, to a newer explicit dialog or banner', () => {
  const f = fused('claude');
  f.at(10_000);
  f.hook('UserPromptSubmit', 10_000);
  f.screen.set(det('processing', 'screen-rule', 'claude.busy', 10_100));
  // TTL of a processing signal (60 s by default): after it, the screen decides again.
  f.at(10_000 + 59_999);
  assert.equal(f.detector.evaluate().reason.source, 'hook');
  f.at(10_000 + 60_000);
  assert.equal(f.detector.evaluate().reason.rule, 'claude.busy');

  // A newer explicit dialog on screen beats an older "working" signal (the hook for it was missed).
  f.at(80_000);
  f.hook('PreToolUse', 80_000);
  f.at(80_500);
  f.screen.set(det('waiting_input', 'screen-rule', 'claude.permission-prompt', 80_500));
  assert.equal(f.detector.evaluate().reason.rule, 'claude.permission-prompt');

  // A "waiting" signal ends at the user's next key (a missing hook must not keep "needs you").
  f.at(90_000);
  f.hook('Stop', 90_000);
  f.screen.set(det('waiting_input', 'screen-rule', 'claude.prompt', 89_000));
  assert.equal(f.detector.evaluate().reason.rule, 'claude.hook.stop');
  f.at(91_000);
  f.screen.set(det('running', 'user', 'input-sent', 91_000));
  f.detector.noteInput();
  assert.equal(f.detector.evaluate().reason.rule, 'input-sent');

  // A newer auth banner beats an older "waiting" signal; a newer weak prompt does not.
  f.at(100_000);
  f.hook('Stop', 100_000);
  f.at(100_400);
  f.screen.set(det('waiting_input', 'screen-rule', 'claude.prompt', 100_400));
  assert.equal(f.detector.evaluate().reason.rule, 'claude.hook.stop');
  f.screen.set({
    ...det('error', 'screen-rule', 'claude.auth-error', 100_500),
    authentication_required: true,
    auth_prompt: 'API Error: 401',
  });
  assert.equal(f.detector.evaluate().reason.rule, 'claude.auth-error');
});

test('racing relays: a report older than the newest one changes nothing; a clear hands back to the screen', () => {
  const f = fused('codex');
  f.at(20_000);
  f.detector.receive('osc7501', 'state=working', 20_000);
  f.detector.receive('osc7501', 'state=done', 19_000); // reported earlier, arrived later
  assert.equal(f.detector.evaluate().reason.rule, 'codex.osc.working');
  f.screen.set(det('processing', 'screen-rule', 'codex.busy', 19_500));
  f.detector.receive('osc7501', 'state=clear', 20_100);
  assert.equal(f.detector.evaluate().reason.rule, 'codex.busy');
  assert.deepEqual(
    f.seen.map((d) => d.reason.rule),
    ['codex.osc.working', 'codex.busy'],
  );
});

test('OSC reports are found in the output stream across chunk boundaries, only the numbers asked for', () => {
  const scanner = new OscScanner([7501]);
  const report = '\x1b]7501;state=blocked:app=codex:kind=permission\x1b\\';
  const stream = `text \x1b]0;title\x07 more ${report} tail \x1b]7501;state=done\x07`;
  // Every split point of the stream yields the same two reports (and never the OSC 0 title).
  for (let cut = 0; cut <= stream.length; cut++) {
    const s = new OscScanner([7501]);
    const found = [...s.push(stream.slice(0, cut)), ...s.push(stream.slice(cut))];
    assert.deepEqual(
      found.map((f) => f.data),
      ['state=blocked:app=codex:kind=permission', 'state=done'],
      `cut at ${cut}`,
    );
  }
  assert.deepEqual(scanner.push('\x1b]7501;' + 'x'.repeat(5000)), [], 'an overlong report is dropped');
  assert.deepEqual(scanner.push('\x07'), []);
});

test('a session fusion reads OSC 7501 from the output it is given (codex data)', () => {
  const provider = byId('codex');
  const fusion = new SessionSignalFusion({
    provider,
    interpreter: new SignalInterpreter(provider.signals),
    now: () => 5,
  });
  fusion.output('\x1b]7501;state=done:app=codex\x1b');
  fusion.output('\\');
  const d = fusion.evaluate();
  assert.equal(d.reason.source, 'osc-status');
  assert.equal(d.reason.rule, 'codex.osc.done');
  assert.equal(d.state, 'waiting_input');
});
