// A task worker process for the Redis tests: its own SQLite file, the shared queue, the fake agent.
// argv: <redis url> <db path> <worker id> <agent log> <lease ms> <concurrency>
// Prints "ready" once connected; SIGTERM shuts it down (running tasks handed back to the queue).
import { createTaskService } from '../../src-main/core/tasks/task-service.ts';
import { fakeProvider, fakeRegistry, openTaskDb } from './helpers.ts';

const [url, dbPath, workerId, log, leaseMs, concurrency] = process.argv.slice(2);
const opened = openTaskDb(dbPath!);
const service = createTaskService({
  db: opened.db,
  providers: fakeRegistry([fakeProvider('fake')]),
  workerId: workerId!,
  redis: { url: url!, lease_ms: Number(leaseMs), poll_ms: 50, reap_ms: 200 },
  limits: { global_concurrency: Number(concurrency), per_user_per_hour: 100_000 },
  env: { ...process.env, FAKE_AGENT_LOG: log! },
  killGraceMs: 500,
});
process.on('SIGTERM', () => {
  void service.shutdown({ requeue: true }).then(() => {
    opened.close();
    process.exit(0);
  });
});
// Claims happen on the poll: announce readiness once the queue answered a list call.
const deadline = Date.now() + 20_000;
for (;;) {
  try {
    await service.list({ limit: 1 });
    break;
  } catch (error) {
    if (Date.now() > deadline) throw error;
    await new Promise((r) => setTimeout(r, 100));
  }
}
process.stdout.write('ready\n');
