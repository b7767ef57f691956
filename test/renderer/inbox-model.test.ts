import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryEntry, SearchHit } from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { moved, session } from './helpers/session.ts';

// The inbox, "ended", "done and unseen", grouped history hits and the replay timeline: pure models.
type Group = 'needs-you' | 'working' | 'done-unseen' | 'ready' | 'ended';
type Item = { session: SessionInfo; group: Group; question: string; since: string };
const { buildInbox, nextNeedingYou, questionFor, quotedEvidence } = await loadRenderer<{
  buildInbox(
    sessions: SessionInfo[],
    unseen: ReadonlySet<string>,
    options?: { hidden?: ReadonlySet<string>; endedLimit?: number },
  ): Record<Group, Item[]>;
  nextNeedingYou(items: Item[], current: string | null): string | null;
  questionFor(s: SessionInfo, screen?: string[]): string;
  quotedEvidence(detail: string): string | null;
}>('model/inbox.ts');
const { hasEnded } = await loadRenderer<{ hasEnded(s: SessionInfo): boolean }>('model/session-life.ts');
const { groupHits } = await loadRenderer<{
  groupHits(hits: SearchHit[]): { session_id: string; hits: SearchHit[]; snippets: string[] }[];
}>('model/search-hits.ts');
const { buildTimeline, framesAt, submittedLines, formatClock } = await loadRenderer<{
  buildTimeline(history: HistoryEntry[]): {
    frames: { t: number; data: string }[];
    markers: { t: number; text: string }[];
    duration: number;
  };
  framesAt(timeline: unknown, t: number): number;
  submittedLines(entries: Extract<HistoryEntry, { message_type: 'command' }>[]): { command: string }[];
  formatClock(ms: number): string;
}>('model/replay.ts');
const { initialWorkspace, workspaceReducer } = await loadRenderer<{
  initialWorkspace(): { unseen: ReadonlySet<string>; sessions: Record<string, SessionInfo> };
  workspaceReducer(state: unknown, action: unknown): { unseen: ReadonlySet<string>; active: string | null };
}>('model/tabs.ts');

const T0 = Date.parse('2026-11-21T06:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

test('an agent that exited with an error has ended, though its state is "error"', () => {
  assert.equal(hasEnded(session({ session_id: 'e', state: 'error', ended_at: iso(5), pid: null })), true);
  assert.equal(
    hasEnded(session({ session_id: 'e', state: 'error' })),
    false,
    'a live agent showing an error',
  );
  assert.equal(hasEnded(session({ session_id: 't', state: 'terminated' })), true);
});

test('the inbox: needs-you first (oldest question first), working, done-unseen, ready, ended; removed hidden', () => {
  const waitOld = session({
    session_id: 'w1',
    state: 'waiting_input',
    state_reason: {
      source: 'screen-rule',
      detail: 'matched "Do you want to proceed?" in the last 3 lines',
      at: iso(10),
    },
  });
  const waitNew = session({
    session_id: 'w2',
    state: 'waiting_input',
    state_reason: { source: 'screen-rule', detail: 'matched ">" in the last line', at: iso(50) },
  });
  const auth = session({
    session_id: 'au',
    state: 'waiting_input',
    authentication_required: true,
    auth_prompt: 'Select login method:',
  });
  const busy = session({ session_id: 'b', state: 'processing' });
  // Shells back at their prompt: "ready" (the one vocabulary: a `running` session is working).
  const done = session({ session_id: 'd', state: 'waiting_input', provider_kind: 'shell' });
  const quiet = session({ session_id: 'q', state: 'waiting_input', provider_kind: 'shell' });
  const ended = session({ session_id: 'x', state: 'error', ended_at: iso(20), exit_code: 3 });
  const gone = session({ session_id: 'g', state: 'completed', ended_at: iso(21), exit_code: 0 });
  const inbox = buildInbox([quiet, busy, waitNew, ended, done, auth, waitOld, gone], new Set(['d']), {
    hidden: new Set(['g']),
  });
  assert.deepEqual(
    inbox['needs-you'].map((i) => i.session.session_id),
    ['au', 'w1', 'w2'],
  );
  assert.deepEqual(
    inbox.working.map((i) => i.session.session_id),
    ['b'],
  );
  assert.deepEqual(
    inbox['done-unseen'].map((i) => i.session.session_id),
    ['d'],
  );
  assert.deepEqual(
    inbox.ready.map((i) => i.session.session_id),
    ['q'],
  );
  assert.deepEqual(
    inbox.ended.map((i) => i.session.session_id),
    ['x'],
  );
  // The question itself: the sign-in prompt, the quoted prompt text; a bare ">" defers to the screen.
  assert.equal(inbox['needs-you'][0]?.question, 'Select login method:');
  assert.equal(inbox['needs-you'][1]?.question, 'Do you want to proceed?');
  assert.equal(
    questionFor(waitNew, ['Plan ready. Apply the 3 edits?', '>']),
    'Plan ready. Apply the 3 edits?',
  );
  assert.match(inbox.ended[0]?.question ?? '', /exit|code 3|Error|Failed \(3\)/i);
  assert.equal(quotedEvidence('matched "a \\"quoted\\" b" in the screen'), 'a "quoted" b');
  assert.equal(quotedEvidence('spawned'), null);
});

test('Alt+J order: the next one after the current, wrapping; none when only the current needs you', () => {
  const items = ['a', 'b', 'c'].map((id) => ({
    session: session({ session_id: id }),
    group: 'needs-you' as const,
    question: '',
    since: '',
  }));
  assert.equal(nextNeedingYou(items, null), 'a');
  assert.equal(nextNeedingYou(items, 'a'), 'b');
  assert.equal(nextNeedingYou(items, 'c'), 'a');
  assert.equal(nextNeedingYou(items, 'elsewhere'), 'a');
  assert.equal(nextNeedingYou(items.slice(0, 1), 'a'), null);
  assert.equal(nextNeedingYou([], 'a'), null);
});

test('done and unseen: a session that stops working out of sight is unseen until viewed', () => {
  const a = session({ session_id: 'a', state: 'processing', provider_kind: 'shell' });
  const b = session({ session_id: 'b', state: 'processing', provider_kind: 'shell' });
  let s: unknown = workspaceReducer(initialWorkspace(), { type: 'loaded', sessions: [a, b] });
  // `a` is active and in view; `b` works in the background.
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(b, { state: 'waiting_input' }) },
  });
  s = workspaceReducer(s, {
    type: 'event',
    event: { kind: 'session_state', session: moved(a, { state: 'waiting_input' }) },
  });
  let state = s as { unseen: ReadonlySet<string> };
  assert.deepEqual([...state.unseen], ['b'], 'b finished out of sight; a finished in view');
  s = workspaceReducer(s, { type: 'activate', sessionId: 'b' });
  state = s as { unseen: ReadonlySet<string> };
  assert.deepEqual([...state.unseen], [], 'seen');
});

