import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { SessionInfo, StateReason } from '../../../src-shared/session.ts';
import type { SpawnRecord } from '../sessions/types.ts';
import { isoNow } from './types.ts';

/** A row of cli_sessions as SQLite returns it. */
export interface SessionRow {
  session_id: string;
  name: string;
  cli_tool: string;
  mode: string;
  full_access: number;
  user_id: string;
  state: SessionInfo['state'];
  state_reason: string;
  authentication_required: number;
  auth_prompt: string | null;
  pid: number | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  last_activity: string;
  current_directory: string;
  exit_code: number | null;
  exit_signal: string | null;
  cols: number;
  rows: number;
  last_seq: number;
  title: string | null;
  /** Added by schema 006 (NULL until the agent reports it). */
  conversation_id: string | null;
  resumed_from: string | null;
  metadata: string;
  /** SessionInfo.worktree as JSON (schema 005), null for a plain directory. */
  worktree: string | null;
  owner_instance: string | null;
  stored_output_bytes: number;
  output_trimmed_seq: number;
  updated_at: string;
}

/** One stored output batch (what a flush writes and what Redis publishes/resyncs). */
export interface OutputBatch {
  session_id: string;
  seq_start: number;
  seq_end: number;
  raw_bytes: number;
  data: string;
  text: string;
  gap: boolean;
  at: string;
}

export interface CommandEntry {
  session_id: string;
  kind: 'command' | 'input';
  text: string;
  at: string;
  seq: number;
  /** A line whose redaction found a secret: the raw keys that typed it (the session's `input` rows
   *  since its previous line) are scrubbed as it is stored, each having been redacted alone. */
  scrub_keys?: boolean;
}

/** What a scrubbed key row says instead of the key. */
export const SCRUBBED_KEYS = '[REDACTED:keys of a line with a secret]';

/** How many recent commands SessionInfo.command_history carries when read back from the store. */
const COMMAND_HISTORY_LIMIT = 50;

export function rowToSessionInfo(row: SessionRow, commandHistory: string[] = []): SessionInfo {
  return {
    session_id: row.session_id,
    name: row.name,
    cli_tool: row.cli_tool,
    mode: row.mode,
    full_access: row.full_access === 1,
    user_id: row.user_id,
    state: row.state,
    state_reason: JSON.parse(row.state_reason) as StateReason,
    authentication_required: row.authentication_required === 1,
    auth_prompt: row.auth_prompt,
    pid: row.pid,
    created_at: row.created_at,
    started_at: row.started_at,
    ended_at: row.ended_at,
    last_activity: row.last_activity,
    current_directory: row.current_directory,
    exit_code: row.exit_code,
    exit_signal: row.exit_signal,
    cols: row.cols,
    rows: row.rows,
    last_seq: row.last_seq,
    title: row.title,
    conversation_id: row.conversation_id ?? null,
    resumed_from: row.resumed_from ?? null,
    command_history: commandHistory,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    worktree: row.worktree ? (JSON.parse(row.worktree) as SessionInfo['worktree']) : null,
  };
}

/**
 * The store's write and point-read statements, prepared once (parameterised SQL only). Callers group
 * writes with `write(fn)`, a BEGIN IMMEDIATE transaction: every read-modify-write takes the write lock
 * up front so it waits out busy_timeout instead of failing on a lock upgrade.
 */
export class SessionStore {
  readonly db: Database;
  readonly instanceId: string;
  private readonly _upsert: Statement;
  private readonly _insertIfMissing: Statement;
  private readonly _insertCommand: Statement;
  private readonly _scrubKeys: Statement;
  private readonly _insertOutput: Statement;
  private readonly _advanceSeq: Statement;
  private readonly _insertLedger: Statement;
  private readonly _releaseLedger: Statement;
  private readonly _getSession: Statement;
  private readonly _recentCommands: Statement;
  private readonly _exists: Statement;
  private readonly _hasCommand: Statement;
  private readonly _hasSpawn: Statement;

