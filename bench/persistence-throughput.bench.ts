// Persistence on the live path: BENCH_PERSIST_MB (default 200) MB of base64 (random, so every line is
// new text for the search index: the worst case) through a real SessionManager (PTY → manager with its
// headless mirror → a flow-controlled consumer that acks at once), with persistence
//   off    — no store at all;
//   quiet  — the core's mode (output redacted on the live path and appended to the spool, a worker
//            storing the spool in SQLite and indexing it in its own search database), nobody typing:
//            what storing output costs the live stream;
//   on     — the same while a typist journals a command every 20 ms (BENCH_PERSIST_TYPIST_MS): each
//            command is fsynced on the main thread before it returns, which the live stream waits for;
//   inline — (BENCH_PERSIST_MODES=…,inline) the core's mode with the worker's work on the main thread.
// Before the first flood the typist journals 100 commands on an idle database: the machine's fsync
// latency, the reference for the journal figures below.
// Figures per mode: MB/s to the consumer and the ratio to `off` (same round), event-loop delay p99/max
// during the flood, the process's RSS growth during the flood (bounded memory), command-journal write
// latency p50/p99 (one record every 20 ms, as typing would) during the flood and during the catch-up
// after it, how long after the flood the output was all in SQLite and all searchable, and whether
// history is byte-complete (sha256 of what the consumer received vs what history returns, stored +
// spooled at the exit and SQLite alone after the catch-up) and contiguous in seq.
// Last line: key=value pairs for bench/run.mjs.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import type { ProviderDefinition, ProviderRegistry } from '../src-main/core/providers/types.ts';
import { createRedactor } from '../src-main/core/security/redact.ts';
import { createSessionManager } from '../src-main/core/sessions/index.ts';
import { openDatabase } from '../src-main/core/store/database.ts';
import { createHistory } from '../src-main/core/store/history.ts';
import { createPersistence } from '../src-main/core/store/persistence.ts';
import { SearchIndexer, searchIndexPath } from '../src-main/core/store/search-index.ts';
import { createSessionStore } from '../src-main/core/store/session-store.ts';
import type { SessionInfo } from '../src-shared/session.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = path.join(root, 'schema');
const MB = Number(process.env.BENCH_PERSIST_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_PERSIST_ROUNDS ?? 1);
type Mode = 'off' | 'quiet' | 'on' | 'inline';
const MODES = (process.env.BENCH_PERSIST_MODES ?? 'off,quiet,on').split(',') as Mode[];
const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-bench-persist-'));
/** How often the typist journals a command (ms; 0: never). */
const TYPIST_MS = Number(process.env.BENCH_PERSIST_TYPIST_MS ?? 20);

// base64 of random bytes: 76-char lines (78 bytes with the PTY's CRLF) per 57 input bytes → MB of output.
const inputBytes = Math.floor((MB * 1048576) / 78) * 57;
// BENCH_PERSIST_SOURCE=sgr: the SGR-coloured repeated lines of test/fixtures/agents/proc-flood.mjs
// instead (few distinct words: the cheap case for the index; ANSI stripping has work to do).
const SGR = process.env.BENCH_PERSIST_SOURCE === 'sgr';
const flood: ProviderDefinition = {
  id: 'flood',
  name: 'flood',
  binary: SGR ? process.execPath : '/bin/sh',
  interactive_args: SGR
    ? [path.join(root, 'test/fixtures/agents/proc-flood.mjs'), String(MB)]
    : ['-c', `head -c ${inputBytes} /dev/urandom | base64; echo FLOOD-END`],
  full_access_args: [],
  one_shot: null,
  env_keys: [],
  version_args: [],
  bracketed_paste: false,
  screen_rules: [],
  title_rules: [],
  stability_ms: 1000,
};
const registry: ProviderRegistry = {
  get: (id) => (id === 'flood' ? flood : undefined),
  list: () => [flood],
  resolveBinary: async (id) => ({ provider_id: id, binary: flood.binary, path: flood.binary, error: null }),
};