const hit = (session_id: string, at: string, snippet = '«zanzibar» panel'): SearchHit => ({
  session_id,
  session_name: 'old name',
  cli_tool: 'shell',
  kind: 'output',
  seq: 1,
  at,
  snippet,
});

test('history hits: redraws of one screen (same session, within a minute) are one group', () => {
  const groups = groupHits([
    hit('s1', iso(1)),
    hit('s1', iso(2)),
    hit('s1', iso(3), '«zanzibar» frame 3'),
    hit('s2', iso(2)),
    hit('s1', iso(600)),
  ]);
  assert.deepEqual(
    groups.map((g) => [g.session_id, g.hits.length]),
    [
      ['s1', 1],
      ['s1', 3],
      ['s2', 1],
    ],
  );
  assert.equal(groups[1]?.snippets.length, 2, 'distinct snippets kept, repeats folded');
});

const out = (seq: number, s: number, output: string): HistoryEntry => ({
  message_type: 'output',
  at: iso(s),
  seq_start: seq,
  seq_end: seq,
  output,
});
const key = (seq: number, s: number, command: string): HistoryEntry => ({
  message_type: 'command',
  at: iso(s),
  seq,
  command,
  kind: 'input',
});

test('replay: keystrokes become submitted lines; markers sit where the output stood; idle gaps shrink', () => {
  // An older history: keys only, assembled here.
  const keys = [
    key(1, 1, 'e') as never,
    key(1, 1.1, 'x') as never,
    key(1, 1.2, '\x7f') as never,
    key(1, 1.3, 'cho hi\x1b[D') as never,
    key(1, 1.4, '\r') as never,
  ];
  assert.deepEqual(
    submittedLines(keys).map((l) => l.command),
    ['echo hi'],
  );
  // The server records the assembled line beside the keys: the line wins, no duplicate.
  const both = [
    ...keys,
    { message_type: 'command', at: iso(1.4), seq: 1, command: 'echo hi', kind: 'command' } as never,
  ];
  assert.deepEqual(
    submittedLines(both).map((l) => l.command),
    ['echo hi'],
  );
  const timeline = buildTimeline([
    out(1, 0, '$ '),
    key(1, 1, 'ls\r'),
    out(2, 1.1, 'ls\r\n'),
    out(3, 1.2, 'a b\r\n$ '),
    // An hour waiting for the user replays as two seconds.
    key(3, 3600, 'exit\r'),
    out(4, 3600.1, 'exit\r\n'),
  ]);
  assert.equal(timeline.frames.length, 4);
  assert.deepEqual(
    timeline.markers.map((m) => m.text),
    ['ls', 'exit'],
  );
  // At each marker, the screen holds exactly the output printed before it was typed.
  assert.equal(framesAt(timeline, timeline.markers[0]!.t), 1);
  assert.equal(framesAt(timeline, timeline.markers[1]!.t), 3);
  assert.ok(timeline.duration < 5000, `idle hour shortened: ${timeline.duration} ms`);
  assert.equal(framesAt(timeline, timeline.duration), 4);
  assert.equal(formatClock(65_000), '1:05');
  assert.equal(formatClock(3_725_000), '1:02:05');
});
