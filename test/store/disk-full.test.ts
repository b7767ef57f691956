// Issue 10.7: nothing typed is lost when the disk fills. A real small filesystem (tmpfs, mounted here
// as root) holds the database and the output spool; the spill file for held commands is elsewhere.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** A tmpfs of `size` (we run as root in CI and here); null when mounting is not allowed. */
function tinyDisk(size: string): { dir: string; grow(size: string): void; cleanup(): void } | null {
  const base = mkdtempSync(path.join(os.tmpdir(), 'autodev-full-'));
  const dir = path.join(base, 'disk');
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  const cleanup = () => {
    if (r.status === 0) spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  };
  if (r.status !== 0) {
    cleanup();
    return null;
  }
  // More room without deleting anything (the backlog needs about twice its size once stored: data
  // and searchable text).
  const grow = (to: string) => {
    const g = spawnSync('mount', ['-o', `remount,size=${to}`, dir], { stdio: 'ignore' });
    assert.equal(g.status, 0, 'remount');
  };
  return { dir, grow, cleanup };
}

/**
 * Types commands until the database refuses one (a small INSERT may still find room in the WAL or in
 * free pages after output stopped fitting): every command before it is durable; that one is held.
 */
function typeUntilHeld(
  record: (text: string, at: string) => void,
  prefix: string,
): { durable: string[]; held: { text: string; at: string } } {
  const durable: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const text = `${prefix} ${i} ${'k'.repeat(2000)}`;
    const at = new Date().toISOString();
    try {
      record(text, at);
      durable.push(text);
    } catch (error) {
      assert.ok(error instanceof PersistencePausedError, String(error));
      return { durable, held: { text, at } };
    }
  }
  assert.fail('the database never refused a command');
}

/** Filler files we delete later to "free disk space", 256 KiB each. */
function fill(dir: string, kib: number): string[] {
  const files: string[] = [];
  for (let i = 0; i * 256 < kib; i++) {
    const f = path.join(dir, `filler-${i}`);
    writeFileSync(f, Buffer.alloc(256 * 1024, 1));
    files.push(f);
  }
  return files;
}

const SKIP = 'cannot mount a tmpfs here (needs root): see the max_page_count variant below';

