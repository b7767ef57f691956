import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LOG_LEVELS } from './log/logger.ts';

/**
 * The AutoDev config file (`autodev serve --config FILE`, default `<dataDir>/config.yaml` when present).
 * Strict: a misspelt key is an error naming its path, not a silently ignored setting. Provider
 * definitions live in their own file (`providers_file`, default ~/.autodev/providers.yaml).
 *
 *   server: { host: 127.0.0.1, port: 8001, allowed_origins: [app://bundle] }
 *   redis_url: redis://127.0.0.1:6379
 *   limits: { max_sessions: 20, idle_timeout_s: 3600 }
 *   tasks: { per_user_per_hour: 10, global_concurrency: 4, per_provider: { claude: 2 }, api_fallback: true }
 *   worktrees: { root: ~/wt, retention_days: 14, repositories: [{ path: /src/app, setup: [npm, ci], include: [.env] }] }
 */
export const ConfigFileSchema = z.strictObject({
  /** Where PTYs live: a separate host process that outlives the app (default), or this process. */
  pty_host: z.enum(['process', 'in-process']).optional(),
  /** On shutdown (SIGTERM, quit), leave agents running in the PTY host for the next start. */
  keep_sessions: z.boolean().optional(),
  data_dir: z.string().min(1).optional(),
  log_level: z.enum(LOG_LEVELS).optional(),
  providers_file: z.string().min(1).optional(),
  redis_url: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .nullable()
    .optional(),
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      allow_lan: z.boolean().optional(),
      allowed_origins: z
        .array(z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i, 'must be scheme://host[:port]'))
        .optional(),
      allowed_hosts: z.array(z.string().min(1).max(255)).optional(),
      heartbeat_ms: z.number().int().min(100).max(600_000).optional(),
      max_connections_per_session: z.number().int().min(1).max(100).optional(),
      dashboard_dir: z.string().min(1).nullable().optional(),
    })
    .optional(),
  /** The one-shot task queue's limits (per instance; the rate limit is per user). */
  tasks: z
    .strictObject({
      per_user_per_hour: z.number().int().min(1).max(100_000).optional(),
      global_concurrency: z.number().int().min(1).max(256).optional(),
      per_provider: z.record(z.string(), z.number().int().min(1).max(256)).optional(),
      /** A provider whose CLI is not installed runs its tasks through its API (claude → Anthropic
       *  Messages API) when its key is set. Default true; false turns the fallback off. */
      api_fallback: z.boolean().optional(),
    })
    .optional(),
  /** Sessions in their own git worktree (issue 14). */
  worktrees: z
    .strictObject({
      /** Managed folder: `<root>/<repo>-<hash>/<branch>`. Default `<data dir>/worktrees`. */
      root: z.string().min(1).optional(),
      /** Remove merged, clean worktrees of sessions ended this many days ago; null/absent: never. */
      retention_days: z.number().positive().max(36_500).nullable().optional(),
      /** Per repository (its main working tree): set-up argv and files copied into each new worktree. */
      repositories: z
        .array(
          z.strictObject({
            path: z.string().min(1),
            setup: z.array(z.string().min(1)).min(1).optional(),
            include: z.array(z.string().min(1)).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  /** Interactive sessions' tokens and cost (issue #15): optional budgets, how often records are read. */
  usage: z
    .strictObject({
      budgets: z
        .strictObject({
          /** USD per local day over every session. */
          daily_usd: z.number().positive().nullable().optional(),
          /** USD per session. */
          session_usd: z.number().positive().nullable().optional(),
          /** warn (default): announce it; stop: also refuse new turns (API messages, `command`). */
          action: z.enum(['warn', 'stop']).optional(),
        })
        .optional(),
      scan_interval_s: z.number().min(1).max(3600).optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      max_sessions: z.number().int().min(1).max(1000).optional(),
      idle_timeout_s: z.number().positive().nullable().optional(),
      max_run_time_s: z.number().positive().nullable().optional(),
      max_memory_mb: z.number().positive().nullable().optional(),
      max_cpu_percent: z.number().positive().nullable().optional(),
      max_fds: z.number().int().positive().nullable().optional(),
      terminate_grace_ms: z.number().int().min(0).max(60_000).optional(),
    })
    .optional(),
});
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

export interface AutoDevConfig {
  dataDir: string;
  /** The config file that was read, if any. */
  configFile: string | null;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Provider definitions file; undefined = the provider registry's default lookup. */
  providersFile: string | undefined;
  /** null = Redis not configured (SQLite only). */
  redisUrl: string | null;
  /** Directory of NNN_name.sql migrations. */
  schemaDir: string;
  server: {
    host: string;
    port: number;
    allowLan: boolean;
    allowedOrigins: string[];
    allowedHosts: string[];
    heartbeatMs: number | undefined;
    maxConnectionsPerSession: number | undefined;
    dashboardDir: string | null | undefined;
  };
  limits: NonNullable<ConfigFile['limits']>;
  tasks: NonNullable<ConfigFile['tasks']>;
  usage: NonNullable<ConfigFile['usage']>;
  ptyHost: 'process' | 'in-process';
  /** Leave agents running on shutdown; undefined when not set (the desktop app then asks). */
  keepSessions: boolean | undefined;
  worktrees: {
    root: string;
    retentionDays: number | null;
    repositories: { path: string; setup?: string[] | undefined; include?: string[] | undefined }[];
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadConfigOptions {
  /** `--keep-sessions`; beats the file. */
  keepSessions?: boolean;
  /** `--data-dir`; beats the file and AUTODEV_DATA_DIR. */
  dataDir?: string;
  /** `--config`; must exist when given. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line overrides (host, port, allowLan), applied last. */
  server?: Partial<Pick<AutoDevConfig['server'], 'host' | 'port' | 'allowLan'>>;
}

/** The repository's (or the installed package's) schema/ directory. */
export function defaultSchemaDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(here, up, 'schema');
    if (existsSync(candidate)) return candidate;
  }
  return path.resolve(here, '../..', 'schema');
}

/**
 * Resolve the configuration: defaults < config file < environment (AUTODEV_DATA_DIR, REDIS_URL,
 * AUTODEV_LOG_LEVEL) < command-line options. Throws ConfigError naming the file and field on bad input.
 */
export function loadConfig(options: LoadConfigOptions = {}): AutoDevConfig {
  const env = options.env ?? process.env;
  const home = env['HOME'] && env['HOME'].length > 0 ? env['HOME'] : os.homedir();
  const envDataDir = env['AUTODEV_DATA_DIR'];
  let dataDir = path.resolve(options.dataDir ?? envDataDir ?? path.join(home, '.autodev'));

  let file: ConfigFile = {};
  let configFile: string | null = null;
  const candidate = options.configFile ?? path.join(dataDir, 'config.yaml');
  if (options.configFile !== undefined && !existsSync(options.configFile)) {
    throw new ConfigError(`config file ${options.configFile} does not exist`);
  }
  if (existsSync(candidate)) {
    configFile = path.resolve(candidate);
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(configFile, 'utf8')) ?? {};
    } catch (error) {
      throw new ConfigError(`${configFile}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const parsed = ConfigFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new ConfigError(`${configFile}: ${issues}`);
    }
    file = parsed.data;
    if (file.data_dir && options.dataDir === undefined && envDataDir === undefined) {
      dataDir = path.resolve(path.dirname(configFile), file.data_dir);
    }
  }

  const redisFromEnv = env['REDIS_URL'];
  const levelFromEnv = env['AUTODEV_LOG_LEVEL'];
  const logLevel =
    levelFromEnv && (LOG_LEVELS as readonly string[]).includes(levelFromEnv)
      ? (levelFromEnv as AutoDevConfig['logLevel'])
      : (file.log_level ?? 'info');
  return {
    dataDir,
    configFile,
    logLevel,
    providersFile: file.providers_file,
    redisUrl: redisFromEnv && redisFromEnv.length > 0 ? redisFromEnv : (file.redis_url ?? null),
    schemaDir: defaultSchemaDir(),
    server: {
      host: options.server?.host ?? file.server?.host ?? '127.0.0.1',
      port: options.server?.port ?? file.server?.port ?? 8001,
      allowLan: options.server?.allowLan ?? file.server?.allow_lan ?? false,
      allowedOrigins: file.server?.allowed_origins ?? [],
      allowedHosts: file.server?.allowed_hosts ?? [],
      heartbeatMs: file.server?.heartbeat_ms,
      maxConnectionsPerSession: file.server?.max_connections_per_session,
      dashboardDir: file.server?.dashboard_dir,
    },
    limits: file.limits ?? {},
    ptyHost: file.pty_host ?? 'process',
    keepSessions: options.keepSessions ?? file.keep_sessions,
    tasks: file.tasks ?? {},
    worktrees: {
      // Relative paths in the file are relative to the file.
      root: file.worktrees?.root
        ? path.resolve(configFile ? path.dirname(configFile) : dataDir, file.worktrees.root)
        : path.join(dataDir, 'worktrees'),
      retentionDays: file.worktrees?.retention_days ?? null,
      repositories: (file.worktrees?.repositories ?? []).map((r) => ({
        ...r,
        path: path.resolve(configFile ? path.dirname(configFile) : dataDir, r.path),
      })),
    },
    usage: file.usage ?? {},
  };
}
