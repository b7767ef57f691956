/**
 * The real-agent-CLI harness, for tests that drive claude, codex or gemini for real.
 *
 *   const { serve, versions } = await startServeWithClis();       // autodev serve + pinned CLIs
 *   const mock = await startMockModelServer();                     // the model service, on loopback
 *   const s = await CliSession.start({ serve, profile: PROFILES.claude, mock, scenario: 'mine' });
 *   mock.script({ kind: 'text', text: 'Hello', durationMs: 3000 });
 *   const sent = await s.submit('hi');                              // AutoDev's command path
 *   const end = await mock.waitFor((e) => e.type === 'stream-end', 30_000, sent);
 *   const frame = await s.screen.waitFor((f) => f.text.includes('Hello'), { since: end.at });
 *   s.recorder.truth(frame.at, 'waiting');
 *   await s.recorder.expect({ step: 'done', truthAt: frame.at, expected: 'needs_you',
 *     accept: (_info, a) => a.activity === 'needs_you' });
 *   await s.close(); await mock.close(); await serve.stop();
 *
 * - profiles.ts: per CLI, the HOME config that points it at the mock, its env, the keys that answer its
 *   questions, and its screen markers (ground truth, independent of AutoDev's rules).
 * - cli-session.ts: one session through REST + the session socket (the test's own screen, raw output
 *   for recordings) + the events socket (AutoDev's states, time-stamped on arrival).
 * - recorder.ts: truth marks next to AutoDev's states; `expect` (state and latency) and `never`.
 * - scenarios.ts: the scenarios `npm test` and `npm run bench` run (SCENARIOS, fast and slow).
 * - ../mock-model/: the mock model service (Anthropic Messages, OpenAI Responses, Gemini).
 * By hand: `node test/realcli/run.ts <cli> [scenario…]` prints the timelines and the table;
 * AUTODEV_RECORD_SCREENS=dir saves the real screen at each truth mark as a replayable .ans file.
 */

export { longAnswer, type MockEvent, type Turn } from '../mock-model/script.ts';
export { startMockModelServer } from '../mock-model/server.ts';
export { type AutodevServe, startAutodevServe } from './autodev-serve.ts';
export { CliSession, sleep } from './cli-session.ts';
export { type CliId, type CliProfile, PROFILES } from './profiles.ts';
export { type CheckResult, formatTable, Recorder } from './recorder.ts';
export { runScenarios, scenariosFor, startServeWithClis } from './run.ts';
export { SCENARIOS, type Scenario } from './scenarios.ts';
export { ScreenMirror } from './screen-mirror.ts';
