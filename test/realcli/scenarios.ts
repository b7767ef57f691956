import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SessionActivity } from '../../src-shared/activity.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { longAnswer, type Turn } from '../mock-model/script.ts';
import { startMockModelServer } from '../mock-model/server.ts';
import type { AutodevServe } from './autodev-serve.ts';
import { CliSession, sleep } from './cli-session.ts';
import type { CliProfile, HomeOptions } from './profiles.ts';
import type { CheckResult } from './recorder.ts';
import type { ScreenFrame } from './screen-mirror.ts';

/**
 * Scenarios that drive a real agent CLI through `autodev serve` against the mock model service and
 * judge AutoDev's state against the ground truth at every step (see recorder.ts). Each returns the
 * session's check results; none throws on a wrong state (the caller asserts, the bench scores), only
 * when the CLI itself did not do what the scenario needs (then the scenario cannot judge anything).
 *
 * Fast scenarios run in `npm test` (test/realcli/*.test.ts); `slow: true` ones only in the bench.
 */
export interface Scenario {
  name: string;
  /** Too slow for `npm test`: run by `npm run bench` (bench/realcli.bench.ts). */
  slow?: boolean;
  /** CLIs it applies to (default all). */
  clis?: readonly CliProfile['id'][];
  run(ctx: ScenarioContext): Promise<CheckResult[]>;
}

export interface ScenarioContext {
  serve: AutodevServe;
  profile: CliProfile;
  /** Called with each session's timeline when the scenario ends (diagnostics, bench logs). */
  log?(text: string): void;
}

const needsYou = (_s: SessionInfo, a: SessionActivity) => a.activity === 'needs_you';
const waitingLike = (s: SessionInfo, a: SessionActivity) =>
  s.state === 'waiting_input' || a.activity === 'needs_you' || a.activity === 'ready';

/** Start a session with its own mock model service; always cleaned up. */
async function withSession(
  ctx: ScenarioContext,
  scenario: string,
  options: Omit<HomeOptions, 'home' | 'project' | 'mockUrl'> & { env?: Record<string, string> },
  body: (s: CliSession) => Promise<void>,
): Promise<CheckResult[]> {
  const mock = await startMockModelServer({ lifetimeMs: 5 * 60_000 });
  let session: CliSession | null = null;
  const { env, ...home } = options;
  try {
    session = await CliSession.start({
      serve: ctx.serve,
      profile: ctx.profile,
      mock,
      scenario,
      home,
      ...(env ? { env } : {}),
    });
    await body(session);
    return session.recorder.results;
  } finally {
    if (session) {
      ctx.log?.(`── ${ctx.profile.id} ${scenario}\n${session.recorder.timeline()}`);
      if (process.env['AUTODEV_RECORD_SCREENS'])
        saveRecordings(session, process.env['AUTODEV_RECORD_SCREENS']);
      await session.close();
    }
    await mock.close();
  }
}

/** By hand (AUTODEV_RECORD_SCREENS=dir): the real screen at each truth mark, as replayable .ans files. */
function saveRecordings(s: CliSession, dir: string): void {
  mkdirSync(dir, { recursive: true });
  s.recorder.truths.forEach((mark, i) => {
    const name = `${s.profile.id}-${s.recorder.scenario}-${String(i).padStart(2, '0')}-${mark.truth}.ans`;
    writeFileSync(path.join(dir, name), s.recording(mark.at));
  });
}

/** The line of the input box (where a typed or pasted prompt sits). */
function inputLine(screen: string): string {
  const lines = screen.split('\n').filter((l) => /^\s*[>❯›]\s/.test(l));
  return (lines[lines.length - 1] ?? '').trim();
}

/** The first frame where the CLI shows its idle prompt and no sign of work (optionally with `text`). */
function idleFrame(s: CliSession, since: number, text?: string, timeoutMs = 30_000): Promise<ScreenFrame> {
  const { screen } = s.profile;
  return s.screen.waitFor(
    (f) =>
      screen.ready.test(f.text) &&
      !screen.working(f.text, f.title) &&
      (text === undefined || f.text.includes(text)),
    { since, timeoutMs },
  );
}

