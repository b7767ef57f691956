import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AutodevServe, startAutodevServe } from './autodev-serve.ts';
// @ts-expect-error plain ESM helper shared with scripts/test.mjs (no type declarations)
import { ensureAgentClis } from './install-clis.mjs';
import { type CliId, PROFILES } from './profiles.ts';
import { type CheckResult, formatTable } from './recorder.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';

/**
 * `autodev serve` with the pinned agent CLIs as its providers' binaries. One server serves every
 * session of a test file (each session has its own HOME and mock model service).
 */
export async function startServeWithClis(): Promise<{
  serve: AutodevServe;
  versions: Record<CliId, string>;
}> {
  const { versions } = ensureAgentClis({ log: () => {} }) as { versions: Record<CliId, string> };
  const providers = Object.fromEntries(
    Object.values(PROFILES).map((p) => [p.provider, { binary: p.binary }]),
  );
  const serve = await startAutodevServe({ providers });
  return { serve, versions };
}

export function scenariosFor(cli: CliId, options: { slow: boolean }): Scenario[] {
  return SCENARIOS.filter((s) => (s.clis ?? [cli]).includes(cli) && (options.slow || !s.slow));
}

/** Run scenarios one after another on one server; a scenario that throws becomes a failed check. */
export async function runScenarios(
  serve: AutodevServe,
  cli: CliId,
  scenarios: readonly Scenario[],
  log: (text: string) => void = () => {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const scenario of scenarios) {
    try {
      results.push(...(await scenario.run({ serve, profile: PROFILES[cli], log })));
    } catch (error) {
      results.push({
        cli,
        scenario: scenario.name,
        step: 'scenario ran',
        expected: 'the CLI did what the scenario needs',
        actual: (error as Error).message.split('\n').slice(0, 12).join('\n'),
        latencyMs: null,
        ok: false,
      });
    }
  }
  return results;
}

// By hand: node test/realcli/run.ts <cli> [scenario...]   (prints timelines and the table)
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cli, ...names] = process.argv.slice(2) as [CliId, ...string[]];
  if (!PROFILES[cli]) {
    console.error(`usage: node test/realcli/run.ts <${Object.keys(PROFILES).join('|')}> [scenario...]`);
    process.exit(2);
  }
  const { serve, versions } = await startServeWithClis();
  console.log(`${cli} ${versions[cli]} via ${serve.url}`);
  try {
    const chosen = scenariosFor(cli, { slow: true }).filter(
      (s) => names.length === 0 || names.includes(s.name),
    );
    const results = await runScenarios(serve, cli, chosen, (t) => console.log(t));
    console.log(formatTable(results));
  } finally {
    await serve.stop();
  }
}
