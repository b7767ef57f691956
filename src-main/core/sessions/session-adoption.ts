import type { SessionInfo, SessionState } from '../../../src-shared/session.ts';
import type { ProviderDefinition, ProviderRegistry } from '../providers/types.ts';
import type { HostExit, PtyHost } from '../pty-host/types.ts';
import { SessionCoreError } from './errors.ts';
import { bootId } from './process-tree.ts';
import { nowIso, type SessionRecord, snapshotInfo, stateReason } from './session-record.ts';
import type { AdoptEntry } from './types.ts';

/** What taking sessions over needs from the manager. */
export interface AdoptionContext {
  readonly providers: Pick<ProviderRegistry, 'get'>;
  readonly host: PtyHost;
  readonly sessions: Map<string, SessionRecord>;
  recordFor(info: SessionInfo, provider: ProviderDefinition, afterSeq: number): SessionRecord;
  recordError(rec: SessionRecord, error: SessionCoreError): void;
  stateChanged(rec: SessionRecord, previous: SessionState): void;
  exited(rec: SessionRecord, exit: HostExit): void;
  /** Sessions are live: start the shared timers. */
  started(): void;
}

/**
 * Take over sessions the PTY host kept running while no core was attached (an app restart, an
 * upgrade): the same ids, their output after the last stored seq replayed by the host (so history is
 * contiguous), the state the screen shows now, and a reason saying the app was away and for how long.
 */
export async function adoptSessions(ctx: AdoptionContext, entries: AdoptEntry[]): Promise<SessionInfo[]> {
  const adopted: SessionInfo[] = [];
  for (const entry of entries) {
    const info = entry.info;
    const provider = ctx.providers.get(info.cli_tool);
    if (!provider || ctx.sessions.has(info.session_id)) continue;
    const rec = ctx.recordFor(
      { ...info, command_history: [...info.command_history] },
      provider,
      entry.after_seq,
    );
    ctx.sessions.set(info.session_id, rec);
    const awaySince = info.last_activity;
    let attached: Awaited<ReturnType<PtyHost['attach']>>;
    try {
      attached = await ctx.host.attach(info.session_id, entry.after_seq);
    } catch (error) {
      ctx.sessions.delete(info.session_id);
      rec.log.error('could not take over a session from the PTY host', { error });
      continue;
    }
    const { state } = attached;
    rec.spawned = true;
    rec.startedAtMs = info.started_at ? Date.parse(info.started_at) : Date.now();
    rec.info.pid = state.pid;
    rec.info.cols = state.cols;
    rec.info.rows = state.rows;
    rec.info.title = state.title;
    rec.spawn = {
      session_id: info.session_id,
      pid: state.pid,
      pgid: state.pid,
      start_ticks: state.start_ticks,
      boot_id: bootId(),
      at: info.started_at ?? nowIso(),
    };
    if (attached.dropped_through > entry.after_seq) {
      const error = new SessionCoreError(
        `output ${entry.after_seq + 1}–${attached.dropped_through} was lost while AutoDev was away (the PTY host's spool was full)`,
        'PERSISTENCE_PAUSED',
      );
      ctx.recordError(rec, error);
      rec.log.warn('output lost while the app was away', {
        from: entry.after_seq + 1,
        to: attached.dropped_through,
      });
    }
    // The app was away: say so in the session's history, with the state the screen shows now.
    const away = Math.max(0, Math.round((Date.now() - Date.parse(awaySince)) / 1000));
    const previous = rec.info.state;
    rec.info.state = state.exited ? previous : state.detection.state;
    rec.info.authentication_required = state.detection.authentication_required;
    rec.info.auth_prompt = state.detection.auth_prompt;
    rec.info.state_reason = stateReason(
      'recovery',
      `reattached after AutoDev restarted (away about ${away} s); ${state.detection.reason.detail}`,
      'reattached',
    );
    ctx.stateChanged(rec, previous);
    if (attached.exit) ctx.exited(rec, attached.exit);
    adopted.push(snapshotInfo(rec));
  }
  if (adopted.length > 0) ctx.started();
  return adopted;
}
