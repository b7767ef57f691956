import type { Database } from 'better-sqlite3';
import {
  bootId as currentBootId,
  killRecordedTree as defaultKillRecordedTree,
  type KillTreeResult,
  type RecordedTree,
} from '../sessions/process-tree.ts';
import { type CgroupSweepResult, sweepOrphanedSessionCgroups } from '../sessions/session-containment.ts';
import { isoNow, type LoggerLike, silentLogger } from '../store/types.ts';

/** A part of the app that repairs its own rows at start-up (tasks re-queue queued/running tasks…). */
export interface Recoverer {
  name: string;
  /** Counts per category ({ requeued: 2, failed: 1 }), shown in the report. */
  run(db: Database): Record<string, number> | Promise<Record<string, number>>;
}

/** What the Redis side needs to cross-check (createRedisBus provides it). */
export interface RedisReconciler {
  reconcile(truth: RedisTruth): Promise<{ checked: number; repaired: number; orphans_removed: number }>;
}

/** SQLite's view of one session, for the Redis cross-check (SQLite wins). */
export type RedisTruth = (
  sessionId: string,
) => { state: string; ended: boolean; owner: string | null } | undefined;

export interface RecoveryOptions {
  db: Database;
  redis?: RedisReconciler | null;
  /** Default: the session core's killRecordedTree (start-time and boot-id guarded). */
  killRecordedTree?: (record: RecordedTree) => Promise<KillTreeResult>;
  /** Default: the session core's sweep of session cgroups left by dead AutoDev processes. */
  sweepCgroups?: () => Promise<CgroupSweepResult>;
  recoverers?: Recoverer[];
  logger?: LoggerLike;
  /** This installation's id (app_meta instance_id); recorded in the report. */
  instanceId?: string;
  /** For tests: the boot id to compare ledger rows with. */
  bootId?: string;
  /** Sessions still running in the PTY host (the app restarted, the agents did not): neither their
   *  trees nor their rows are touched; the core takes them over. */
  keepAlive?: ReadonlySet<string>;
}

export interface RecoveryReport {
  started_at: string;
  duration_ms: number;
  instance_id: string | null;
  sessions_interrupted: number;
  interrupted_session_ids: string[];
  /** Sessions the PTY host kept running, left to the core to take over. */
  sessions_kept: number;
  processes: {
    /** Unreleased ledger rows found (trees the last run did not see end). */
    ledger_entries: number;
    /** Rows of an earlier boot: those processes cannot exist any more. */
    previous_boot: number;
    /** Processes signalled, and how many needed SIGKILL. */
    killed: number;
    escalated: number;
    /** Processes that would not die. */
    survivors: number;
    /** Session cgroups of dead AutoDev processes found (their members are in the counts above), and
     *  cgroup directories removed (sessions and run directories). */
    orphaned_cgroups: number;
    cgroups_removed: number;
  };
  redis: {
    configured: boolean;
    checked: number;
    repaired: number;
    orphans_removed: number;
    error: string | null;
  };
  recoverers: Record<string, Record<string, number> | { error: string }>;
  errors: string[];
}

const INTERRUPTED_DETAIL = 'interrupted: AutoDev stopped while this session was live; exit status unknown';

/**
 * Start-up recovery, before the manager accepts new sessions:
 * 1. kill leftover process trees of the previous run: first everything in the session cgroups of dead
 *    AutoDev processes (then those empty cgroups are removed), then what the process ledger names —
 *    only processes whose start time and boot id still match (a recycled PID is never signalled);
 * 2. mark sessions that were live as terminated, reason "interrupted", exit unknown (source recovery);
 * 3. cross-check Redis against SQLite (SQLite wins) and remove orphaned keys;
 * 4. run pluggable recoverers (tasks…);
 * then log the report and store it in recovery_reports. Never throws: a failing step is reported.
 */
