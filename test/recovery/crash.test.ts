import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { runRecovery } from '../../src-main/core/recovery/recovery.ts';
import { readStat } from '../../src-main/core/sessions/process-tree.ts';
import { applyPragmas } from '../../src-main/core/store/database.ts';
import { Ingester } from '../../src-main/core/store/ingester.ts';
import { openSearchIndex, SearchIndexer, searchIndexPath } from '../../src-main/core/store/search-index.ts';
import { spoolDirFor } from '../../src-main/core/store/spool-format.ts';
import { schemaDir, tempDir } from '../store/helpers.ts';

/**
 * kill -9 of the app at random moments (field notes §5.1, §7.24/27): the real session manager and
 * persistence run in a child process with a fake agent that streams output and receives commands;
 * the child acks a command only after the journal returned. After each kill: integrity_check ok,
 * foreign_key_check empty, every acked command stored, every committed output batch stored with no
 * hole before it, and recovery marks the session interrupted and kills the agent tree it left behind.
 * Iterations alternate the persistence modes: off-thread (the core's: the spool stored and indexed by a
 * worker thread) and in-process. After each kill the search index (its own file) may trail the stored
 * rows: its structure must be intact, and once the indexer caught up it must match exactly.
 *
 * What a kill -9 may lose: output the live path had not written to the spool yet (the spool is written
 * every flushMs, 20 ms by default; 100 ms here) and what the stream redactor holds (released after
 * 250 ms of quiet). Spooled output is not lost: SQLite may trail it, and the next start stores it
 * (checked here by running the next start's ingester). Committed output (onDidCommitOutput) is never
 * lost. The figures of each run are in the test's diagnostics.
 * CRASH_ITERATIONS overrides the count (the soak: bench/crash-soak.bench.ts runs more).
 */
const ITERATIONS = Number(process.env.CRASH_ITERATIONS ?? 30);
const FLUSH_MS = 100;
const here = path.dirname(fileURLToPath(import.meta.url));

