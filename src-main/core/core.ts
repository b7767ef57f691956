import type { Registry } from 'prom-client';
import type { ProviderSummary } from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import type { AutoDevConfig } from './config.ts';
import { type ConversationService, createConversationService, SessionRecords } from './conversation/index.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { loadProviderRegistry, providerVersion } from './providers/index.ts';
import type { ProviderRegistry } from './providers/types.ts';
import { connectOrStartHost, type HostLaunchOptions } from './pty-host/host-launcher.ts';
import { type PtyHostStatus, SupervisedPtyHost } from './pty-host/supervised-host.ts';
import type { ReadStore } from './read-store.ts';
import { type RecoveryReport, runRecovery } from './recovery/index.ts';
import { createRedisBus, historySource, publishCommitted, type RedisBus } from './redis/index.ts';
import { createRedactor, type Redactor } from './security/redact.ts';
import { SessionNotFoundError } from './sessions/errors.ts';
import { createSessionManager } from './sessions/index.ts';
import { resumeSession, withResumable } from './sessions/resume.ts';
import type { SessionManager } from './sessions/types.ts';
import { createSignalService, type SignalService } from './signals/index.ts';
import {
  createHistory,
  createPersistence,
  createSessionStore,
  createTokenStore,
  type History,
  type OpenedDatabase,
  openDatabase,
  type Persistence,
  type TokenStore,
} from './store/index.ts';
import { lastStoredSeq } from './store/output-seq.ts';
import { createTaskService, type TaskService, tasksRecoverer } from './tasks/index.ts';
import { createUsageService, type UsageService } from './usage/index.ts';
import { Emitter, type Event } from './util/event.ts';
import { AUTODEV_VERSION } from './version.ts';
import {
  createMemoryRegistry,
  createSqliteRegistry,
  WorktreeService,
  type WorktreeServiceOptions,
} from './worktrees/index.ts';

export { AUTODEV_VERSION } from './version.ts';

/**
 * The composition root's product: every long-lived part of AutoDev, wired once. The headless server
 * (`autodev serve`) and the Electron shell both create one and hand it to their transports.
 */
export interface Core {
  readonly version: string;
  readonly config: AutoDevConfig;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly providers: ProviderRegistry;
  readonly sessions: SessionManager;
  readonly database: OpenedDatabase | null;
  readonly history: History | null;
  readonly persistence: Persistence | null;
  /** Issued tokens (auth_tokens table) for revocation; null without persistence. */
  readonly tokens: TokenStore | null;
  /** Ended sessions, history, search, export and revocation, for the transports. */
  readonly store: ReadStore | null;
  /** Optional Redis fan-out (REDIS_URL / redis_url); null when not configured. */
  readonly redis: RedisBus | null;
  /** What start-up recovery found and did (null without persistence). */
  readonly recovery: RecoveryReport | null;
  /** The task runner (one-shot agent tasks); null without persistence. */
  readonly tasks: TaskService | null;
  /** The agents' own signals (per-session endpoint, relay, fusion); null when turned off. */
  readonly signals: SignalService | null;
  /** Sessions in their own git worktree: creation, changes, merge, cleanup (issue 14). */
  readonly worktrees: WorktreeService;
  /** Conversations with agents: send a prompt and get the answer, the turns of a session. */
  readonly conversations: ConversationService;
  /** Tokens and cost of interactive sessions from the agents' records, budgets; null without persistence. */
  readonly usage: UsageService | null;
  listProviders(): Promise<ProviderSummary[]>;
  hasProvider(id: string): boolean;
  /** A new session continuing an ended one's agent conversation (sessions/resume.ts). */
  resumeSession(sessionId: string, userId?: string): Promise<SessionInfo>;
  /** Recovery report entry for a session of a previous run, if any. */
  recoveryReport(sessionId: string): unknown | null;
  redisStatus(): { configured: boolean; connected: boolean };
  /** Live events beyond the manager's: task progress, persistence pause/resume. */
  readonly onLiveEvent: Event<LiveEvent>;
  /** Registers the task runner's collectors on a /metrics registry; returns an unregister function. */
  registerMetrics(registry: Registry): () => void;
  /** The PTY host process (null when PTYs live in this process). */
  ptyHostStatus(): PtyHostStatus | null;
  /** Sessions terminated (or, with keepSessions, left running in the PTY host), data flushed, Redis
   *  closed, database closed. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
}

export interface CreateCoreOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** In-memory only: no SQLite (tests of parts that do not need history). */
  persistence?: boolean;
  /** Start the task runner (default true with persistence). */
  tasks?: boolean;
  /** The agents' own signals (default true); false: screen rules only. */
  signals?: boolean;
  /** Manager tuning passed through (tests use short grace periods). */
  manager?: Partial<Parameters<typeof createSessionManager>[0]>;
  /** Where PTYs live (default: the config's `pty_host`, itself default 'process'). */
  ptyHost?: 'process' | 'in-process';
  /** How to start a PTY host process (the Electron shell runs its own binary). */
  hostCommand?: HostLaunchOptions['command'];
  /** Worktree service tuning (tests: watch debounce, diff caps). */
  worktrees?: Partial<
    Pick<WorktreeServiceOptions, 'watch' | 'diffLimits' | 'retentionIntervalMs' | 'now' | 'git'>
  >;
}