/** Start-up until the idle prompt: AutoDev must say the agent waits for its user. */
async function readyAtStart(s: CliSession, timeoutMs = 60_000): Promise<void> {
  const frame = await idleFrame(s, 0, undefined, timeoutMs);
  s.recorder.truth(frame.at, 'waiting', 'idle prompt drawn');
  await s.recorder.expect({
    step: 'start-up → idle prompt',
    truthAt: frame.at,
    expected: 'needs_you',
    accept: needsYou,
  });
  // Some CLIs draw their prompt before they take input (gemini: "Initializing… Prompts will be
  // queued"); a person reads the screen first. (A spinner-free screen that stays put: start-up done.)
  await s.screen.quiet(1500, 60_000);
}

/** When the agent visibly took a prompt: its screen first showed it at work (spinner, busy title), at
 *  the latest when the model was asked; never before AutoDev's own "input sent" state can have arrived
 *  on the events socket (250 ms). (A pasted prompt on screen is not taken yet: it sits in the input box
 *  until Enter, which the submitter sends once it sees the text there.) */
function tookPrompt(s: CliSession, sent: number, requestAt: number): number {
  const busy = s.screen.frames.find((f) => f.at >= sent && s.profile.screen.working(f.text, f.title));
  return Math.max(Math.min(busy?.at ?? requestAt, requestAt), sent + 250);
}

/** One conversational turn answered by `turn`; judges processing while it streams and waiting after. */
async function answeredTurn(
  s: CliSession,
  step: string,
  prompt: string,
  turn: Extract<Turn, { kind: 'text' }>,
) {
  s.mock.script(turn);
  const sent = await s.submit(prompt);
  const request = await s.mock.waitFor((e) => e.type === 'request' && e.role === 'main', 30_000, sent);
  const took = tookPrompt(s, sent, request.at);
  s.recorder.truth(took, 'processing', 'the agent took the prompt (busy on screen, or the model asked)');
  const end = await s.mock.waitFor((e) => e.type === 'stream-end', 60_000, request.at);
  const tail = turn.text.trim().split('\n').pop()!.trim().slice(-30);
  const frame = await idleFrame(s, end.at, tail);
  s.recorder.truth(frame.at, 'waiting', 'mock: stream ended; screen: idle prompt');
  s.recorder.never({
    step: `${step}: while it works`,
    from: took,
    to: end.at,
    expected: 'working (no false waiting)',
    reject: waitingLike,
  });
  await s.recorder.expect({
    step: `${step}: answer done`,
    truthAt: frame.at,
    expected: 'needs_you',
    accept: needsYou,
  });
}

async function permissionTurn(s: CliSession): Promise<void> {
  const file = path.join(s.project, 'created-by-agent.txt');
  s.mock.script(
    { kind: 'tool', command: 'touch created-by-agent.txt', justification: 'Create a file' },
    { kind: 'text', text: 'Created the file.' },
  );
  const sent = await s.submit('create a file please');
  const request = await s.mock.waitFor((e) => e.type === 'request' && e.role === 'main', 30_000, sent);
  const took = tookPrompt(s, sent, request.at);
  s.recorder.truth(took, 'processing', 'the agent took the prompt (busy on screen, or the model asked)');
  const call = await s.mock.waitFor((e) => e.type === 'tool-call-sent', 30_000, request.at);
  const asked = await s.screen.waitFor((f) => s.profile.screen.permission.test(f.text), { since: call.at });
  s.recorder.truth(asked.at, 'permission', 'screen: permission question');
  s.recorder.never({
    step: 'permission: before the question',
    from: took,
    to: call.at,
    expected: 'working (no false waiting)',
    reject: waitingLike,
  });
  await s.recorder.expect({
    step: 'permission: question shown',
    truthAt: asked.at,
    expected: 'needs_you, reason: the permission question',
    accept: (st, a) =>
      a.activity === 'needs_you' &&
      !st.authentication_required &&
      /permission|approval|action-required/.test(st.state_reason.rule ?? ''),
  });
  await sleep(300);
  const approved = s.keys(s.profile.keys.approve);
  const result = await s.mock.waitFor((e) => e.type === 'tool-result', 30_000, approved);
  s.recorder.truth(approved, 'processing', 'approved');
  const end = await s.mock.waitFor((e) => e.type === 'stream-end', 30_000, result.at);
  const frame = await idleFrame(s, end.at, 'Created the file.');
  s.recorder.truth(frame.at, 'waiting', 'mock: answer streamed; screen: idle prompt');
  await s.recorder.expect({
    step: 'permission: answer done',
    truthAt: frame.at,
    expected: 'needs_you',
    accept: needsYou,
  });
  s.recorder.results.push({
    cli: s.profile.id,
    scenario: s.recorder.scenario,
    step: 'permission: the approved command ran',
    expected: 'file created',
    actual: existsSync(file) ? 'file created' : 'no file',
    latencyMs: null,
    ok: existsSync(file),
  });
}

