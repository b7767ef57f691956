import type { SessionInfo } from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import type { RecordSpec } from '../providers/conversation-spec.ts';
import type { ProviderRegistry } from '../providers/types.ts';
import { envNamesOf, readAgentEnvironment } from './agent-environment.ts';
import {
  type AgentEnvironment,
  type LocateQuery,
  locateById,
  locateCandidates,
  type ParsedRecord,
  RECORD_PARSERS,
  RecordReader,
} from './records/index.ts';

/** A session's records as read now: every conversation it had (a `/clear` starts a new one). */
export interface SessionRecordView {
  format: RecordSpec['format'];
  /** The record files, oldest conversation first. */
  files: string[];
  /** Parsed state per file, same order. */
  records: ParsedRecord[];
  /** The conversation id of the latest record. */
  conversation_id: string | null;
  /** Found by working directory and start time, not by the agent's reported id. */
  discovered: boolean;
  error: string | null;
}

interface Entry {
  spec: RecordSpec;
  agent: AgentEnvironment | null;
  readers: RecordReader[];
  /** Conversation ids already located (a reported id change adds a file). */
  ids: Set<string>;
  discovered: boolean;
  lastLocateAt: number;
  error: string | null;
}

const RELOCATE_MS = 250;

/**
 * Finds and reads each session's record of its conversation (the agent's transcript), for replies,
 * the conversation view and usage. One reader per file, read incrementally; shared by the
 * conversation and usage services so a transcript is parsed once.
 *
 * The record is found by the conversation id the agent reported (SessionInfo.conversation_id, from its
 * hooks or notify program). Without one, by the session's working directory and start time — taken
 * only when exactly one file fits and no other session of this AutoDev claimed it.
 */
export class SessionRecords {
  private readonly _providers: ProviderRegistry;
  private readonly _env: NodeJS.ProcessEnv;
  private readonly _log: Logger | undefined;
  private readonly _entries = new Map<string, Entry>();

  constructor(options: { providers: ProviderRegistry; env?: NodeJS.ProcessEnv; logger?: Logger }) {
    this._providers = options.providers;
    this._env = options.env ?? process.env;
    this._log = options.logger;
  }

  /** Whether the session's provider keeps a record AutoDev can read. */
  hasRecord(session: Pick<SessionInfo, 'cli_tool'>): boolean {
    return this._providers.get(session.cli_tool)?.conversation?.record !== undefined;
  }

  /**
   * Remember the agent's environment while its process runs (its HOME or config folder may be its
   * own). Call while the session is alive; later reads use what was captured.
   */
  capture(session: SessionInfo): void {
    const entry = this._entry(session);
    if (!entry || entry.agent || session.pid === null || session.ended_at !== null) return;
    // Right after the spawn the child may not have exec'd the agent yet: its environment is still
    // the spawner's. The agent drew something once the state is past `starting`.
    if (session.state === 'initializing' || session.state === 'starting') return;
    entry.agent = readAgentEnvironment(session.pid, envNamesOf(entry.spec.roots), this._env);
  }

  /** Refreshes and returns the session's records; null when its provider has none or none is found. */
  read(session: SessionInfo): SessionRecordView | null {
    const entry = this._entry(session);
    if (!entry) return null;
    this.capture(session);
    this._locate(entry, session);
    if (entry.readers.length === 0) return null;
    for (const reader of entry.readers) {
      reader.refresh();
      if (reader.error) entry.error = reader.error;
    }
    const latest = entry.readers[entry.readers.length - 1]!;
    return {
      format: entry.spec.format,
      files: entry.readers.map((r) => r.path),
      records: entry.readers.map((r) => r.state),
      conversation_id: latest.state.conversation_id ?? session.conversation_id ?? null,
      discovered: entry.discovered,
      error: entry.error,
    };
  }

  /** Forget a removed session. */
  forget(sessionId: string): void {
    this._entries.delete(sessionId);
  }

  private _entry(session: SessionInfo): Entry | null {
    let entry = this._entries.get(session.session_id);
    if (entry) return entry;
    const spec = this._providers.get(session.cli_tool)?.conversation?.record;
    if (!spec) return null;
    entry = {
      spec,
      agent: null,
      readers: [],
      ids: new Set(),
      discovered: false,
      lastLocateAt: 0,
      error: null,
    };
    this._entries.set(session.session_id, entry);
    return entry;
  }

  private _locate(entry: Entry, session: SessionInfo): void {
    const id = session.conversation_id ?? null;
    const known = id !== null && entry.ids.has(id);
    if (known) return;
    // A discovered record needs no new search until the agent reports an id of its own.
    if (id === null && entry.readers.length > 0) return;
    const now = Date.now();
    if (now - entry.lastLocateAt < RELOCATE_MS) return;
    entry.lastLocateAt = now;
    const agent = entry.agent ?? readAgentEnvironment(null, envNamesOf(entry.spec.roots), this._env);
    const query = {
      spec: entry.spec,
      agent,
      cwd: session.current_directory,
      startedAtMs: Date.parse(session.started_at ?? session.created_at),
    };
    if (id !== null) {
      const file = locateById({ ...query, conversationId: id });
      // No file of that id (yet): a discovered record still serves until it appears.
      if (!file) {
        if (entry.readers.length === 0) this._discover(entry, session, query);
        return;
      }
      entry.ids.add(id);
      // The agent's own word beats a discovery: drop a discovered file that is not this one.
      if (entry.discovered) entry.readers = entry.readers.filter((r) => r.path === file);
      entry.discovered = false;
      if (!entry.readers.some((r) => r.path === file))
        entry.readers.push(new RecordReader(file, RECORD_PARSERS[entry.spec.format]));
      this._log?.debug('record found', { session_id: session.session_id, conversation_id: id });
      return;
    }
    this._discover(entry, session, query);
  }

  private _discover(entry: Entry, session: SessionInfo, query: Omit<LocateQuery, 'conversationId'>): void {
    const claimed = new Set<string>();
    for (const [other, e] of this._entries)
      if (other !== session.session_id) for (const r of e.readers) claimed.add(r.path);
    const candidates = locateCandidates({ ...query, conversationId: null }).filter((f) => !claimed.has(f));
    if (candidates.length !== 1) {
      if (candidates.length > 1)
        entry.error = `${candidates.length} records fit this session; waiting for the agent to report its conversation id`;
      return;
    }
    entry.discovered = true;
    entry.error = null;
    entry.readers.push(new RecordReader(candidates[0]!, RECORD_PARSERS[entry.spec.format]));
  }
}