export interface CloseOptions {
  /** Leave the agents running in the PTY host for the next start (default: the config's keep_sessions). */
  keepSessions?: boolean;
}

/** ProviderSummary for each provider: binary found, path, version, env keys present (names only). */
export async function summarizeProviders(
  registry: ProviderRegistry,
  env: NodeJS.ProcessEnv,
  versionCache?: Map<string, string | null>,
): Promise<ProviderSummary[]> {
  return Promise.all(
    registry.list().map(async (def) => {
      const resolved = await registry.resolveBinary(def.id);
      let version: string | null = null;
      if (resolved.path) {
        const key = `${def.id}\0${resolved.path}`;
        if (versionCache?.has(key)) version = versionCache.get(key) ?? null;
        else {
          version = (await providerVersion(def, resolved.path, { timeoutMs: 5000 })).version;
          versionCache?.set(key, version);
        }
      }
      return {
        id: def.id,
        name: def.name,
        binary: def.binary,
        installed: resolved.path !== null,
        resolved_path: resolved.path,
        version,
        env_keys: [...def.env_keys],
        env_missing: def.env_keys.filter((k) => !env[k]),
        supports_one_shot: def.one_shot !== null,
        supports_full_access: def.full_access_args.length > 0,
      };
    }),
  );
}

/**
 * Wire providers → store + persistence (the command journal) → session manager. Order matters: the
 * journal must exist before the manager (input is journaled before it reaches a PTY), and persistence
 * attaches to the manager's events before any session is created.
 */