test('disk full (4 MiB tmpfs): a command typed during the pause is spilled, journaled first on resume, and resume proceeds in slices', async (t) => {
  const disk = tinyDisk('4m');
  if (disk === null) {
    t.skip(SKIP);
    return;
  }
  const spillDir = tempDir(t, 'autodev-spill-');
  const fillers = fill(disk.dir, 1280);
  const opened = openDatabase({ schemaDir, path: path.join(disk.dir, 'full.db') });
  const store = createSessionStore(opened.db);
  const manager = new SyntheticManager();
  const maxBufferedBytes = 512 * 1024;
  const persistence = attachPersistence(manager, store, {
    offThread: true,
    maxBufferedBytes,
    segmentBytes: 128 * 1024,
    // Small slices: each needs little room to commit.
    sliceBytes: 32 * 1024,
    retention: null,
    retryMinMs: 50,
    retryMaxMs: 400,
    spillDir,
  });
  t.after(() => {
    persistence.close();
    opened.close();
    disk.cleanup();
  });
  const events: PersistenceStatus[] = [];
  persistence.onDidChangeStatus((s) => events.push(s));
  const history = createHistory(opened.db);
  const s = manager.create();

  // Flood until the disk is full (distinct text, so nothing compresses into less).
  let n = 0;
  let printed = 0;
  while (persistence.status.ok) {
    for (let i = 0; i < 40; i++) {
      const line = `chunk ${n++} ${'z'.repeat(900)} ${n * 7919}\r\n`;
      printed += line.length;
      manager.print(s.session_id, line);
    }
    await new Promise((r) => setTimeout(r, 5));
    if (printed > 40 * 1024 * 1024) assert.fail('the disk never filled');
  }
  assert.equal(persistence.status.ok, false);
  assert.match(persistence.status.paused_reason!, /disk full/);
  assert.equal(events[0]?.ok, false, 'a status event announced the pause');

  // Commands typed during the pause: stored while the database still takes a small row; the first it
  // refuses is not durable there yet — said so — and kept: in memory, and in the spill file (another
  // directory, 0600). Everything typed after it waits behind it, in order.
  const record = (text: string, at: string) =>
    persistence.journal.record({ session_id: s.session_id, kind: 'command', text, at, seq: n });
  const { durable, held } = typeUntilHeld(record, 'typed while the disk was full');
  const typedAt = held.at;
  assert.throws(() => record('typed after it', new Date().toISOString()), PersistencePausedError);
  assert.equal(persistence.status.buffered_commands, 2);
  const spillFile = persistence.paths.spill!;
  assert.ok(spillFile.startsWith(spillDir));
  assert.ok(readFileSync(spillFile, 'utf8').includes(held.text));
  assert.equal(statSync(spillFile).mode & 0o777, 0o600);

  // Sessions keep printing: memory stays bounded, the excess is recorded as a gap.
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 40; i++) manager.print(s.session_id, `more ${n++} ${'q'.repeat(900)}\r\n`);
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(
      persistence.status.buffered_bytes <= maxBufferedBytes + 128 * 1024,
      `buffered ${persistence.status.buffered_bytes}`,
    );
  }
  assert.ok(persistence.status.dropped_bytes > 0, 'output beyond the memory bound became a gap');
  const lastSeq = manager.print(s.session_id, 'the very last line\r\n');
  const storedBefore = opened.db
    .prepare('SELECT coalesce(max(seq_end), 0) FROM session_output WHERE session_id = ?')
    .pluck()
    .get(s.session_id) as number;

  // Free a little room (256 KiB): far less than the backlog. The command goes in first; output follows
  // in slices as far as the room goes.
  rmSync(fillers.pop()!);
  await waitFor(
    () => history.commands(s.session_id, { limit: -1 }).items.some((c) => c.text === held.text),
    'the held command to be journaled once a little room was free',
  );
  // A little more room (1 MiB, still less than the backlog): output is stored a slice at a time as far
  // as it goes, while persistence stays paused for the rest.
  for (let i = 0; i < 4; i++) rmSync(fillers.pop()!);
  const stored = () =>
    opened.db
      .prepare('SELECT coalesce(max(seq_end), 0) FROM session_output WHERE session_id = ?')
      .pluck()
      .get(s.session_id) as number;
  await waitFor(() => stored() > storedBefore, 'output to be stored in slices with some room free');
  const storedAfterLittle = stored();
  assert.ok(storedAfterLittle < lastSeq, 'not everything fit');

  // Free the rest (and grow the disk to hold the backlog): persistence resumes on its own.
  for (const f of fillers) rmSync(f);
  disk.grow('16m');
  const freedAt = Date.now();
  await waitFor(() => persistence.status.ok, 'persistence to resume', 30_000);
  const resumeMs = Date.now() - freedAt;
  assert.equal(events.at(-1)?.ok, true);
  assert.equal(persistence.flush(), true);
  const commands = history.commands(s.session_id, { limit: -1 }).items.map((c) => c.text);
  assert.deepEqual(commands, [...durable, held.text, 'typed after it'], 'every command, in order');
  assert.equal(
    history.commands(s.session_id, { limit: -1 }).items.find((c) => c.text === held.text)?.at,
    typedAt,
  );
  assert.equal(persistence.status.buffered_commands, 0);
  assert.throws(() => statSync(spillFile), /ENOENT/, 'the spill file goes once the database has it all');
  const rows = history.output(s.session_id, 0, -1);
  assert.ok(
    rows.some((r) => r.gap),
    'a gap marker records what was dropped',
  );
  assert.equal(rows[0]?.seq_start, 1);
  assert.equal(rows.at(-1)?.seq_end, lastSeq);
  assert.match(
    rows
      .map((r) => r.data)
      .join('')
      .slice(-200),
    /the very last line\r\n$/,
  );
  // Seq ranges are contiguous: stored rows + gap markers cover every chunk exactly once.
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1);
  assert.equal(opened.db.pragma('integrity_check', { simple: true }), 'ok');
  t.diagnostic(
    `printed ${(printed / 1048576).toFixed(1)} MB before the pause; stored through seq ${storedBefore}; commands in after 256 KiB were freed; stored through seq ${storedAfterLittle} after 1 MiB more; fully resumed ${resumeMs} ms after the rest was freed`,
  );
});

