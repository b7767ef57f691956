// Task runner figures: parser throughput, end-to-end tasks/s and queue wait through the embedded
// (SQLite) queue and the Redis queue, with a trivial one-shot "agent" (printf) so the numbers show
// AutoDev's own overhead. Last line: key=value pairs for bench/run.mjs.
import { getOutputFormat } from '../src-main/core/tasks/output-formats.ts';
import { OneShotOutputParser } from '../src-main/core/tasks/output-parser.ts';
import { nearestRank } from '../src-main/core/tasks/task-metrics.ts';
import { createTaskService } from '../src-main/core/tasks/task-service.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { fakeProvider, fakeRegistry, openTaskDb, tempEnv } from '../test/tasks/helpers.ts';

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

async function pipeline(label: string, count: number, redisUrl?: string): Promise<void> {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const svc = createTaskService({
    db: opened.db,
    providers: fakeRegistry([printf]),
    workerId: `bench-${label}`,
    limits: { global_concurrency: 4, per_user_per_hour: 1_000_000 },
    ...(redisUrl ? { redis: { url: redisUrl, poll_ms: 20 } } : {}),
  });
  const t0 = performance.now();
  const { tasks } = await svc.submit(
    Array.from({ length: count }, (_, i) => ({ cli_tool: 'printf', prompt: `p${i}` })),
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
  await pipeline('redis', 200, redis.url);
} finally {
  await redis.close();
}
console.log(
  Object.entries(figures)
    .map(([k, v]) => `tasks_${k}=${v}`)
    .join(' '),
);
