// Persistence cost on the output path: BENCH_PERSIST_MB (default 200) MB of base64 (random, so every
// line is new text for FTS: the worst case) through a real SessionManager (PTY → manager with its
// headless mirror → a flow-controlled consumer that acks at once), with persistence
//   off      — no store at all;
//   inline   — the in-process path (redaction, ANSI stripping, INSERT and FTS indexing in one flush
//              transaction on the main thread: the behaviour before the worker, schema 003 aside);
//   offthread — the core's mode: redaction, stripping and FTS indexing in a worker thread, the INSERT
//              (synchronous=NORMAL for output-only transactions) on the main thread.
// For each: MB/s to the consumer, ratio to `off` (same round), event-loop delay p99/max during the
// flood (perf_hooks.monitorEventLoopDelay), command-journal INSERT latency p50/p99 measured during the
// flood (one record every 20 ms, as typing would), bytes stored, and for offthread the FTS backlog at
// the end of the flood and how long the worker took to index it. Last line: key=value pairs.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ProviderDefinition, ProviderRegistry } from '../src-main/core/providers/types.ts';
import { createRedactor, createStreamRedactor } from '../src-main/core/security/redact.ts';
import { createSessionManager } from '../src-main/core/sessions/index.ts';
import { openDatabase } from '../src-main/core/store/database.ts';
import { createFtsIndexer } from '../src-main/core/store/fts-indexer.ts';
import { createPersistence } from '../src-main/core/store/persistence.ts';
import { createSessionStore } from '../src-main/core/store/session-store.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = path.join(root, 'schema');
const MB = Number(process.env.BENCH_PERSIST_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_PERSIST_ROUNDS ?? 1);
const MODES = (process.env.BENCH_PERSIST_MODES ?? 'off,inline,offthread').split(',') as Mode[];
type Mode = 'off' | 'inline' | 'offthread';
const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-bench-persist-'));

// base64 of random bytes: 76-char lines (78 bytes with the PTY's CRLF) per 57 input bytes → MB of output.
const inputBytes = Math.floor((MB * 1048576) / 78) * 57;
// BENCH_PERSIST_SOURCE=sgr: the SGR-coloured repeated lines of test/fixtures/agents/proc-flood.mjs
// instead (few distinct words: the cheap case for FTS, ANSI stripping has work to do).
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

interface Result {
  mode: Mode;
  mbps: number;
  loopP99: number;
  loopMax: number;
  journalP50: number;
  journalP99: number;
  journalN: number;
  journalCatchUpP99: number;
  journalCatchUpMax: number;
  storedMb: number;
  ftsBacklogRows: number;
  ftsCatchUpMs: number;
  waits: number;
  waitMs: number;
}

async function run(mode: Mode, round: number): Promise<Result> {
  const redactor = createRedactor({ secrets: ['bench-secret-value-0123456789'] });
  const opened =
    mode === 'off' ? null : openDatabase({ schemaDir, path: path.join(dir, `${mode}-${round}.db`) });
  const store = opened ? createSessionStore(opened.db) : null;
  // Counts the backpressure waits (output in flight past maxInflightBytes: the main thread waited).
  let waits = 0;
  let waitMs = 0;
  const logger = {
    debug: (message: string, fields?: Record<string, unknown>) => {
      if (message.includes('waited for the worker')) {
        waits++;
        waitMs += Number(fields?.ms ?? 0);
      }
      if (message.includes('slow commit') && process.env.BENCH_PERSIST_VERBOSE) console.log(message, fields);
    },
    info() {},
    warn() {},
    error: (message: string, fields?: Record<string, unknown>) => console.error(message, fields),
  };
  const persistence =
    store &&
    createPersistence(store, {
      logger,
      retention: null,
      redact: (t) => redactor.redact(t),
      createStreamRedactor: () => createStreamRedactor(redactor),
      ...(mode === 'offthread' ? { offThread: { secrets: ['bench-secret-value-0123456789'] } } : {}),
    });
  const manager = createSessionManager({
    providers: registry,
    loginPath: async () => process.env.PATH ?? '/usr/bin:/bin',
    limits: { idle_timeout_s: null },
    ...(persistence ? { journal: persistence.journal } : {}),
  });
  persistence?.attach(manager);

  const loop = monitorEventLoopDelay({ resolution: 5 });
  const journal: number[] = [];
  let id = '';
  let chars = 0;
  let started = 0;
  let lastAt = 0;
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
        attachment.ack(chunk.data.length);
      },
    });
  });
  started = performance.now();
  loop.enable();
  await manager.create({ cli_tool: 'flood' });
  created.dispose();
  // A command every 20 ms during the flood: how long the synchronous journal INSERT takes meanwhile.
  let seq = 0;
  const typist = setInterval(() => {
    if (!persistence) return;
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
  }, 20);
  await exited;
  loop.disable();
  const journalDuringFlood = journal.splice(0);
  const seconds = (lastAt - started) / 1000;
  let storedMb = 0;
  let ftsBacklogRows = 0;
  let ftsCatchUpMs = 0;
  if (opened && persistence) {
    persistence.flush();
    storedMb =
      (opened.db
        .prepare('SELECT coalesce(sum(raw_bytes), 0) FROM session_output WHERE session_id = ?')
        .pluck()
        .get(id) as number) / 1048576;
    // (A tree from before schema 003 has no marker: everything was indexed by the insert trigger.)
    const deferred = opened.db
      .prepare("SELECT 1 FROM sqlite_master WHERE name = 'output_fts_progress'")
      .get();
    const fts = deferred ? createFtsIndexer(opened.db) : { backlog: () => 0 };
    ftsBacklogRows = fts.backlog();
    const t0 = performance.now();
    while (fts.backlog() > 0 && performance.now() - t0 < 600_000) await new Promise((r) => setTimeout(r, 50));
    ftsCatchUpMs = ftsBacklogRows > 0 ? performance.now() - t0 : 0;
  }
  clearInterval(typist);
  // Commands typed while the worker caught up with the index (after the flood).
  const journalCatchUp = journal.splice(0);
  manager.remove(id);
  await manager.shutdown();
  persistence?.close();
  opened?.close();
  return {
    mode,
    mbps: chars / 1048576 / seconds,
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
    journalP50: pct(journalDuringFlood, 0.5),
    journalP99: pct(journalDuringFlood, 0.99),
    journalN: journalDuringFlood.length,
    journalCatchUpP99: pct(journalCatchUp, 0.99),
    journalCatchUpMax: journalCatchUp.length ? Math.max(...journalCatchUp) : 0,
    storedMb,
    ftsBacklogRows,
    ftsCatchUpMs,
    waits,
    waitMs,
  };
}