test('disk full at shutdown: what fits is written, held commands are journaled at the next start, losses are recorded per session', async (t) => {
  const disk = tinyDisk('4m');
  if (disk === null) {
    t.skip(SKIP);
    return;
  }
  t.after(() => disk.cleanup());
  const spillDir = tempDir(t, 'autodev-spill-');
  const fillers = fill(disk.dir, 1280);
  const file = path.join(disk.dir, 'close.db');
  const errors: { message: string; fields: Record<string, unknown> }[] = [];
  const logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message: string, fields?: Record<string, unknown>) =>
      errors.push({ message, fields: fields ?? {} }),
  };
  let opened = openDatabase({ schemaDir, path: file });
  const manager = new SyntheticManager();
  const persistence = attachPersistence(manager, createSessionStore(opened.db), {
    offThread: true,
    maxBufferedBytes: 256 * 1024,
    segmentBytes: 128 * 1024,
    retention: null,
    retryMinMs: 50,
    retryMaxMs: 400,
    spillDir,
    logger,
  });
  const a = manager.create({ name: 'A' });
  const b = manager.create({ name: 'B' });
  let n = 0;
  while (persistence.status.ok) {
    for (let i = 0; i < 40; i++) {
      manager.print(a.session_id, `a ${n++} ${'x'.repeat(900)}\r\n`);
      manager.print(b.session_id, `b ${n} ${'y'.repeat(900)}\r\n`);
    }
    await new Promise((r) => setTimeout(r, 5));
    if (n > 100_000) assert.fail('the disk never filled');
  }
  // Let the spool fill up too, then type and print while everything refuses.
  for (let i = 0; i < 600; i++) manager.print(a.session_id, `late ${i} ${'w'.repeat(900)}\r\n`);
  const aLast = manager.print(a.session_id, 'a: the last line\r\n');
  const bLast = manager.print(b.session_id, 'b: the last line\r\n');
  const { held } = typeUntilHeld(
    (text, at) => persistence.journal.record({ session_id: b.session_id, kind: 'command', text, at, seq: 1 }),
    'typed just before quitting',
  );
  persistence.close();
  opened.close();
  const loss = errors.find((e) => /closed while paused/.test(e.message) && e.fields.sessions);
  assert.ok(loss, `a per-session loss report: ${JSON.stringify(errors.map((e) => e.message))}`);
  assert.ok(
    (loss.fields.sessions as Record<string, unknown>)[a.session_id],
    'session A named with its lost range',
  );
  assert.ok(errors.some((e) => /held commands are journaled at the next start/.test(e.message)));

  // Next start, with room again: the spill file is journaled first, the spool of the previous run is
  // stored, and what was lost is a gap row — no hole, no silent loss.
  for (const f of fillers) rmSync(f);
  disk.grow('16m');
  opened = openDatabase({ schemaDir, path: file });
  t.after(() => opened.close());
  const next = attachPersistence(new SyntheticManager(), createSessionStore(opened.db), {
    offThread: true,
    retention: null,
    spillDir,
  });
  t.after(() => next.close());
  const history = createHistory(opened.db);
  assert.ok(
    history.commands(b.session_id, { limit: -1 }).items.some((c) => c.text === held.text),
    'the held command was journaled at start',
  );
  next.flush();
  for (const [id, last] of [
    [a.session_id, aLast],
    [b.session_id, bLast],
  ] as const) {
    const rows = history.output(id, 0, -1);
    assert.equal(rows[0]?.seq_start, 1, id);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.seq_start, rows[i - 1]!.seq_end + 1, id);
    assert.equal(rows.at(-1)?.seq_end, last, `${id}: every seq is a row or a recorded gap`);
  }
  assert.ok(
    history.output(a.session_id, 0, -1).some((r) => r.gap),
    'the output that could not be kept is recorded as a gap',
  );
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
    spillDir: tempDir(t, 'autodev-spill-'),
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
  const { durable, held } = typeUntilHeld(
    (text, at) => persistence.journal.record({ session_id: s.session_id, kind: 'command', text, at, seq: n }),
    'while full',
  );
  opened.db.pragma('max_page_count = 1073741823');
  await waitFor(() => persistence.status.ok, 'resume');
  persistence.flush();
  const history = createHistory(opened.db);
  const rows = history.output(s.session_id, 0, -1);
  assert.equal(rows.at(-1)?.seq_end, n);
  assert.deepEqual(
    history.commands(s.session_id, { limit: -1 }).items.map((c) => c.text),
    [...durable, held.text],
  );
});