/** The mock's assumptions about the wire, checked against what the real CLI sent this run. */
function wireChecks(s: CliSession): void {
  const main = s.mock.requests.filter((r) => r.role === 'main');
  const shaped = main.filter(
    (r) =>
      s.profile.wire.path.test(`${r.path}${r.query}`) &&
      r.shape.stream !== false &&
      (r.shape.tools ?? []).includes(s.profile.wire.shellTool),
  );
  const push = (step: string, expected: string, actual: string, ok: boolean) =>
    s.recorder.results.push({
      cli: s.profile.id,
      scenario: s.recorder.scenario,
      step,
      expected,
      actual,
      latencyMs: null,
      ok,
    });
  push(
    'wire: conversational turns',
    `POST ${s.profile.wire.path.source}, streamed, offering ${s.profile.wire.shellTool}`,
    `${shaped.length} of ${main.length} turns so shaped${main[0] ? ` (e.g. ${main[0].method} ${main[0].path}${main[0].query})` : ''}`,
    main.length >= 4 && shaped.length === main.length,
  );
  const unknown = s.mock.requests.filter((r) => r.api === null);
  push(
    'wire: every call answered',
    'no request the mock does not know',
    unknown.length === 0 ? 'none unknown' : unknown.map((r) => `${r.method} ${r.path}`).join(', '),
    unknown.length === 0,
  );
}