const pct = (xs: number[], p: number) =>
  xs.length === 0
    ? 0
    : ([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] as number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  mode: Mode;
  mbps: number;
  loopP99: number;
  loopMax: number;
  rssGrowthMb: number;
  spoolPeakMb: number;
  journalP50: number;
  journalP99: number;
  journalN: number;
  catchUpJournalP99: number;
  catchUpJournalMax: number;
  catchUpJournalN: number;
  storeCatchUpS: number;
  searchCatchUpS: number;
  storedMb: number;
  byteCompleteAtExit: boolean;
  byteCompleteStored: boolean;
  contiguous: boolean;
  redactions: number;
}

async function run(mode: Mode, round: number): Promise<Result> {
  const redactor = createRedactor({ secrets: ['bench-secret-value-0123456789'] });
  const file = path.join(dir, `${mode}-${round}.db`);
  const opened = mode === 'off' ? null : openDatabase({ schemaDir, path: file });
  const store = opened ? createSessionStore(opened.db) : null;
  const persistence =
    store &&
    createPersistence(store, {
      retention: null,
      redactor,
      offThread: mode !== 'inline',
      spillDir: path.join(dir, 'spill'),
      logger: {
        debug() {},
        info() {},
        warn: (m, f) => console.error(m, f),
        error: (m, f) => console.error(m, f),
      },
    });
  const history = opened && persistence ? createHistory(opened.db, { pending: persistence.pending }) : null;
  const manager = createSessionManager({
    providers: registry,
    loginPath: async () => process.env.PATH ?? '/usr/bin:/bin',
    limits: { idle_timeout_s: null },
    ...(persistence ? { journal: persistence.journal } : {}),
  });
  persistence?.attach(manager);

  const loop = monitorEventLoopDelay({ resolution: 5 });
  const journal: number[] = [];
  const received = createHash('sha256');
  let id = '';
  let chars = 0;
  let started = 0;
  let lastAt = 0;
  let lastSeq = 0;
  const exited = new Promise<void>((resolve) => {
    const sub = manager.onDidExit((s) => {
      if (s.session_id === id) {
        sub.dispose();
        resolve();
      }
    });
  });
  const created = manager.onDidCreate((s) => {
    if (id) return;
    id = s.session_id;
    const attachment = manager.attach(id, {
      flowControlled: true,
      onData: (chunk) => {
        chars += chunk.data.length;
        lastAt = performance.now();
        lastSeq = chunk.seq;
        received.update(chunk.data);
        attachment.ack(chunk.data.length);
      },
    });
  });
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let rssPeak = rss0;
  let spoolPeak = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    spoolPeak = Math.max(spoolPeak, persistence?.status.buffered_bytes ?? 0);
  }, 50);
  started = performance.now();
  loop.enable();
  await manager.create({ cli_tool: 'flood' });
  created.dispose();
  // A command every 20 ms during the flood and the catch-up: how long the synchronous journal write
  // (synchronous=FULL: fsynced before it returns) takes meanwhile.
  let seq = 0;
  const typist = setInterval(() => {
    if (!persistence || TYPIST_MS === 0 || mode === 'quiet') return;
    const t0 = performance.now();
    try {
      persistence.journal.record({
        session_id: id,
        kind: 'command',
        text: `typed ${seq}`,
        at: new Date().toISOString(),
        seq: seq++,
      });
      journal.push(performance.now() - t0);
    } catch {}
  }, TYPIST_MS || 1000);
  await exited;
  const floodEnd = performance.now();
  loop.disable();
  clearInterval(sampler);
  const journalDuringFlood = journal.splice(0);
  const seconds = (lastAt - started) / 1000;
  const expected = received.digest('hex');
  const result: Result = {
    mode,
    mbps: chars / 1048576 / seconds,
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
    rssGrowthMb: (rssPeak - rss0) / 1048576,
    spoolPeakMb: spoolPeak / 1048576,
    journalP50: pct(journalDuringFlood, 0.5),
    journalP99: pct(journalDuringFlood, 0.99),
    journalN: journalDuringFlood.length,
    catchUpJournalP99: 0,
    catchUpJournalMax: 0,
    catchUpJournalN: 0,
    storeCatchUpS: 0,
    searchCatchUpS: 0,
    storedMb: 0,
    byteCompleteAtExit: true,
    byteCompleteStored: true,
    contiguous: true,
    redactions: 0,
  };
  if (opened && persistence && history) {
    const hashOf = (rows: { data: string }[]) => {
      const h = createHash('sha256');
      for (const r of rows) h.update(r.data);
      return h.digest('hex');
    };
    // History at the exit, before the catch-up: stored rows + the spooled tail.
    const atExit = history.output(id, 0, -1);
    result.byteCompleteAtExit = hashOf(atExit) === expected;
    result.contiguous =
      atExit[0]?.seq_start === 1 &&
      atExit.at(-1)?.seq_end === lastSeq &&
      atExit.every((r, i) => i === 0 || r.seq_start === (atExit[i - 1] as { seq_end: number }).seq_end + 1);
    // The catch-up: all stored, then all indexed; the typist goes on meanwhile.
    const reader = new BetterSqlite3(file, { readonly: true });
    const search = new BetterSqlite3(searchIndexPath(file));
    search.pragma('busy_timeout = 5000');
    const indexer = new SearchIndexer(reader, search);
    const storedSeq = () =>
      reader
        .prepare('SELECT coalesce(max(seq_end), 0) FROM session_output WHERE session_id = ?')
        .pluck()
        .get(id) as number;
    const deadline = performance.now() + 600_000;
    while (storedSeq() < lastSeq && performance.now() < deadline) await sleep(20);
    result.storeCatchUpS = (performance.now() - floodEnd) / 1000;
    while (indexer.backlog() > 0 && performance.now() < deadline) await sleep(100);
    result.searchCatchUpS = (performance.now() - floodEnd) / 1000;
    search.close();
    reader.close();
    clearInterval(typist);
    const catchUp = journal.splice(0);
    result.catchUpJournalP99 = pct(catchUp, 0.99);
    result.catchUpJournalMax = catchUp.length ? Math.max(...catchUp) : 0;
    result.catchUpJournalN = catchUp.length;
    persistence.flush();
    const stored = createHistory(opened.db).output(id, 0, -1);
    result.byteCompleteStored = hashOf(stored) === expected;
    result.storedMb = stored.reduce((n, r) => n + r.raw_bytes, 0) / 1048576;
    result.redactions = stored.reduce((n, r) => n + (r.data.match(/\[REDACTED:/g)?.length ?? 0), 0);
  }
  clearInterval(typist);
  manager.remove(id);
  await manager.shutdown();
  persistence?.close();
  opened?.close();
  return result;
}

