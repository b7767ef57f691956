// The real agent CLIs (claude, codex, gemini at the versions pinned in test/realcli/pinned-clis.json)
// driven through `autodev serve` against the mock model service: every scenario, the slow ones too
// (retried server errors, many turns), judged against the ground truth. Prints each CLI's table and
// timelines of failed checks, then a score per CLI: checks right, and the latency from the screen
// change to AutoDev's matching state (p50, max). Pending checks (gaps another change closes) are counted
// apart. Last line: key=value pairs for bench/run.mjs.
//   npm run bench realcli            all CLIs
//   REALCLI=claude npm run bench realcli   one CLI
import type { CliId } from '../test/realcli/profiles.ts';
import { type CheckResult, formatTable } from '../test/realcli/recorder.ts';
import { runScenarios, scenariosFor, startServeWithClis } from '../test/realcli/run.ts';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const clis = (process.env['REALCLI']?.split(',') ?? ['claude', 'codex', 'gemini']) as CliId[];
const figures: Record<string, string | number> = {};
const { serve, versions } = await startServeWithClis();
try {
  for (const cli of clis) {
    const started = Date.now();
    const timelines: string[] = [];
    const results: CheckResult[] = await runScenarios(serve, cli, scenariosFor(cli, { slow: true }), (t) =>
      timelines.push(t),
    );
    const judged = results.filter((r) => !r.pending);
    const right = judged.filter((r) => r.ok).length;
    const latencies = judged
      .map((r) => r.latencyMs)
      .filter((l): l is number => l !== null)
      .sort((a, b) => a - b);
    console.log(
      `\n${cli} ${versions[cli]}: ${right}/${judged.length} checks right in ${Math.round((Date.now() - started) / 1000)} s`,
    );
    console.log(formatTable(results));
    for (const r of results.filter((x) => !x.ok && !x.pending)) {
      const timeline = timelines.find((t) => t.startsWith(`── ${cli} ${r.scenario}\n`));
      console.log(`\nFAILED ${cli} ${r.scenario} / ${r.step}: ${r.actual}\n${timeline ?? ''}`);
    }
    figures[`realcli_${cli}_version`] = versions[cli];
    figures[`realcli_${cli}_right`] = `${right}/${judged.length}`;
    figures[`realcli_${cli}_pending`] = results.length - judged.length;
    figures[`realcli_${cli}_latency_p50_ms`] = percentile(latencies, 50);
    figures[`realcli_${cli}_latency_max_ms`] = latencies[latencies.length - 1] ?? 0;
  }
} finally {
  await serve.stop();
}
console.log(
  Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