/** An HTTP error: the banner must read as `error` (with the banner as reason), or sign-in for 401. */
async function errorTurn(s: CliSession, status: number, options: { retried?: boolean } = {}): Promise<void> {
  // Every retry the CLI makes gets the error too, until the banner is on screen.
  s.mock.script({ kind: 'error', status, times: Number.POSITIVE_INFINITY });
  const sent = await s.submit(`please fail with ${status}`);
  const err = await s.mock.waitFor((e) => e.type === 'error-sent' && e.status === status, 60_000, sent);
  const banner = s.profile.screen.errorBanner(status);
  const shown = await s.screen.waitFor(
    (f) => banner.test(f.text) && !s.profile.screen.working(f.text, f.title),
    {
      since: err.at,
      timeoutMs: 90_000,
    },
  );
  s.mock.advance();
  if (options.retried) {
    // Every request between the first and the banner was a retry: the agent was working all along.
    const first = s.mock.events.find((e) => e.type === 'error-sent' && e.at >= sent)!;
    const tries = s.mock.events.filter(
      (e) => e.type === 'error-sent' && e.at >= sent && e.at <= shown.at,
    ).length;
    s.recorder.truth(first.at, 'processing', `retrying (${tries} attempts)`);
    s.recorder.never({
      step: `HTTP ${status}: while it retries (${tries} attempts)`,
      from: first.at + 300,
      to: shown.at - 300,
      expected: 'working (no false error or waiting)',
      reject: (st, a) => st.state === 'waiting_input' || a.activity === 'error' || a.activity === 'needs_you',
    });
  }
  s.recorder.truth(shown.at, status === 401 ? 'sign_in' : 'error', `screen: ${banner}`);
  if (status === 401) {
    await s.recorder.expect({
      step: 'HTTP 401 → key rejected',
      truthAt: shown.at,
      expected: 'sign_in (the agent’s auth error as prompt)',
      accept: (st, a) => a.activity === 'sign_in' && (st.auth_prompt ?? '').length > 0,
    });
  } else {
    await s.recorder.expect({
      step: `HTTP ${status} → error banner`,
      truthAt: shown.at,
      expected: 'error (banner as reason)',
      accept: (st, a) => a.activity === 'error' && a.live && banner.test(st.state_reason.detail),
    });
  }
  // The user types again: the agent is back at its prompt (not an error any more).
  await sleep(300);
  const typed = s.keys('x');
  s.recorder.truth(typed, 'waiting', 'user typed at the prompt');
  await s.recorder.expect({
    step: `HTTP ${status}: user types again`,
    truthAt: typed,
    expected: 'needs_you',
    accept: (st, a) => a.activity === 'needs_you' && !st.authentication_required,
  });
  s.keys('\x7f');
  await sleep(300);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'turns',
    async run(ctx) {
      return withSession(ctx, 'turns', {}, async (s) => {
        await readyAtStart(s);
        await answeredTurn(s, 'slow answer', 'tell me something slowly', {
          kind: 'text',
          text: 'This answer streams slowly, a few words at a time, for several seconds. '.repeat(3).trim(),
          durationMs: 5000,
        });
        await permissionTurn(s);
        await answeredTurn(s, 'long answer', 'give me a long list', {
          kind: 'text',
          text: longAnswer(120),
          durationMs: 1500,
        });
        wireChecks(s);
      });
    },
  },
  {
    name: 'errors',
    async run(ctx) {
      return withSession(ctx, 'errors', {}, async (s) => {
        await readyAtStart(s);
        for (const status of s.profile.errors.fast) await errorTurn(s, status);
        // And the agent still works after the errors.
        await answeredTurn(s, 'after the errors', 'are you back?', { kind: 'text', text: 'Back to normal.' });
      });
    },
  },
  {
    // Server errors the way users meet them: the CLI retries (gemini: 10 attempts with backoff, over a
    // minute per banner; claude: 2 retries here). AutoDev must say "working" through the retries and
    // "error" once the banner is the agent's last word.
    name: 'errors-with-retries',
    slow: true,
    clis: ['claude', 'gemini'],
    async run(ctx) {
      const env: Record<string, string> = ctx.profile.id === 'claude' ? { CLAUDE_CODE_MAX_RETRIES: '2' } : {};
      return withSession(ctx, 'errors-with-retries', { env }, async (s) => {
        await readyAtStart(s);
        for (const status of [500, 529]) await errorTurn(s, status, { retried: true });
        await answeredTurn(s, 'after the errors', 'are you back?', { kind: 'text', text: 'Back to normal.' });
      });
    },
  },
  {
    // Many short turns in a row: the latency distribution of "answer done", and no false waiting.
    name: 'many-turns',
    slow: true,
    async run(ctx) {
      return withSession(ctx, 'many-turns', {}, async (s) => {
        await readyAtStart(s);
        for (let i = 1; i <= 10; i++) {
          await answeredTurn(s, `turn ${i}`, `question number ${i}`, {
            kind: 'text',
            text: `Answer number ${i}: ${'words '.repeat(i * 4)}done.`,
            durationMs: i % 3 === 0 ? 2500 : 300,
          });
          await sleep(500);
        }
      });
    },
  },
  {
    name: 'trust',
    // codex 0.171 with a custom model provider asks no trust question (not even in a git repository).
    clis: ['claude', 'gemini'],
    async run(ctx) {
      return withSession(ctx, 'trust', { trusted: false, keyApproved: false }, async (s) => {
        const { screen, keys } = s.profile;
        const asked = await s.screen.waitFor((f) => screen.trust.test(f.text), { timeoutMs: 60_000 });
        s.recorder.truth(asked.at, 'trust', 'screen: trust question');
        await s.recorder.expect({
          step: 'trust question',
          truthAt: asked.at,
          expected: `needs_you (rule ${s.profile.provider}.trust-prompt)`,
          accept: (st, a) =>
            a.activity === 'needs_you' && st.state_reason.rule === `${s.profile.provider}.trust-prompt`,
        });
        await sleep(300);
        const accepted = await s.keySequence(keys.acceptTrust);
        if (keys.acceptKey.length > 0) {
          const keyQuestion = await s.screen.waitFor(
            (f) => /Do you want to use this API key\?/.test(f.text),
            {
              since: accepted,
            },
          );
          s.recorder.truth(keyQuestion.at, 'sign_in', 'screen: API key question');
          await s.recorder.expect({
            step: 'API key question',
            truthAt: keyQuestion.at,
            expected: 'sign_in (prompt: the question)',
            accept: (st, a) => a.activity === 'sign_in' && /use this API key/.test(st.auth_prompt ?? ''),
          });
          await sleep(300);
          await s.keySequence(keys.acceptKey);
        }
        const frame = await idleFrame(s, accepted, undefined, 60_000);
        s.recorder.truth(frame.at, 'waiting', 'idle prompt');
        await s.recorder.expect({
          step: 'after trust: idle prompt',
          truthAt: frame.at,
          expected: 'needs_you, no longer for the trust question',
          accept: (st, a) =>
            a.activity === 'needs_you' &&
            !st.authentication_required &&
            !/trust/.test(st.state_reason.rule ?? ''),
        });
      });
    },
  },
  {
    // AutoDev's own `command` path (the provider's submit strategy: bracketed paste, Enter, confirmed on
    // the screen): is the prompt really submitted? gemini 0.61 drops an Enter that follows a paste within
    // a few tens of ms (its paste guard), which left the text in its input box with the old 30 ms delay.
    name: 'command-submits',
    async run(ctx) {
      return withSession(ctx, 'command-submits', {}, async (s) => {
        await readyAtStart(s);
        s.mock.script({ kind: 'text', text: 'Submitted through the command path.' });
        const sent = s.command('hello through the command path');
        const request = await s.mock
          .waitFor((e) => e.type === 'request' && e.role === 'main', 8000, sent)
          .catch(() => null);
        s.recorder.results.push({
          cli: s.profile.id,
          scenario: 'command-submits',
          step: 'WS command → the turn happened',
          expected: 'model request within 8 s',
          actual: request
            ? `model request after ${request.at - sent} ms`
            : `no request; the input box shows: ${JSON.stringify(inputLine(s.screen.text))}`,
          latencyMs: request ? request.at - sent : null,
          ok: request !== null,
        });
        if (!request) return;
        const frame = await idleFrame(s, request.at, 'Submitted through the command path.');
        s.recorder.truth(frame.at, 'waiting', 'answer done');
        await s.recorder.expect({
          step: 'command turn: answer done',
          truthAt: frame.at,
          expected: 'needs_you',
          accept: needsYou,
        });
      });
    },
  },
  {
    // Claude without onboarding runs a first-run connectivity check against api.anthropic.com itself
    // (not ANTHROPIC_BASE_URL; skipped when a proxy is set). Offline, as here and in CI, it prints why
    // and exits 1. Where that host is reachable the check passes and there is no exit to judge: the
    // check is then recorded as pending, and test/core/state/exit-reason.test.ts replays the recorded
    // exit screen through a real session either way.
    name: 'exit-reason',
    clis: ['claude'],
    async run(ctx) {
      return withSession(ctx, 'exit-reason', { onboarded: false }, async (s) => {
        // The check times out after 10 s per host (claude's own constant); offline DNS fails at once.
        const shown = await s.screen
          .waitFor((f) => /Unable to connect to Anthropic services/.test(f.text), { timeoutMs: 30_000 })
          .catch(() => null);
        if (!shown) {
          s.recorder.results.push({
            cli: s.profile.id,
            scenario: 'exit-reason',
            step: 'exit 1 after the first-run check',
            expected: 'an offline machine',
            actual: 'no "Unable to connect" within 30 s: api.anthropic.com answered, onboarding went on',
            latencyMs: null,
            ok: false,
            pending: 'needs a machine without access to api.anthropic.com',
          });
          return;
        }
        s.recorder.truth(shown.at, 'exited', 'screen: Unable to connect… (then exit 1)');
        await s.recorder.expect({
          step: 'exit 1 after the first-run check',
          truthAt: shown.at,
          expected: 'error, ended; reason quotes "Unable to connect to Anthropic services"',
          accept: (st, a) =>
            a.activity === 'error' &&
            !a.live &&
            st.exit_code === 1 &&
            /Unable to connect to Anthropic services/.test(st.state_reason.detail),
        });
      });
    },
  },
  {
    name: 'sign-in',
    async run(ctx) {
      return withSession(ctx, 'sign-in', { configured: false }, async (s) => {
        const shown = await s.screen.waitFor((f) => s.profile.screen.signIn.test(f.text), {
          timeoutMs: 60_000,
        });
        s.recorder.truth(shown.at, 'sign_in', 'screen: sign-in');
        await s.recorder.expect({
          step: 'sign-in screen',
          truthAt: shown.at,
          expected: 'sign_in (with the prompt)',
          accept: (st, a) => a.activity === 'sign_in' && (st.auth_prompt ?? '').length > 0,
        });
      });
    },
  },
];