/** Journal latency on an idle database (same machine, same moment): the fsync reference. */
async function idleJournal(): Promise<{ p50: number; p99: number }> {
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'idle.db') });
  const store = createSessionStore(opened.db);
  const persistence = createPersistence(store, { retention: null, spillDir: path.join(dir, 'spill') });
  const now = new Date().toISOString();
  const session: SessionInfo = {
    session_id: 'idle',
    name: 'idle',
    cli_tool: 'flood',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    state: 'running',
    state_reason: { source: 'lifecycle', detail: 'bench', at: now },
    authentication_required: false,
    auth_prompt: null,
    pid: null,
    created_at: now,
    started_at: null,
    ended_at: null,
    last_activity: now,
    current_directory: dir,
    exit_code: null,
    exit_signal: null,
    cols: 80,
    rows: 24,
    last_seq: 0,
    title: null,
    command_history: [],
    metadata: {},
    worktree: null,
  };
  store.upsertSession(session);
  const xs: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    persistence.journal.record({
      session_id: 'idle',
      kind: 'command',
      text: `idle ${i}`,
      at: new Date().toISOString(),
      seq: i,
    });
    xs.push(performance.now() - t0);
    await sleep(20);
  }
  persistence.close();
  opened.close();
  return { p50: pct(xs, 0.5), p99: pct(xs, 0.99) };
}