const results: Result[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order: the machine is shared, compare within a round.
  const order = MODES.map((_, i) => MODES[(i + round) % MODES.length] as Mode);
  for (const mode of order) {
    const r = await run(mode, round);
    results.push(r);
    console.log(
      `round ${round + 1} ${mode.padEnd(9)} ${r.mbps.toFixed(1)} MB/s; event loop p99 ${r.loopP99.toFixed(1)} ms, max ${r.loopMax.toFixed(1)} ms; journal p50 ${r.journalP50.toFixed(2)} ms, p99 ${r.journalP99.toFixed(2)} ms (n=${r.journalN}); stored ${r.storedMb.toFixed(1)} MB; FTS backlog at exit ${r.ftsBacklogRows} rows, indexed ${(r.ftsCatchUpMs / 1000).toFixed(1)} s later (journal meanwhile p99 ${r.journalCatchUpP99.toFixed(1)} ms, max ${r.journalCatchUpMax.toFixed(1)} ms); waited for the worker ${r.waits}× (${r.waitMs} ms)`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });

const of = (mode: Mode) => results.filter((r) => r.mode === mode);
const med = (xs: number[]) => pct(xs, 0.5);
const ratio = (mode: Mode) => {
  const offs = of('off');
  return med(of(mode).map((r, i) => r.mbps / (offs[i]?.mbps ?? Number.NaN)));
};
const figures: Record<string, string> = {};
for (const mode of MODES) {
  const rs = of(mode);
  figures[`persist_${mode}_mbps`] = med(rs.map((r) => r.mbps)).toFixed(1);
  figures[`persist_${mode}_loop_p99_ms`] = med(rs.map((r) => r.loopP99)).toFixed(1);
  figures[`persist_${mode}_loop_max_ms`] = Math.max(...rs.map((r) => r.loopMax)).toFixed(1);
  if (mode !== 'off') {
    figures[`persist_${mode}_ratio`] = ratio(mode).toFixed(2);
    figures[`persist_${mode}_journal_p50_ms`] = med(rs.map((r) => r.journalP50)).toFixed(2);
    figures[`persist_${mode}_journal_p99_ms`] = med(rs.map((r) => r.journalP99)).toFixed(2);
    figures[`persist_${mode}_stored_mb`] = med(rs.map((r) => r.storedMb)).toFixed(1);
  }
}
if (MODES.includes('offthread')) {
  figures.persist_offthread_fts_catchup_s = (med(of('offthread').map((r) => r.ftsCatchUpMs)) / 1000).toFixed(
    1,
  );
  figures.persist_offthread_catchup_journal_p99_ms = med(
    of('offthread').map((r) => r.journalCatchUpP99),
  ).toFixed(1);
}
console.log(
  `targets: ratio on/off >= 0.8, event-loop p99 < ~20 ms, journal p99 during the flood < ~25 ms (${MB} MB of ${SGR ? 'SGR lines' : 'base64'}, ${ROUNDS} round(s))`,
);
console.log(
  Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
