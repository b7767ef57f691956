import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3';
import { openSearchIndex, SearchIndexer, searchIndexPath } from '../../src-main/core/store/search-index.ts';
import type { SessionInfo } from '../../src-shared/session.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const schemaDir = path.join(repoRoot, 'schema');

/** A temp directory removed when `t` ends (pass the test context). */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'autodev-store-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;
/** A SessionInfo as the manager would emit it. */
export function fakeSession(overrides: Partial<SessionInfo> = {}): SessionInfo {
  const now = new Date().toISOString();
  counter++;
  return {
    session_id: `s-${process.pid}-${counter}`,
    name: 'Shell',
    cli_tool: 'shell',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    state: 'starting',
    state_reason: { source: 'lifecycle', detail: 'spawned', at: now },
    authentication_required: false,
    auth_prompt: null,
    pid: 1234,
    created_at: now,
    started_at: now,
    ended_at: null,
    last_activity: now,
    current_directory: '/tmp',
    exit_code: null,
    exit_signal: null,
    cols: 120,
    rows: 32,
    last_seq: 0,
    title: null,
    command_history: [],
    worktree: null,
    metadata: {},
    ...overrides,
  };
}

import type { SpawnRecord } from '../../src-main/core/sessions/types.ts';
import type { PersistedManager } from '../../src-main/core/store/persistence.ts';
import { Emitter } from '../../src-main/core/util/event.ts';
import type { OutputChunk } from '../../src-shared/session.ts';

/** The manager's events, fired by hand: the store tests drive persistence with synthetic sessions. */
export class SyntheticManager implements PersistedManager {
  readonly sessions = new Map<string, SessionInfo>();
  private readonly _create = new Emitter<SessionInfo>();
  private readonly _state = new Emitter<{ session: SessionInfo; previous: SessionInfo['state'] }>();
  private readonly _output = new Emitter<OutputChunk>();
  private readonly _exit = new Emitter<SessionInfo>();
  private readonly _spawn = new Emitter<SpawnRecord>();
  private readonly _seq = new Map<string, number>();
  readonly onDidCreate = this._create.event;
  readonly onDidChangeState = this._state.event;
  readonly onOutput = this._output.event;
  readonly onDidExit = this._exit.event;
  readonly onDidSpawn = this._spawn.event;

  get(id: string): SessionInfo | undefined {
    return this.sessions.get(id);
  }
  list(): SessionInfo[] {
    return [...this.sessions.values()];
  }
  create(overrides: Partial<SessionInfo> = {}): SessionInfo {
    const s = fakeSession(overrides);
    this.sessions.set(s.session_id, s);
    this._create.fire(s);
    return s;
  }
  setState(id: string, state: SessionInfo['state'], detail = 'test'): SessionInfo {
    const old = this.sessions.get(id)!;
    const s = {
      ...old,
      state,
      state_reason: { source: 'screen-rule' as const, detail, at: new Date().toISOString() },
    };
    this.sessions.set(id, s);
    this._state.fire({ session: s, previous: old.state });
    return s;
  }
  /** A field changed without a state change (e.g. the agent reported its conversation id). */
  update(id: string, patch: Partial<SessionInfo>): SessionInfo {
    const old = this.sessions.get(id)!;
    const s = { ...old, ...patch };
    this.sessions.set(id, s);
    this._state.fire({ session: s, previous: old.state });
    return s;
  }
  /** Emits one chunk with the next seq; returns the seq. */
  print(id: string, data: string): number {
    const seq = (this._seq.get(id) ?? 0) + 1;
    this._seq.set(id, seq);
    const old = this.sessions.get(id)!;
    this.sessions.set(id, { ...old, last_seq: seq });
    this._output.fire({ session_id: id, seq, data, at: Date.now() });
    return seq;
  }
  spawn(record: SpawnRecord): void {
    this._spawn.fire(record);
  }
  exit(id: string, exitCode = 0): SessionInfo {
    const old = this.sessions.get(id)!;
    const now = new Date().toISOString();
    const s: SessionInfo = {
      ...old,
      state: 'completed',
      state_reason: { source: 'exit', detail: `exited with code ${exitCode}`, at: now },
      exit_code: exitCode,
      ended_at: now,
    };
    this.sessions.set(id, s);
    this._state.fire({ session: s, previous: old.state });
    this._exit.fire(s);
    return s;
  }
}

/**
 * Waits until the search index (its own file, kept by persistence) has every stored row and every
 * change, checks its structure (FTS5 integrity-check), and lets the test compare its row ids with
 * session_output's.
 */
export async function searchIndexCaughtUp(
  t: { after(fn: () => void): void },
  db: Database,
  timeoutMs = 30_000,
): Promise<{ rowids(): number[]; expected(): number[]; backlog(): number }> {
  const search = openSearchIndex(searchIndexPath(db.name), db);
  t.after(() => search.close());
  const indexer = new SearchIndexer(db, search);
  const deadline = Date.now() + timeoutMs;
  while (indexer.backlog() > 0) {
    if (Date.now() > deadline) throw new Error(`search index still ${indexer.backlog()} behind`);
    await new Promise((r) => setTimeout(r, 20));
  }
  search.prepare("INSERT INTO output_fts(output_fts) VALUES ('integrity-check')").run();
  return {
    // Contentless: the row ids of the index are in its docsize shadow table.
    rowids: () => search.prepare('SELECT id FROM output_fts_docsize ORDER BY id').pluck().all() as number[],
    expected: () => db.prepare('SELECT id FROM session_output ORDER BY id').pluck().all() as number[],
    backlog: () => indexer.backlog(),
  };
}
