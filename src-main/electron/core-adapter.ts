import path from 'node:path';
import { loadConfig } from '../core/config.ts';
import { type CreateCoreOptions, createCore } from '../core/core.ts';
import { createLogger } from '../core/log/logger.ts';
import { stopRunningHost } from '../core/pty-host/host-launcher.ts';
import type { TaskService } from '../core/tasks/task-service.ts';
import { loadSigningSecret } from '../server/auth/signing-secret.ts';
import { startServer } from '../server/server.ts';
import type { DesktopCore, DesktopTasks } from './desktop-core.ts';
import { serverDashboardBackend } from './lan-backend.ts';
import type { DashboardBackend } from './lan-dashboard.ts';

export interface OpenedDesktopCore {
  core: DesktopCore;
  lanBackend: DashboardBackend;
  /** Env var names of all providers (the API keys settings can store). */
  providerEnvKeys: string[];
}

/**
 * Composition root for the desktop app: the same `createCore` as `autodev serve`, with the data dir
 * in Electron's userData and the schema/renderer from the app bundle (asar).
 */
export async function openDesktopCore(options: {
  dataDir: string;
  appRoot: string;
  env?: NodeJS.ProcessEnv;
  /** Test seams (logger, login PATH); the app passes none. */
  coreOptions?: CreateCoreOptions;
}): Promise<OpenedDesktopCore & { keepSessions: boolean | undefined }> {
  const env = options.env ?? process.env;
  const config = loadConfig({ dataDir: options.dataDir, env });
  const core = await createCore(
    { ...config, schemaDir: path.join(options.appRoot, 'schema') },
    { env, ...options.coreOptions },
  );
  let signingKey: Uint8Array | null = null;
  const lanBackend = serverDashboardBackend({
    core,
    // Loaded on first use: a desktop user who never turns the dashboard on never gets a key file.
    signingKey: () => {
      signingKey ??= loadSigningSecret(options.dataDir, env).key;
      return signingKey;
    },
    startServer,
    dashboardDir: path.join(options.appRoot, 'src-renderer', 'dist'),
    defaultPort: config.server.port,
  });
  const providerEnvKeys = [...new Set(core.providers.list().flatMap((p) => p.env_keys))].sort();
  return {
    core: {
      sessions: core.sessions,
      listProviders: () => core.listProviders(),
      store: core.store,
      tasks: core.tasks ? desktopTasks(core.tasks) : null,
      usage: core.usage,
      ...(core.onLiveEvent ? { onLiveEvent: core.onLiveEvent } : {}),
      worktrees: core.worktrees,
      resumeSession: (sessionId) => core.resumeSession(sessionId),
      close: (closeOptions) => core.close(closeOptions),
    },
    lanBackend,
    providerEnvKeys,
    keepSessions: config.keepSessions,
  };
}

/**
 * "Restart the PTY host" (host-version.ts): stops the host of the data dir openDesktopCore uses (the
 * config may move it) as `autodev sessions --restart-host` does; the next open starts a new one.
 */
export function stopDesktopHost(options: { dataDir: string; env?: NodeJS.ProcessEnv }) {
  const config = loadConfig({ dataDir: options.dataDir, env: options.env ?? process.env });
  return stopRunningHost({
    dataDir: config.dataDir,
    logger: createLogger({ level: 'warn' }),
    clientName: 'AutoDev desktop (restart host)',
  });
}

/**
 * The task service in the shape the IPC handlers call. Submissions from the desktop are async (the
 * renderer follows progress through live `task` events); a not-found task is a NOT_FOUND error.
 */
export function desktopTasks(service: TaskService): DesktopTasks {
  return {
    submit: async (tasks) => (await service.submit(tasks, { waitMs: 0 })).tasks,
    list: (query) => service.list(query),
    get: (taskId) => service.get(taskId),
    control: (taskId, action) =>
      action === 'cancel'
        ? service.cancel(taskId)
        : action === 'pause'
          ? service.pause(taskId)
          : service.resume(taskId),
    detail: (taskId) => service.getDetail(taskId),
    metrics: () => service.getMetrics(),
  };
}
