import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src-main/core/store/database.ts';
import { createHistory } from '../../src-main/core/store/history.ts';
import {
  attachPersistence,
  PersistencePausedError,
  type PersistenceStatus,
} from '../../src-main/core/store/persistence.ts';
import { createSessionStore } from '../../src-main/core/store/session-store.ts';
import { SyntheticManager, schemaDir, tempDir } from './helpers.ts';

async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A 2 MiB tmpfs (we run as root in CI and here); null when mounting is not allowed. */
function tinyDisk(): { dir: string; cleanup(): void } | null {
  const base = mkdtempSync(path.join(os.tmpdir(), 'autodev-full-'));
  const dir = path.join(base, 'disk');
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
  const cleanup = () => {
    if (r.status === 0) spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  };
  if (r.status !== 0) {
    cleanup();
    return null;
  }
  return { dir, cleanup };
}

test('a full disk (real 2 MiB tmpfs, SQLITE_FULL) pauses persistence with a warning, bounds memory and resumes', async (t) => {
  const mounted = tinyDisk();
  if (mounted === null) {
    t.skip('cannot mount a tmpfs here: see the max_page_count variant below');
    return;
  }
  const disk = mounted.dir;
  // Filler we delete later to "free disk space".
  const filler = path.join(disk, 'filler');
  writeFileSync(filler, Buffer.alloc(512 * 1024));
  const opened = openDatabase({ schemaDir, path: path.join(disk, 'full.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const maxBufferedBytes = 256 * 1024;
  const persistence = attachPersistence(manager, store, {
    flushMs: 10,
    flushBytes: 64 * 1024,
    maxBufferedBytes,
    retention: null,
    retryMinMs: 20,
    retryMaxMs: 200,
  });
  t.after(() => {
    persistence.close();
    opened.close();
    mounted.cleanup();
  });
  const events: PersistenceStatus[] = [];
  persistence.onDidChangeStatus((s) => events.push(s));
  const s = manager.create();

  // Print until the disk fills (distinct text so FTS grows too).
  let n = 0;
  while (persistence.status.ok) {
    for (let i = 0; i < 50; i++)
      manager.print(s.session_id, `chunk ${n++} ${'z'.repeat(900)} ${n * 7919}\r\n`);
    await new Promise((r) => setTimeout(r, 5));
    if (n > 200_000) assert.fail('the disk never filled');
  }
  const paused = persistence.status;
  assert.equal(paused.ok, false);
  assert.equal(paused.error_code, 'SQLITE_FULL');
  assert.match(paused.paused_reason!, /disk full/);
  assert.equal(events[0]?.ok, false, 'a status event announced the pause');

  // Sessions keep printing: memory stays bounded, the excess becomes a recorded gap.
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 50; i++) manager.print(s.session_id, `more ${n++} ${'q'.repeat(900)}\r\n`);
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(
      persistence.status.buffered_bytes <= maxBufferedBytes + 128 * 1024,
      `buffered ${persistence.status.buffered_bytes}`,
    );
  }
  assert.ok(persistence.status.dropped_bytes > 0);
  // A command while paused: not durable yet, said so, and kept for later.
  assert.throws(
    () =>
      persistence.journal.record({
        session_id: s.session_id,
        kind: 'command',
        text: 'typed while the disk was full',
        at: new Date().toISOString(),
        seq: n,
      }),
    PersistencePausedError,
  );
  const lastSeq = n;
  manager.print(s.session_id, 'the very last line\r\n');

  rmSync(filler);
  await waitFor(() => persistence.status.ok, 'persistence to resume');
  assert.equal(events.at(-1)?.ok, true);
  persistence.flush();
  const history = createHistory(opened.db);
  assert.equal(history.commands(s.session_id).items.at(-1)?.text, 'typed while the disk was full');
  const rows = history.output(s.session_id, 0, -1);
  assert.ok(
    rows.some((r) => r.gap),
    'a gap marker records what was dropped',
  );
  assert.equal(rows.at(-1)?.seq_end, lastSeq + 1);
  assert.match(rows.at(-1)!.text, /the very last line/);
  // Seq ranges are contiguous: stored rows + gap markers cover every chunk exactly once.
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1);
  assert.equal(opened.db.pragma('integrity_check', { simple: true }), 'ok');
});

test('SQLITE_FULL forced by PRAGMA max_page_count (fallback where tmpfs cannot be mounted) pauses and resumes', async (t) => {
  const dir = tempDir(t);
  const opened = openDatabase({ schemaDir, path: path.join(dir, 'cap.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, store, {
    flushMs: 10,
    retention: null,
    retryMinMs: 20,
    retryMaxMs: 100,
  });
  t.after(() => {
    persistence.close();
    opened.close();
  });
  const s = manager.create();
  const pages = opened.db.pragma('page_count', { simple: true }) as number;
  opened.db.pragma(`max_page_count = ${pages + 20}`);
  let n = 0;
  while (persistence.status.ok) {
    manager.print(s.session_id, `row ${n++} ${'w'.repeat(4000)}`);
    await new Promise((r) => setTimeout(r, 2));
    if (n > 10_000) assert.fail('never full');
  }
  assert.equal(persistence.status.error_code, 'SQLITE_FULL');
  opened.db.pragma('max_page_count = 1073741823');
  await waitFor(() => persistence.status.ok, 'resume');
  persistence.flush();
  const rows = createHistory(opened.db).output(s.session_id, 0, -1);
  assert.equal(rows.at(-1)?.seq_end, n);
});