  constructor(db: Database) {
    this.db = db;
    this.instanceId = this.write(() => {
      const row = db.prepare("SELECT value FROM app_meta WHERE key = 'instance_id'").get() as
        | { value: string }
        | undefined;
      if (row) return row.value;
      const id = `inst-${randomUUID()}`;
      db.prepare("INSERT INTO app_meta(key, value) VALUES ('instance_id', ?)").run(id);
      return id;
    });
    this._upsert = db.prepare(`
      INSERT INTO cli_sessions (session_id, name, cli_tool, mode, full_access, user_id, state,
        state_reason, authentication_required, auth_prompt, pid, created_at, started_at, ended_at,
        last_activity, current_directory, exit_code, exit_signal, cols, rows, last_seq, title, metadata,
        worktree, owner_instance, conversation_id, resumed_from)
      VALUES (@session_id, @name, @cli_tool, @mode, @full_access, @user_id, @state, @state_reason,
        @authentication_required, @auth_prompt, @pid, @created_at, @started_at, @ended_at,
        @last_activity, @current_directory, @exit_code, @exit_signal, @cols, @rows, @last_seq, @title,
        @metadata, @worktree, @owner_instance, @conversation_id, @resumed_from)
      ON CONFLICT(session_id) DO UPDATE SET
        name = excluded.name, state = excluded.state, state_reason = excluded.state_reason,
        authentication_required = excluded.authentication_required, auth_prompt = excluded.auth_prompt,
        pid = excluded.pid, started_at = excluded.started_at, ended_at = excluded.ended_at,
        last_activity = max(last_activity, excluded.last_activity),
        current_directory = excluded.current_directory, exit_code = excluded.exit_code,
        exit_signal = excluded.exit_signal, cols = excluded.cols, rows = excluded.rows,
        last_seq = max(last_seq, excluded.last_seq), title = excluded.title,
        metadata = excluded.metadata, worktree = excluded.worktree, owner_instance = excluded.owner_instance,
        conversation_id = coalesce(excluded.conversation_id, conversation_id),
        resumed_from = coalesce(excluded.resumed_from, resumed_from)`);
    this._insertIfMissing = db.prepare(`
      INSERT INTO cli_sessions (session_id, name, cli_tool, mode, full_access, user_id, state,
        state_reason, authentication_required, auth_prompt, pid, created_at, started_at, ended_at,
        last_activity, current_directory, exit_code, exit_signal, cols, rows, last_seq, title, metadata,
        worktree, owner_instance, conversation_id, resumed_from)
      VALUES (@session_id, @name, @cli_tool, @mode, @full_access, @user_id, @state, @state_reason,
        @authentication_required, @auth_prompt, @pid, @created_at, @started_at, @ended_at,
        @last_activity, @current_directory, @exit_code, @exit_signal, @cols, @rows, @last_seq, @title,
        @metadata, @worktree, @owner_instance, @conversation_id, @resumed_from)
      ON CONFLICT(session_id) DO NOTHING`);
    this._insertCommand = db.prepare(
      'INSERT INTO cli_session_commands (session_id, seq, kind, text, at) VALUES (?, ?, ?, ?, ?)',
    );
    this._scrubKeys = db.prepare(`
      UPDATE cli_session_commands SET text = ?
      WHERE session_id = ? AND kind = 'input' AND id > coalesce(
        (SELECT max(id) FROM cli_session_commands WHERE session_id = ? AND kind = 'command'), 0)`);
    this._insertOutput = db.prepare(`
      INSERT INTO session_output (session_id, seq_start, seq_end, raw_bytes, stored_bytes, data, text, gap, at)
      VALUES (@session_id, @seq_start, @seq_end, @raw_bytes, @stored_bytes, @data, @text, @gap, @at)
      ON CONFLICT(session_id, seq_start) DO NOTHING`);
    this._advanceSeq = db.prepare(
      'UPDATE cli_sessions SET last_seq = max(last_seq, ?), last_activity = max(last_activity, ?) WHERE session_id = ?',
    );
    this._insertLedger = db.prepare(
      'INSERT INTO process_ledger (session_id, pid, pgid, start_ticks, boot_id, spawned_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this._releaseLedger = db.prepare(
      'UPDATE process_ledger SET released_at = ?, release_reason = ? WHERE session_id = ? AND released_at IS NULL',
    );
    this._getSession = db.prepare('SELECT * FROM cli_sessions WHERE session_id = ?');
    this._recentCommands = db.prepare(
      `SELECT text FROM cli_session_commands WHERE session_id = ? AND kind = 'command' ORDER BY id DESC LIMIT ?`,
    );
    this._exists = db.prepare('SELECT 1 FROM cli_sessions WHERE session_id = ?');
    this._hasCommand = db.prepare(
      'SELECT 1 FROM cli_session_commands WHERE session_id = ? AND seq = ? AND kind = ? AND at = ? AND text = ?',
    );
    this._hasSpawn = db.prepare(
      'SELECT 1 FROM process_ledger WHERE session_id = ? AND pid = ? AND start_ticks = ?',
    );
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction (nested calls become savepoints). */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  upsertSession(info: SessionInfo): void {
    this._upsert.run(this._sessionParams(info));
  }

  /** The row as it was when first seen, unless one exists (the spool's and the spill file's copy:
   *  never newer than what the journal wrote). */
  insertSessionIfMissing(info: SessionInfo): boolean {
    return this._insertIfMissing.run(this._sessionParams(info)).changes > 0;
  }

  private _sessionParams(info: SessionInfo): Record<string, unknown> {
    return {
      session_id: info.session_id,
      name: info.name,
      cli_tool: info.cli_tool,
      mode: info.mode,
      full_access: info.full_access ? 1 : 0,
      user_id: info.user_id,
      state: info.state,
      state_reason: JSON.stringify(info.state_reason),
      authentication_required: info.authentication_required ? 1 : 0,
      auth_prompt: info.auth_prompt,
      pid: info.pid,
      created_at: info.created_at,
      started_at: info.started_at,
      ended_at: info.ended_at,
      last_activity: info.last_activity,
      current_directory: info.current_directory,
      exit_code: info.exit_code,
      exit_signal: info.exit_signal,
      cols: info.cols,
      rows: info.rows,
      last_seq: info.last_seq,
      title: info.title,
      metadata: JSON.stringify(info.metadata ?? {}),
      worktree: info.worktree ? JSON.stringify(info.worktree) : null,
      owner_instance: this.instanceId,
      conversation_id: info.conversation_id ?? null,
      resumed_from: info.resumed_from ?? null,
    };
  }

  hasSession(sessionId: string): boolean {
    return this._exists.get(sessionId) !== undefined;
  }

  /** The same command is stored already (a spill file replayed after the database took it). */
  hasCommand(entry: CommandEntry): boolean {
    return this._hasCommand.get(entry.session_id, entry.seq, entry.kind, entry.at, entry.text) !== undefined;
  }

  hasSpawn(record: SpawnRecord): boolean {
    return this._hasSpawn.get(record.session_id, record.pid, record.start_ticks) !== undefined;
  }

  insertCommand(entry: CommandEntry): number {
    if (entry.kind === 'command' && entry.scrub_keys)
      this._scrubKeys.run(SCRUBBED_KEYS, entry.session_id, entry.session_id);
    return Number(
      this._insertCommand.run(entry.session_id, entry.seq, entry.kind, entry.text, entry.at).lastInsertRowid,
    );
  }

  /** Inserts one batch; false when that range was already stored (idempotent replays). */
  insertOutput(batch: OutputBatch): boolean {
    const inserted =
      this._insertOutput.run({
        session_id: batch.session_id,
        seq_start: batch.seq_start,
        seq_end: batch.seq_end,
        raw_bytes: batch.raw_bytes,
        stored_bytes: Buffer.byteLength(batch.data) + Buffer.byteLength(batch.text),
        data: batch.data,
        text: batch.text,
        gap: batch.gap ? 1 : 0,
        at: batch.at,
      }).changes > 0;
    if (!batch.gap) this._advanceSeq.run(batch.seq_end, batch.at, batch.session_id);
    return inserted;
  }

  recordSpawn(record: SpawnRecord): void {
    this._insertLedger.run(
      record.session_id,
      record.pid,
      record.pgid,
      record.start_ticks,
      record.boot_id,
      record.at,
    );
  }

  releaseLedger(sessionId: string, reason: string, at = isoNow()): number {
    return this._releaseLedger.run(at, reason, sessionId).changes;
  }

  getSession(sessionId: string): SessionInfo | undefined {
    const row = this._getSession.get(sessionId) as SessionRow | undefined;
    if (!row) return undefined;
    const commands = (this._recentCommands.all(sessionId, COMMAND_HISTORY_LIMIT) as { text: string }[])
      .map((c) => c.text)
      .reverse();
    return rowToSessionInfo(row, commands);
  }
}

export function createSessionStore(db: Database): SessionStore {
  return new SessionStore(db);
}
