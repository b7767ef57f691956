import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { recentRecoveryReports, runRecovery } from '../../src-main/core/recovery/recovery.ts';
import { bootId, readStat } from '../../src-main/core/sessions/process-tree.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { fakeSession, schemaDir, tempDir } from '../store/helpers.ts';

function alive(pid: number): boolean {
  const s = readStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Kill what a test started, by pid, only while its start time still matches. */
function cleanupPids(t: { after(fn: () => void): void }, pids: { pid: number; start: number }[]) {
  t.after(() => {
    for (const p of pids) {
      if (readStat(p.pid)?.start_ticks === p.start) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {}
      }
    }
  });
}

function setup(t: { after(fn: () => void): void }) {
  const dir = tempDir(t, 'autodev-recovery-');
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'r.db') });
  t.after(() => opened.close());
  const store = createSessionStore(opened.db);
  return { dir, db: opened.db, store, history: createHistory(opened.db) };
}

test('sessions live at the crash become terminated/interrupted with exit unknown; ended ones are untouched', async (t) => {
  const { db, store, history } = setup(t);
  const live = fakeSession({ state: 'running' });
  const waiting = fakeSession({
    state: 'waiting_input',
    authentication_required: true,
    auth_prompt: 'log in',
  });
  const done = fakeSession({ state: 'completed', exit_code: 0, ended_at: new Date().toISOString() });
  for (const s of [live, waiting, done]) store.upsertSession(s);

  const report = await runRecovery({ db, instanceId: store.instanceId });
  assert.equal(report.sessions_interrupted, 2);
  assert.deepEqual(report.interrupted_session_ids.sort(), [live.session_id, waiting.session_id].sort());
  for (const s of [live, waiting]) {
    const after = history.getSession(s.session_id)!;
    assert.equal(after.state, 'terminated');
    assert.equal(after.state_reason.source, 'recovery');
    assert.equal(after.state_reason.rule, 'interrupted');
    assert.match(after.state_reason.detail, /interrupted/);
    assert.equal(after.exit_code, null);
    assert.equal(after.exit_signal, null);
    assert.ok(after.ended_at);
    assert.equal(after.authentication_required, false);
    assert.equal(history.stateHistory(s.session_id).at(-1)?.to, 'terminated');
  }
  assert.equal(history.getSession(done.session_id)?.state, 'completed');
  assert.equal(history.getSession(done.session_id)?.exit_code, 0);
  // Stored for diagnostics; a second run finds nothing left to do.
  const again = await runRecovery({ db });
  assert.equal(again.sessions_interrupted, 0);
  const stored = recentRecoveryReports(db);
  assert.equal(stored.length, 2);
  assert.equal(stored[1]?.sessions_interrupted, 2);
  assert.ok(report.duration_ms >= 0);
});

test('a real orphaned process tree from the ledger is killed; a recycled PID and an old boot are spared', async (t) => {
  const { dir, db, store } = setup(t);
  const s = fakeSession({ state: 'running' });
  store.upsertSession(s);

  // An orphaned tree as a crashed app leaves it: a setsid shell (re-parented to init) with children.
  const pidFile = path.join(dir, 'tree.pid');
  spawnSync('sh', [
    '-c',
    `setsid sh -c 'sleep 1000 & sleep 1001 & echo $$ > "${pidFile}"; wait' >/dev/null 2>&1 </dev/null &`,
  ]);
  await waitFor(() => {
    try {
      return readFileSync(pidFile, 'utf8').trim().length > 0;
    } catch {
      return false;
    }
  }, 'the tree to start');
  const root = Number(readFileSync(pidFile, 'utf8').trim());
  const rootStat = readStat(root)!;
  let children: number[] = [];
  await waitFor(() => {
    children = (spawnSync('pgrep', ['-s', String(root)], { encoding: 'utf8' }).stdout ?? '')
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((p) => p !== root);
    return children.length === 2;
  }, 'both children');
  const tracked = [root, ...children].map((pid) => ({ pid, start: readStat(pid)!.start_ticks }));
  cleanupPids(t, tracked);

  // An unrelated process holding a PID the ledger recorded with another start time (PID reuse).
  const bystander = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  bystander.unref();
  const bystanderStat = readStat(bystander.pid!)!;
  cleanupPids(t, [{ pid: bystander.pid!, start: bystanderStat.start_ticks }]);

  const at = new Date().toISOString();
  store.recordSpawn({
    session_id: s.session_id,
    pid: root,
    pgid: rootStat.pgid,
    start_ticks: rootStat.start_ticks,
    boot_id: bootId(),
    at,
  });
  store.recordSpawn({
    session_id: s.session_id,
    pid: bystander.pid!,
    pgid: bystander.pid!,
    start_ticks: bystanderStat.start_ticks - 1,
    boot_id: bootId(),
    at,
  });
  store.recordSpawn({
    session_id: s.session_id,
    pid: bystander.pid!,
    pgid: bystander.pid!,
    start_ticks: bystanderStat.start_ticks,
    boot_id: 'a-previous-boot',
    at,
  });

  const report = await runRecovery({ db });
  assert.equal(report.processes.ledger_entries, 3);
  assert.equal(report.processes.previous_boot, 1);
  assert.ok(report.processes.killed >= 3, `killed ${report.processes.killed}`);
  for (const p of tracked) await waitFor(() => !alive(p.pid), `pid ${p.pid} to die`);
  assert.ok(alive(bystander.pid!), 'the process that reused a recorded PID is spared');
  const open = db.prepare('SELECT count(*) AS n FROM process_ledger WHERE released_at IS NULL').get() as {
    n: number;
  };
  assert.equal(open.n, 0, 'every ledger row is released');
  assert.equal(report.sessions_interrupted, 1);
});

test('recoverers are pluggable; one failing does not stop the others; Redis is cross-checked', async (t) => {
  const { db, store } = setup(t);
  const live = fakeSession({ state: 'processing' });
  store.upsertSession(live);
  const seen: string[] = [];
  const report = await runRecovery({
    db,
    recoverers: [
      {
        name: 'broken',
        run() {
          throw new Error('boom');
        },
      },
      {
        name: 'tasks',
        run(d) {
          seen.push(String((d.prepare('SELECT count(*) AS n FROM cli_sessions').get() as { n: number }).n));
          return { requeued: 2, failed: 1 };
        },
      },
    ],
    redis: {
      async reconcile(truth) {
        assert.equal(
          truth(live.session_id)?.state,
          'terminated',
          'sessions are settled before Redis is checked',
        );
        assert.equal(truth('unknown'), undefined);
        return { checked: 3, repaired: 1, orphans_removed: 2 };
      },
    },
  });
  assert.deepEqual(report.recoverers.tasks, { requeued: 2, failed: 1 });
  assert.match((report.recoverers.broken as { error: string }).error, /boom/);
  assert.equal(seen.length, 1);
  assert.deepEqual(
    { checked: report.redis.checked, repaired: report.redis.repaired, orphans: report.redis.orphans_removed },
    { checked: 3, repaired: 1, orphans: 2 },
  );
  assert.equal(report.errors.length, 1);
});
