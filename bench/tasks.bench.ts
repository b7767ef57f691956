// Task runner figures: parser throughput, end-to-end tasks/s and queue wait through the embedded
// (SQLite) queue and the Redis queue, with a trivial one-shot "agent" (printf) so the numbers show
// AutoDev's own overhead; and the same through the API fallback (claude without its CLI) against a
// loopback mock Messages API that answers at once, with its ratio to the CLI path of this run.
// Last line: key=value pairs for bench/run.mjs.
import path from 'node:path';
import { defaultProviders } from '../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../src-main/core/providers/types.ts';
import { getOutputFormat } from '../src-main/core/tasks/output-formats.ts';
import { OneShotOutputParser } from '../src-main/core/tasks/output-parser.ts';
import { nearestRank } from '../src-main/core/tasks/task-metrics.ts';
import { createTaskService } from '../src-main/core/tasks/task-service.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { fakeProvider, fakeRegistry, openTaskDb, tempEnv } from '../test/tasks/helpers.ts';
import { startMockMessagesApi } from '../test/tasks/mock-messages-api.ts';

const figures: Record<string, string | number> = {};

// 1. Parser: claude stream-json lines, fed in 64 KiB chunks.
{
  const line = `${JSON.stringify({
    type: 'assistant',
    message: { content: [{ type: 'text', text: 'x'.repeat(200) }] },
  })}\n`;
  const n = 200_000;
  const text = line.repeat(n);
  const parser = new OneShotOutputParser(getOutputFormat('claude-stream-json')!);
  const t0 = performance.now();
  for (let i = 0; i < text.length; i += 65_536) parser.push(text.slice(i, i + 65_536));
  parser.end();
  const s = (performance.now() - t0) / 1000;
  figures.parser_lines_per_s = Math.round(n / s);
  figures.parser_mib_per_s = Math.round(text.length / 1024 / 1024 / s);
  console.log(`parser: ${figures.parser_lines_per_s} lines/s (${figures.parser_mib_per_s} MiB/s)`);
}

const printf = fakeProvider('printf', {
  binary: '/usr/bin/printf',
  one_shot: {
    args: [
      '%s\\n',
      JSON.stringify({ type: 'result', result: 'ok', usage: { input_tokens: 1, output_tokens: 1 } }),
    ],
    prompt: { via: 'arg' },
    output: 'stream-json',
    full_access_args: [],
  },
});

async function pipeline(
  label: string,
  count: number,
  o: { redisUrl?: string; provider?: ProviderDefinition; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const provider = o.provider ?? printf;
  const svc = createTaskService({
    db: opened.db,
    providers: fakeRegistry([provider]),
    workerId: `bench-${label}`,
    limits: { global_concurrency: 4, per_user_per_hour: 1_000_000 },
    ...(o.redisUrl ? { redis: { url: o.redisUrl, poll_ms: 20 } } : {}),
    ...(o.env ? { env: o.env } : {}),
  });
  const t0 = performance.now();
  const { tasks } = await svc.submit(
    Array.from({ length: count }, (_, i) => ({ cli_tool: provider.id, prompt: `p${i}` })),
  );
  const finals = await Promise.all(tasks.map((t) => svc.waitForFinal(t.task_id, 300_000)));
  const s = (performance.now() - t0) / 1000;
  const passed = finals.filter((f) => f.state === 'passed').length;
  const waits = (
    opened.db.prepare('SELECT duration_ms AS d FROM task_metrics ORDER BY duration_ms').all() as {
      d: number;
    }[]
  ).map((r) => r.d);
  figures[`${label}_tasks_per_s`] = Math.round((count / s) * 10) / 10;
  figures[`${label}_run_p50_ms`] = nearestRank(waits, 50) ?? -1;
  figures[`${label}_run_p95_ms`] = nearestRank(waits, 95) ?? -1;
  console.log(
    `${label}: ${count} tasks in ${s.toFixed(2)} s (${figures[`${label}_tasks_per_s`]}/s), passed ${passed}, ` +
      `attempt run time p50 ${figures[`${label}_run_p50_ms`]} ms p95 ${figures[`${label}_run_p95_ms`]} ms`,
  );
  await svc.shutdown({ requeue: false });
  opened.close();
  env.cleanup();
}

await pipeline('sqlite', 200);
const redis = await startRedisServer();
try {
  await pipeline('redis', 200, { redisUrl: redis.url });
} finally {
  await redis.close();
}
const mock = await startMockMessagesApi([
  {
    kind: 'stream',
    chunks: ['ok'],
    usage: { input: 1, output: 1, cache_read: 0, cache_write: 0 },
    delayMs: 0,
  },
]);
try {
  const claude = defaultProviders().find((p) => p.id === 'claude')!;
  await pipeline('api', 200, {
    provider: { ...claude, binary: path.join('/nonexistent', 'claude') },
    env: { ...process.env, ANTHROPIC_API_KEY: 'sk-ant-bench-key-0000000000', ANTHROPIC_BASE_URL: mock.url },
  });
} finally {
  await mock.close();
}
figures.api_vs_cli_tasks_per_s =
  Math.round((Number(figures.api_tasks_per_s) / Number(figures.sqlite_tasks_per_s)) * 100) / 100;
console.log(
  `api fallback vs CLI (printf) through the same SQLite queue: ${figures.api_vs_cli_tasks_per_s}x tasks/s`,
);
console.log(
  Object.entries(figures)
    .map(([k, v]) => `tasks_${k}=${v}`)
    .join(' '),
);
