import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AutodevServe } from './autodev-serve.ts';
import type { CliId } from './profiles.ts';
import { type CheckResult, formatTable } from './recorder.ts';
import { runScenarios, scenariosFor, startServeWithClis } from './run.ts';

/**
 * The fast real-CLI scenarios of one agent CLI as `node:test` tests: one `autodev serve` for the file,
 * one test per scenario, each printing its table (scenario, expected, AutoDev's state, latency) and,
 * when a check fails, the ground-truth timeline next to AutoDev's states.
 *
 * AUTODEV_SKIP_REAL_CLIS=1 skips them with a message (a machine without the npm registry); otherwise the
 * pinned CLIs are installed on first use (scripts/test.mjs does it before the run).
 */
export function defineCliSuite(cli: CliId): void {
  if (process.env['AUTODEV_SKIP_REAL_CLIS'] === '1') {
    test(`${cli}: real-CLI scenarios`, {
      skip: 'AUTODEV_SKIP_REAL_CLIS=1: the real agent CLIs are not run',
    }, () => {});
    return;
  }
  let serve: AutodevServe;
  let version = '';
  before(async () => {
    const started = await startServeWithClis();
    serve = started.serve;
    version = started.versions[cli];
  });
  after(async () => {
    await serve?.stop();
  });
  for (const scenario of scenariosFor(cli, { slow: false })) {
    test(`${cli}: ${scenario.name} (real CLI through autodev serve)`, async (t) => {
      t.diagnostic(`${cli} ${version}`);
      const timelines: string[] = [];
      const results = await runScenarios(serve, cli, [scenario], (text) => timelines.push(text));
      for (const line of formatTable(results).split('\n')) t.diagnostic(line);
      const failed = results.filter((r: CheckResult) => !r.ok && !r.pending);
      assert.deepEqual(
        failed.map(
          (r) =>
            `${r.step}: expected ${r.expected}, AutoDev said ${r.actual} (latency ${r.latencyMs ?? '—'} ms)`,
        ),
        [],
        `\n${timelines.join('\n')}`,
      );
      assert.ok(results.length > 0, 'the scenario judged something');
    });
  }
}