const idle = await idleJournal();
console.log(
  `journal on an idle database (fsync reference): p50 ${idle.p50.toFixed(2)} ms, p99 ${idle.p99.toFixed(2)} ms`,
);
const results: Result[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order: the machine is shared, compare within a round.
  const order = MODES.map((_, i) => MODES[(i + round) % MODES.length] as Mode);
  for (const mode of order) {
    const r = await run(mode, round);
    results.push(r);
    console.log(
      `round ${round + 1} ${mode.padEnd(6)} ${r.mbps.toFixed(1)} MB/s; event loop p99 ${r.loopP99.toFixed(1)} ms, max ${r.loopMax.toFixed(1)} ms; RSS +${r.rssGrowthMb.toFixed(0)} MB (spool queue peak ${r.spoolPeakMb.toFixed(1)} MB)` +
        (mode === 'off'
          ? ''
          : mode === 'quiet'
            ? `; all in SQLite ${r.storeCatchUpS.toFixed(1)} s and all searchable ${r.searchCatchUpS.toFixed(1)} s after the flood; byte-complete at the exit ${r.byteCompleteAtExit}, in SQLite ${r.byteCompleteStored}; contiguous ${r.contiguous}`
            : `; journal during the flood p50 ${r.journalP50.toFixed(2)} ms, p99 ${r.journalP99.toFixed(2)} ms (n=${r.journalN}); all in SQLite ${r.storeCatchUpS.toFixed(1)} s and all searchable ${r.searchCatchUpS.toFixed(1)} s after the flood (journal meanwhile p99 ${r.catchUpJournalP99.toFixed(2)} ms, max ${r.catchUpJournalMax.toFixed(1)} ms, n=${r.catchUpJournalN}); stored ${r.storedMb.toFixed(1)} MB; byte-complete at the exit ${r.byteCompleteAtExit}, in SQLite ${r.byteCompleteStored}${r.redactions ? ` (${r.redactions} redactions)` : ''}; contiguous ${r.contiguous}`),
    );
  }
}
rmSync(dir, { recursive: true, force: true });

const of = (mode: Mode) => results.filter((r) => r.mode === mode);
const med = (xs: number[]) => pct(xs, 0.5);
const figures: Record<string, string> = {
  persist_idle_journal_p99_ms: idle.p99.toFixed(2),
};
for (const mode of MODES) {
  const rs = of(mode);
  const key = `persist_${mode}`;
  figures[`${key}_mbps`] = med(rs.map((r) => r.mbps)).toFixed(1);
  figures[`${key}_loop_p99_ms`] = med(rs.map((r) => r.loopP99)).toFixed(1);
  figures[`${key}_rss_growth_mb`] = Math.max(...rs.map((r) => r.rssGrowthMb)).toFixed(0);
  if (mode === 'off') continue;
  const offs = of('off');
  figures[`${key}_ratio`] = med(rs.map((r, i) => r.mbps / (offs[i]?.mbps ?? Number.NaN))).toFixed(2);
  if (mode !== 'quiet') {
    figures[`${key}_journal_p99_ms`] = med(rs.map((r) => r.journalP99)).toFixed(2);
    figures[`${key}_catchup_journal_p99_ms`] = med(rs.map((r) => r.catchUpJournalP99)).toFixed(2);
  }
  figures[`${key}_store_catchup_s`] = med(rs.map((r) => r.storeCatchUpS)).toFixed(1);
  figures[`${key}_search_catchup_s`] = med(rs.map((r) => r.searchCatchUpS)).toFixed(1);
  figures[`${key}_byte_complete`] = rs.every((r) => r.byteCompleteAtExit && r.byteCompleteStored) ? '1' : '0';
  figures[`${key}_seq_contiguous`] = rs.every((r) => r.contiguous) ? '1' : '0';
}
console.log(
  `targets (issue 13): search caught up < 30 s after the flood, journal p99 < 10 ms meanwhile, byte-complete and contiguous, RSS bounded; ratio on/off is the live stream's cost (${MB} MB of ${SGR ? 'SGR lines' : 'base64'}, ${ROUNDS} round(s))`,
);
console.log(
  Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