function alive(pid: number, start?: number): boolean {
  const s = readStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X' && (start === undefined || s.start_ticks === start);
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Run {
  child: ChildProcess;
  ready: { session_id: string; agent: number; grandchild: number } | null;
  acked: string[];
  committed: number;
  seen: number;
  /** [seq, when the parent heard of it] from the child's SEEN lines (every 20 ms). */
  seenAt: [number, number][];
  exited: Promise<void>;
  stderr: string;
}

function startChild(dbPath: string, mode: 'offthread' | 'inline'): Run {
  const child = spawn(
    process.execPath,
    [path.join(here, 'fixtures', 'crash-child.ts'), dbPath, schemaDir, String(FLUSH_MS), mode],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const run: Run = {
    child,
    ready: null,
    acked: [],
    committed: 0,
    seen: 0,
    seenAt: [],
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  child.stderr!.on('data', (d) => {
    run.stderr = (run.stderr + d).slice(-4000);
  });
  child.stdin!.on('error', () => {}); // EPIPE after the kill
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const [kind, ...rest] = line.split(' ');
    if (kind === 'READY')
      run.ready = { session_id: rest[0]!, agent: Number(rest[1]), grandchild: Number(rest[2]) };
    else if (kind === 'ACK') run.acked.push(rest.join(' '));
    else if (kind === 'COMMIT') run.committed = Math.max(run.committed, Number(rest[0]));
    else if (kind === 'SEEN') {
      run.seen = Math.max(run.seen, Number(rest[0]));
      run.seenAt.push([Number(rest[0]), Date.now()]);
    }
  });
  return run;
}

test(`kill -9 at random points (${ITERATIONS}×): integrity, acked commands, committed output, recovery`, async (t) => {
  const dir = tempDir(t, 'autodev-crash-');
  const dbPath = path.join(dir, 'crash.db');
  const leftovers: { pid: number; start: number }[] = [];
  let current: Run | null = null;
  t.after(async () => {
    if (current && current.child.exitCode === null) current.child.kill('SIGKILL');
    for (const p of leftovers) {
      if (alive(p.pid, p.start)) process.kill(p.pid, 'SIGKILL');
    }
  });

  const figures = {
    acked: 0,
    killedTrees: 0,
    lostChunks: [] as number[],
    lostMsOffThread: [] as number[],
    lostMsInline: [] as number[],
    lostMs: [] as number[],
    fromSpool: [] as number[],
    sessions: 0,
  };
  for (let i = 0; i < ITERATIONS; i++) {
    const mode = i % 2 === 0 ? 'offthread' : 'inline';
    const run = startChild(dbPath, mode);
    current = run;
    await waitFor(() => run.ready !== null || run.child.exitCode !== null, 'the child to be ready');
    assert.ok(run.ready, `child failed: ${run.stderr}`);
    const { agent, grandchild, session_id } = run.ready;
    for (const pid of [agent, grandchild]) {
      const s = readStat(pid);
      if (s) leftovers.push({ pid, start: s.start_ticks });
    }

    // Commands at random intervals while output streams; kill -9 after a random 20–700 ms.
    const killAt = Date.now() + 20 + Math.random() * 680;
    let n = 0;
    while (Date.now() < killAt) {
      run.child.stdin!.write(`CMD cmd-${i}-${n++} ${'p'.repeat(Math.floor(Math.random() * 200))}\n`);
      await new Promise((r) => setTimeout(r, Math.random() * 15));
    }
    run.child.kill('SIGKILL');
    const killedAt = Date.now();
    await run.exited;

    // 1. The file is intact.
    const db = new BetterSqlite3(dbPath);
    try {
      applyPragmas(db);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `iteration ${i}`);
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      db.prepare("INSERT INTO command_fts(command_fts) VALUES ('integrity-check')").run();
      // The search index (its own file, derived data): intact, and once caught up it has every row.
      const search = openSearchIndex(searchIndexPath(dbPath), db);
      try {
        search.prepare("INSERT INTO output_fts(output_fts) VALUES ('integrity-check')").run();
      } finally {
        search.close();
      }
      db.prepare("INSERT INTO command_fts(command_fts, rank) VALUES ('integrity-check', 1)").run();

      // 2. Every acknowledged command is there.
      const stored = new Set(
        (
          db.prepare('SELECT text FROM cli_session_commands WHERE session_id = ?').all(session_id) as {
            text: string;
          }[]
        ).map((r) => r.text),
      );
      for (const text of run.acked) assert.ok(stored.has(text), `acked command lost: ${text.slice(0, 40)}`);
      figures.acked += run.acked.length;

      // 3. Output: every committed batch is there, contiguous from seq 1 (only the unflushed tail is lost).
      const rows = db
        .prepare('SELECT seq_start, seq_end, gap FROM session_output WHERE session_id = ? ORDER BY seq_start')
        .all(session_id) as { seq_start: number; seq_end: number; gap: number }[];
      let last = rows.at(-1)?.seq_end ?? 0;
      assert.ok(last >= run.committed, `committed through ${run.committed}, stored through ${last}`);
      // The next start stores what the killed process spooled but had not stored yet (the spool is in
      // the OS's page cache: a kill -9 keeps it): still contiguous, and only the unspooled tail is lost.
      const ingester = new Ingester({ db, spoolDir: spoolDirFor(dbPath), run: 'none' });
      let guard = 0;
      while (ingester.ready && guard++ < 100_000) ingester.step();
      ingester.close();
      const afterSpool = db
        .prepare('SELECT seq_start, seq_end, gap FROM session_output WHERE session_id = ? ORDER BY seq_start')
        .all(session_id) as { seq_start: number; seq_end: number; gap: number }[];
      for (let r = 1; r < afterSpool.length; r++)
        assert.equal(afterSpool[r]!.seq_start, afterSpool[r - 1]!.seq_end + 1);
      assert.ok((afterSpool.at(-1)?.seq_end ?? 0) >= last);
      figures.fromSpool.push((afterSpool.at(-1)?.seq_end ?? 0) - last);
      rows.splice(0, rows.length, ...afterSpool);
      last = rows.at(-1)?.seq_end ?? 0;
      const index = openSearchIndex(searchIndexPath(dbPath), db);
      const indexer = new SearchIndexer(db, index);
      while (indexer.indexSlice().more) {}
      index.prepare("INSERT INTO output_fts(output_fts, rank) VALUES ('integrity-check', 1)").run();
      assert.deepEqual(
        index.prepare('SELECT id FROM output_fts_docsize ORDER BY id').pluck().all(),
        db.prepare('SELECT id FROM session_output ORDER BY id').pluck().all(),
        'the caught-up index has exactly the stored rows',
      );
      index.close();
      if (rows.length > 0) assert.equal(rows[0]!.seq_start, 1);
      for (let r = 1; r < rows.length; r++) assert.equal(rows[r]!.seq_start, rows[r - 1]!.seq_end + 1);
      assert.ok(rows.every((r) => r.gap === 0));
      figures.lostChunks.push(Math.max(0, run.seen - last));
      // How old the oldest lost output was at the kill (±20 ms: the SEEN reporting period).
      const firstLost = run.seenAt.find(([seq]) => seq > last);
      figures.lostMs.push(firstLost ? killedAt - firstLost[1] : 0);
      (mode === 'offthread' ? figures.lostMsOffThread : figures.lostMsInline).push(
        firstLost ? killedAt - firstLost[1] : 0,
      );
      const leaked = db
        .prepare("SELECT count(*) AS n FROM session_output WHERE data LIKE '%ghp_AAAA%'")
        .get() as { n: number };
      assert.equal(leaked.n, 0, 'secrets are redacted before storage');

      // 4. Recovery: the session is interrupted, the agent tree it left is killed.
      const agentStat = readStat(agent);
      const report = await runRecovery({ db });
      assert.ok(report.errors.length === 0, report.errors.join('; '));
      const row = db
        .prepare('SELECT state, state_reason, exit_code FROM cli_sessions WHERE session_id = ?')
        .get(session_id) as { state: string; state_reason: string; exit_code: number | null };
      assert.equal(row.state, 'terminated');
      assert.equal(JSON.parse(row.state_reason).rule, 'interrupted');
      assert.equal(row.exit_code, null);
      if (agentStat) {
        await waitFor(() => !alive(agent, agentStat.start_ticks), `agent ${agent} to be killed by recovery`);
        figures.killedTrees++;
      }
      await waitFor(() => !alive(grandchild), `grandchild ${grandchild} to be killed`);
      figures.sessions++;
    } finally {
      db.close();
    }
  }
  const sorted = [...figures.lostChunks].sort((a, b) => a - b);
  const ms = [...figures.lostMs].sort((a, b) => a - b);
  t.diagnostic(
    `iterations ${ITERATIONS}, acked commands ${figures.acked} (all present), leftover agent trees killed ` +
      `${figures.killedTrees}, unflushed tail lost (chunks seen but not stored): median ${sorted[Math.floor(sorted.length / 2)]}, ` +
      `max ${sorted.at(-1)}; age of the oldest lost output at the kill: median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms.at(-1)} ms (flushMs ${FLUSH_MS})`,
  );
  const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
  t.diagnostic(
    `oldest lost output at the kill, max: off-thread ${maxOf(figures.lostMsOffThread)} ms, in-process ${maxOf(figures.lostMsInline)} ms; ` +
      `chunks stored from the spool at the next start: max ${maxOf(figures.fromSpool)}`,
  );
  assert.equal(figures.sessions, ITERATIONS);
});