export async function runRecovery(options: RecoveryOptions): Promise<RecoveryReport> {
  const { db } = options;
  const logger = options.logger ?? silentLogger;
  const kill = options.killRecordedTree ?? ((r: RecordedTree) => defaultKillRecordedTree(r));
  const boot = options.bootId ?? currentBootId();
  const t0 = performance.now();
  const report: RecoveryReport = {
    started_at: isoNow(),
    duration_ms: 0,
    instance_id: options.instanceId ?? null,
    sessions_interrupted: 0,
    interrupted_session_ids: [],
    sessions_kept: 0,
    processes: {
      ledger_entries: 0,
      previous_boot: 0,
      killed: 0,
      escalated: 0,
      survivors: 0,
      orphaned_cgroups: 0,
      cgroups_removed: 0,
    },
    redis: { configured: Boolean(options.redis), checked: 0, repaired: 0, orphans_removed: 0, error: null },
    recoverers: {},
    errors: [],
  };

  // 1. Leftover process trees: the cgroups (which hold every descendant), then the ledger's lookups.
  try {
    const swept = await (
      options.sweepCgroups ??
      (() =>
        sweepOrphanedSessionCgroups({
          log: (event, fields) => logger.warn(event, fields),
        }))
    )();
    report.processes.orphaned_cgroups = swept.cgroups;
    report.processes.cgroups_removed = swept.removed;
    report.processes.killed += swept.killed;
    report.processes.escalated += swept.escalated;
    report.processes.survivors += swept.survivors;
  } catch (error) {
    report.errors.push(`session cgroups: ${String(error)}`);
  }
  try {
    const allRows = db
      .prepare(
        'SELECT id, session_id, pid, pgid, start_ticks, boot_id FROM process_ledger WHERE released_at IS NULL',
      )
      .all() as (RecordedTree & { id: number })[];
    const keep = options.keepAlive ?? new Set<string>();
    const rows = allRows.filter((r) => !keep.has(r.session_id));
    report.processes.ledger_entries = rows.length;
    const release = db.prepare(
      'UPDATE process_ledger SET released_at = ?, release_reason = ? WHERE id = ? AND released_at IS NULL',
    );
    const results = await Promise.all(
      rows.map(async (row) => {
        if (row.boot_id !== boot) return { row, reason: 'recovery: previous boot', result: null };
        try {
          const result = await kill(row);
          return {
            row,
            reason: result.signalled > 0 ? 'recovery: killed leftovers' : 'recovery: none left',
            result,
          };
        } catch (error) {
          report.errors.push(`kill tree of ${row.session_id}: ${String(error)}`);
          return { row, reason: 'recovery: kill failed', result: null };
        }
      }),
    );
    db.transaction(() => {
      const at = isoNow();
      for (const { row, reason, result } of results) {
        if (result === null && reason === 'recovery: previous boot') report.processes.previous_boot++;
        if (result) {
          report.processes.killed += result.signalled;
          report.processes.escalated += result.escalated.length;
          report.processes.survivors += result.survivors.length;
          if (result.survivors.length > 0) continue; // keep the row: try again next start
        }
        release.run(at, reason, row.id);
      }
    }).immediate();
  } catch (error) {
    report.errors.push(`process ledger: ${String(error)}`);
  }

  // 2. Sessions live when the app died.
  try {
    db.transaction(() => {
      const live = db
        .prepare(
          `SELECT session_id, last_activity FROM cli_sessions
           WHERE ended_at IS NULL AND state NOT IN ('completed', 'terminated')`,
        )
        .all() as { session_id: string; last_activity: string }[];
      const now = isoNow();
      const mark = db.prepare(`
        UPDATE cli_sessions SET state = 'terminated', state_reason = ?, ended_at = ?, exit_code = NULL,
          exit_signal = NULL, authentication_required = 0, auth_prompt = NULL
        WHERE session_id = ?`);
      for (const s of live) {
        if (options.keepAlive?.has(s.session_id)) {
          report.sessions_kept++;
          continue;
        }
        const reason = { source: 'recovery', rule: 'interrupted', detail: INTERRUPTED_DETAIL, at: now };
        // ended_at: the last evidence of life we have (the process may have lingered until step 1).
        mark.run(JSON.stringify(reason), s.last_activity, s.session_id);
        report.interrupted_session_ids.push(s.session_id);
      }
      report.sessions_interrupted = report.interrupted_session_ids.length;
      // Rows in a final state without an end time (should not happen) get one.
      db.prepare(
        `UPDATE cli_sessions SET ended_at = last_activity WHERE ended_at IS NULL AND state IN ('completed', 'terminated')`,
      ).run();
    }).immediate();
  } catch (error) {
    report.errors.push(`sessions: ${String(error)}`);
  }

  // 3. Redis, with SQLite as the truth.
  if (options.redis) {
    try {
      const lookup = db.prepare(
        'SELECT state, ended_at, owner_instance FROM cli_sessions WHERE session_id = ?',
      );
      const truth: RedisTruth = (sessionId) => {
        const row = lookup.get(sessionId) as
          | { state: string; ended_at: string | null; owner_instance: string | null }
          | undefined;
        return row && { state: row.state, ended: row.ended_at !== null, owner: row.owner_instance };
      };
      const r = await options.redis.reconcile(truth);
      report.redis = { ...report.redis, ...r };
    } catch (error) {
      report.redis.error = String(error);
      report.errors.push(`redis: ${String(error)}`);
    }
  }

  // 4. The other parts' recoverers.
  for (const recoverer of options.recoverers ?? []) {
    try {
      report.recoverers[recoverer.name] = await recoverer.run(db);
    } catch (error) {
      report.recoverers[recoverer.name] = { error: String(error) };
      report.errors.push(`${recoverer.name}: ${String(error)}`);
    }
  }

  report.duration_ms = Math.round(performance.now() - t0);
  try {
    db.prepare(
      'INSERT INTO recovery_reports (instance_id, started_at, duration_ms, report) VALUES (?, ?, ?, ?)',
    ).run(report.instance_id, report.started_at, report.duration_ms, JSON.stringify(report));
  } catch (error) {
    report.errors.push(`store report: ${String(error)}`);
  }
  const summary = {
    sessions_interrupted: report.sessions_interrupted,
    ...report.processes,
    redis: report.redis,
    recoverers: report.recoverers,
    duration_ms: report.duration_ms,
    errors: report.errors,
  };
  if (report.errors.length > 0) logger.warn('recovery finished with errors', summary);
  else logger.info('recovery finished', summary);
  return report;
}

/** The latest stored reports, newest first (diagnostics). */
export function recentRecoveryReports(db: Database, limit = 10): RecoveryReport[] {
  return (
    db
      .prepare('SELECT report FROM recovery_reports ORDER BY started_at DESC, id DESC LIMIT ?')
      .all(limit) as {
      report: string;
    }[]
  ).map((r) => JSON.parse(r.report) as RecoveryReport);
}