export async function createCore(config: AutoDevConfig, options: CreateCoreOptions = {}): Promise<Core> {
  const env = options.env ?? process.env;
  const providers = loadProviderRegistry({
    env,
    ...(config.providersFile !== undefined ? { configFile: config.providersFile } : {}),
  });
  // Exact values of every provider's keys (bundled and user-configured), of the signing secret and of
  // every secret-looking variable of AutoDev's own environment (…KEY, …SECRET, …TOKEN, …PASSWORD…)
  // are redacted wherever they appear.
  const secretNames = new Set(['JWT_SECRET', ...providers.list().flatMap((p) => p.env_keys)]);
  const secrets = [...secretNames]
    .map((k) => env[k])
    .filter((v): v is string => typeof v === 'string' && v.length >= 8);
  const redactor = createRedactor({ secrets, env });
  const logger = options.logger ?? createLogger({ level: config.logLevel, redactor });
  const log = logger.child({ component: 'core' });
  for (const e of (providers as { errors?: readonly { file: string; path: string; message: string }[] })
    .errors ?? []) {
    log.warn('provider config error', { file: e.file, path: e.path, message: e.message });
  }

  // The PTY host: sessions it kept running while no core was attached are taken over below; recovery
  // leaves them alone. First of all: a host this version cannot take over stops the start before
  // anything is opened.
  let host: SupervisedPtyHost | null = null;
  if ((options.ptyHost ?? config.ptyHost) === 'process') {
    const launch: HostLaunchOptions = {
      dataDir: config.dataDir,
      logger: logger.child({ component: 'pty-host' }),
      clientName: `autodev core ${AUTODEV_VERSION} pid ${process.pid}`,
      ...(options.hostCommand ? { command: options.hostCommand } : {}),
    };
    host = new SupervisedPtyHost(await connectOrStartHost(launch), launch);
  }
  let database: OpenedDatabase | null = null;
  let history: History | null = null;
  let persistence: Persistence | null = null;
  let instanceId: string | null = null;
  if (options.persistence !== false) {
    database = openDatabase({ schemaDir: config.schemaDir, dataDir: config.dataDir, env, logger: log });
    const store = createSessionStore(database.db);
    instanceId = store.instanceId;
    persistence = createPersistence(store, {
      logger: logger.child({ component: 'persistence' }),
      // Commands and output are redacted with the core's redactor (output by a stream redactor per
      // session, before the spool); storing the spool and indexing it run in a worker thread
      // (store/persistence.ts); the command journal stays synchronous on this thread.
      redactor,
      offThread: true,
      // Where commands wait when the data disk is full (default: the system temp directory).
      ...(env.AUTODEV_SPILL_DIR ? { spillDir: env.AUTODEV_SPILL_DIR } : {}),
    });
    // History reads include output spooled but not stored yet (nothing missing in between).
    history = createHistory(database.db, { pending: persistence.pending });
  }

  const hostSessions = host?.welcome?.sessions ?? [];

  // Redis (optional) and start-up recovery run before the manager exists, so nothing new is started
  // while leftovers of the previous run are being killed and marked interrupted.
  let redis: RedisBus | null = null;
  let recovery: RecoveryReport | null = null;
  let tasks: TaskService | null = null;
  if (database && history && instanceId) {
    if (config.redisUrl) {
      redis = createRedisBus({
        url: config.redisUrl,
        instanceId,
        logger: logger.child({ component: 'redis' }),
        // Redis resyncs from committed rows only (what it publishes), never the spooled tail.
        source: historySource(createHistory(database.db)),
      });
      await redis.connect();
    }
    recovery = await runRecovery({
      db: database.db,
      keepAlive: new Set(hostSessions.map((h) => h.session_id)),
      redis,
      recoverers: options.tasks === false ? [] : [tasksRecoverer],
      logger: logger.child({ component: 'recovery' }),
      instanceId,
    });
    if (options.tasks !== false) {
      const { api_fallback: apiFallback, ...taskLimits } = config.tasks;
      tasks = createTaskService({
        db: database.db,
        providers,
        logger: logger.child({ component: 'tasks' }),
        redactor,
        env,
        limits: Object.fromEntries(Object.entries(taskLimits).filter(([, v]) => v !== undefined)),
        ...(apiFallback !== undefined ? { apiFallback } : {}),
        ...(config.redisUrl ? { redis: { url: config.redisUrl } } : {}),
      });
    }
  }

  // The signal endpoint exists before any session: a session's wiring names its manifest and relay.
  let signals: SignalService | null = null;
  if (options.signals !== false) {
    try {
      signals = await createSignalService({ dataDir: config.dataDir, logger });
    } catch (error) {
      log.error('signals unavailable; screen rules only', { error });
    }
  }

  let usage: UsageService | null = null;
  const sessions = createSessionManager({
    providers,
    logger,
    env,
    ...(signals ? { signals } : {}),
    limits: {
      ...Object.fromEntries(Object.entries(config.limits).filter(([, v]) => v !== undefined)),
    },
    ...(persistence ? { journal: persistence.journal } : {}),
    ...(host ? { host } : {}),
    // Budgets (usage service, created below) may stop new prompts.
    admitCommand: (session) => usage?.admitTurn(session) ?? null,
    redactLine: (line) => redactor.redact(line),
    ...options.manager,
  });
  const persistenceAttachment = persistence?.attach(sessions) ?? null;
  // The host keeps output until it is durable here (in the spool file: a kill -9 of this process
  // loses none of it), so a crash of this process loses nothing the agents printed.
  const acks = host
    ? persistence
      ? persistence.onDidSpoolOutput((e) => host.ackPersisted(e.session_id, e.seq))
      : sessions.onOutput((chunk) => host.ackPersisted(chunk.session_id, chunk.seq))
    : null;
  // Take over what the host kept running; sessions unknown to this database are not ours to keep.
  if (host && hostSessions.length > 0) {
    const entries = [];
    for (const h of hostSessions) {
      const stored = history?.getSession(h.session_id);
      if (!stored || !database) {
        log.warn('the PTY host runs a session this database does not know; ending it', {
          session_id: h.session_id,
        });
        await host.kill(h.session_id, config.limits.terminate_grace_ms ?? 3000).catch(() => {});
        host.release(h.session_id);
        continue;
      }
      entries.push({ info: stored, after_seq: lastStoredSeq(database.db, h.session_id) });
    }
    const adopted = await sessions.adopt(entries);
    log.info('reattached sessions the PTY host kept running', { sessions: adopted.length });
  }

  // Conversations and usage read the agents' own records; one reader per session serves both.
  const records = new SessionRecords({ providers, env, logger: logger.child({ component: 'records' }) });
  const storedSession = (id: string) => history?.getSession(id) ?? undefined;
  if (database) {
    usage = createUsageService({
      db: database.db,
      sessions,
      records,
      providers,
      storedSession,
      budgets: config.usage.budgets ?? {},
      ...(config.usage.scan_interval_s !== undefined
        ? { scanIntervalMs: config.usage.scan_interval_s * 1000 }
        : {}),
      logger: logger.child({ component: 'usage' }),
    });
  }
  const conversations = createConversationService({
    sessions,
    records,
    providers,
    storedSession,
    admitTurn: (session) => usage?.admitTurn(session) ?? null,
    logger: logger.child({ component: 'conversations' }),
  });

  const redisPublishing = persistence && redis ? publishCommitted(persistence, redis) : null;
  const liveEvents = new Emitter<LiveEvent>();
  conversations.onTurn((turn) => liveEvents.fire({ kind: 'conversation', turn }));
  usage?.onDidChangeUsage((u) => liveEvents.fire({ kind: 'usage', usage: u }));
  usage?.onBudget((budget) => {
    log.warn('usage budget reached', { ...budget });
    liveEvents.fire({ kind: 'budget', budget });
  });
  tasks?.onDidChangeTask((task) => liveEvents.fire({ kind: 'task', task }));
  persistence?.onDidChangeStatus((status) =>
    liveEvents.fire({ kind: 'persistence', paused: !status.ok, reason: status.paused_reason }),
  );
  host?.onDidChangeStatus((status) => liveEvents.fire({ kind: 'pty_host', status }));

  // Above the manager: sessions that run in their own worktree. Start-up lists the worktrees of
  // sessions that never ended (a crash) and applies retention; it never deletes anything else.
  const worktrees = new WorktreeService({
    sessions,
    registry: database ? createSqliteRegistry(database.db) : createMemoryRegistry(),
    root: config.worktrees.root,
    retentionDays: config.worktrees.retentionDays,
    repositories: config.worktrees.repositories,
    logger,
    publish: (event) => liveEvents.fire(event),
    ...(history ? { storedSession: (id: string) => history!.getSession(id) } : {}),
    env,
    ...options.worktrees,
  });
  await worktrees.start();

  const tokens = database ? createTokenStore(database.db) : null;
  const store: ReadStore | null =
    history && persistence && tokens
      ? {
          isTokenRevoked: (jti) => tokens.isRevoked(jti),
          revokeToken: (jti) => void tokens.revoke(jti),
          recordToken: (t) =>
            tokens.record({
              jti: t.jti,
              subject: t.sub,
              scope: t.scope,
              issued_at: new Date(t.iat * 1000).toISOString(),
              expires_at: new Date(t.exp * 1000).toISOString(),
            }),
          listSessions: (query) => {
            const page = history!.listSessions(query);
            return { ...page, items: page.items.map((s) => withResumable(s, providers)) };
          },
          getSession: (id) => {
            const s = history!.getSession(id);
            return s && withResumable(s, providers);
          },
          history: (id, query) => history!.entries(id, query).items,
          search: (query) => history!.search(query),
          exportSession: (id, format) =>
            format === 'json'
              ? JSON.stringify(history!.exportJson(id) ?? null, null, 2)
              : (history!.exportTranscript(id) ?? ''),
          status: () => ({ ok: persistence!.status.ok, paused_reason: persistence!.status.paused_reason }),
        }
      : null;

  const versionCache = new Map<string, string | null>();
  let closing: Promise<void> | null = null;
  log.info('core ready', {
    data_dir: config.dataDir,
    persistence: database !== null,
    providers: providers.list().length,
  });

  return {
    version: AUTODEV_VERSION,
    config,
    logger,
    redactor,
    providers,
    sessions,
    database,
    history,
    persistence,
    tokens,
    store,
    redis,
    recovery,
    tasks,
    signals,
    worktrees,
    conversations,
    usage,
    registerMetrics: (registry: Registry) => {
      const undo = [tasks?.registerCollectors(registry), usage?.registerCollectors(registry)];
      return () => {
        for (const u of undo) u?.();
      };
    },
    onLiveEvent: liveEvents.event,
    listProviders: () => summarizeProviders(providers, env, versionCache),
    hasProvider: (id) => providers.get(id) !== undefined,
    recoveryReport: (sessionId) =>
      recovery?.interrupted_session_ids.includes(sessionId)
        ? {
            interrupted: true,
            recovered_at: recovery.started_at,
            detail: 'AutoDev stopped while this session was live',
          }
        : null,
    redisStatus: () => ({ configured: redis !== null, connected: redis?.status.connected ?? false }),
    ptyHostStatus: () => host?.status ?? null,
    async resumeSession(sessionId, userId) {
      const session = sessions.get(sessionId) ?? store?.getSession(sessionId);
      if (!session) throw new SessionNotFoundError(sessionId);
      return resumeSession({ sessions, providers }, session, userId);
    },
    close(closeOptions: CloseOptions = {}) {
      const keep = host !== null && (closeOptions.keepSessions ?? config.keepSessions ?? false);
      closing ??= (async () => {
        log.info('core shutting down', { sessions: sessions.list().length, keep_sessions: keep });
        // 0. Tasks stop taking work; running ones go back to the queue for the next start.
        try {
          await tasks?.shutdown({ requeue: true });
        } catch (error) {
          log.error('task shutdown failed', { error });
        }
        // 1. Sessions: SIGTERM every process group, SIGKILL after the grace, final output emitted —
        //    or, keeping them, stop listening and leave them to the PTY host.
        try {
          if (keep) await sessions.detach();
          else await sessions.shutdown();
        } catch (error) {
          log.error('session shutdown failed', { error });
        }
        try {
          await signals?.close();
        } catch (error) {
          log.error('signals close failed', { error });
        }
        // 1b. Worktree watchers (the ended sessions were recorded as ended just now).
        await worktrees.close();
        conversations.dispose();
        usage?.dispose();
        // 2. Data: flush buffered output and commands (and tell the host what is stored).
        persistenceAttachment?.dispose();
        persistence?.close();
        acks?.dispose();
        if (host && !keep) await host.shutdown(false);
        // 3. Redis after the last publish; then the database (WAL checkpoint).
        redisPublishing?.dispose();
        try {
          await redis?.close();
        } catch (error) {
          log.error('redis close failed', { error });
        }
        database?.close();
        liveEvents.dispose();
        log.info('core closed');
      })();
      return closing;
    },
  };
}
