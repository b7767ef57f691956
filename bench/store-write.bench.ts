// Store write costs on this disk: what synchronous=FULL costs per acknowledged command (one fsync per
// journal INSERT) compared with NORMAL, how long one output flush transaction takes, and the
// write throughput of batched output (with FTS5 indexing). Prints key=value figures on the last line.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src-main/core/store/database.ts';
import { createPersistence } from '../src-main/core/store/persistence.ts';
import { createSessionStore } from '../src-main/core/store/session-store.ts';

const schemaDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema');
const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-bench-store-'));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

function session(id: string) {
  const now = new Date().toISOString();
  return {
    session_id: id,
    name: 'bench',
    cli_tool: 'shell',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    state: 'running' as const,
    state_reason: { source: 'lifecycle' as const, detail: 'bench', at: now },
    authentication_required: false,
    auth_prompt: null,
    pid: 1,
    created_at: now,
    started_at: now,
    ended_at: null,
    last_activity: now,
    current_directory: '/',
    exit_code: null,
    exit_signal: null,
    cols: 120,
    rows: 32,
    last_seq: 0,
    title: null,
    command_history: [],
    worktree: null,
    metadata: {},
  };
}

function journalLatency(synchronous: 'FULL' | 'NORMAL'): number[] {
  const opened = openDatabase({ schemaDir, path: path.join(dir, `journal-${synchronous}.db`) });
  opened.db.pragma(`synchronous = ${synchronous}`);
  const store = createSessionStore(opened.db);
  const p = createPersistence(store);
  store.upsertSession(session('s1'));
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    p.journal.record({
      session_id: 's1',
      kind: 'command',
      text: `command ${i}`,
      at: new Date().toISOString(),
      seq: i,
    });
    times.push(performance.now() - t0);
  }
  p.close();
  opened.close();
  return times;
}

const full = journalLatency('FULL');
const normal = journalLatency('NORMAL');
console.log(`journal FULL   p50 ${pct(full, 0.5).toFixed(2)} ms  p99 ${pct(full, 0.99).toFixed(2)} ms`);
console.log(`journal NORMAL p50 ${pct(normal, 0.5).toFixed(2)} ms  p99 ${pct(normal, 0.99).toFixed(2)} ms`);

// Output: flushes of 256 KiB (the flushBytes bound) through the real persistence path.
const opened = openDatabase({ schemaDir, path: path.join(dir, 'output.db') });
const store = createSessionStore(opened.db);
const persistence = createPersistence(store, { flushMs: 60_000, retention: null });
store.upsertSession(session('s2'));
const line = `\x1b[32mcompiling\x1b[0m src/module_${'x'.repeat(60)}.ts … ok\r\n`;
const flushTimes: number[] = [];
let seq = 0;
let bytes = 0;
const fakeManager = {
  listeners: [] as ((c: { session_id: string; seq: number; data: string; at: number }) => void)[],
};
// Drive onOutput directly through attach() with a minimal manager.
const noop = () => ({ dispose() {} });
persistence.attach({
  onDidCreate: noop,
  onDidChangeState: noop,
  onDidExit: noop,
  onDidSpawn: noop,
  onOutput: (l) => {
    fakeManager.listeners.push(l);
    return { dispose() {} };
  },
  get: () => undefined,
  list: () => [],
});
const chunk = line.repeat(Math.ceil(4096 / line.length));
const t0 = performance.now();
for (let f = 0; f < 100; f++) {
  for (let c = 0; c < 64; c++) {
    for (const l of fakeManager.listeners) l({ session_id: 's2', seq: ++seq, data: chunk, at: Date.now() });
    bytes += chunk.length;
  }
  const t1 = performance.now();
  persistence.flush();
  flushTimes.push(performance.now() - t1);
}
const seconds = (performance.now() - t0) / 1000;
persistence.close();
opened.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  `output flush of ${((64 * chunk.length) / 1024).toFixed(0)} KiB: p50 ${pct(flushTimes, 0.5).toFixed(1)} ms, p99 ${pct(flushTimes, 0.99).toFixed(1)} ms`,
);
console.log(
  [
    `store_journal_full_p50_ms=${pct(full, 0.5).toFixed(2)}`,
    `store_journal_full_p99_ms=${pct(full, 0.99).toFixed(2)}`,
    `store_journal_normal_p50_ms=${pct(normal, 0.5).toFixed(2)}`,
    `store_flush_256k_p50_ms=${pct(flushTimes, 0.5).toFixed(1)}`,
    `store_output_mb_s=${(bytes / 1024 / 1024 / seconds).toFixed(1)}`,
  ].join(' '),
);
