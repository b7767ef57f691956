import type { TokenScope } from '../../src-shared/ws-protocol.ts';
import { type AutoDevConfig, type LoadConfigOptions, loadConfig } from '../core/config.ts';
import { type Core, type CreateCoreOptions, createCore } from '../core/core.ts';
import { loadSigningSecret } from './auth/signing-secret.ts';
import { issueToken } from './auth/tokens.ts';
import { type RunningServer, type StartServerOptions, startServer } from './server.ts';

export interface StartHeadlessOptions extends LoadConfigOptions {
  /** Extra exact Origins (Electron `app://bundle`, a Vite dev server, Playwright's page origin). */
  allowedOrigins?: string[];
  coreOptions?: CreateCoreOptions;
  /** Anything else startServer accepts (ws tuning, limits, dashboardDir…). */
  server?: LoadConfigOptions['server'];
  serverOptions?: Partial<Omit<StartServerOptions, 'core' | 'signingKey'>>;
}

export interface HeadlessAutoDev {
  config: AutoDevConfig;
  core: Core;
  server: RunningServer;
  url: string;
  /** A token this server accepts, recorded in auth_tokens (revocable). */
  token(scope?: TokenScope, ttlSeconds?: number): Promise<string>;
  /** Server first (sockets 1001), then the core (sessions terminated, data flushed, Redis, DB). */
  close(): Promise<void>;
}

/**
 * Everything `autodev serve` starts, as one call (for the Electron shell's LAN dashboard and the
 * renderer's browser tests): config → signing secret → core → server.
 *
 *   const app = await startHeadless({ dataDir, server: { port: 0 } });
 *   const token = await app.token('control');   // → Authorization: Bearer / WS auth message
 *   ...; await app.close();
 */
export async function startHeadless(options: StartHeadlessOptions = {}): Promise<HeadlessAutoDev> {
  const config = loadConfig(options);
  const env = options.env ?? process.env;
  const secret = loadSigningSecret(config.dataDir, env);
  const core = await createCore(config, { env, ...options.coreOptions });
  let server: RunningServer;
  try {
    server = await startServer({
      core,
      signingKey: secret.key,
      host: config.server.host,
      port: config.server.port,
      allowLan: config.server.allowLan,
      allowedOrigins: [...config.server.allowedOrigins, ...(options.allowedOrigins ?? [])],
      allowedHosts: config.server.allowedHosts,
      ...(config.server.dashboardDir !== undefined ? { dashboardDir: config.server.dashboardDir } : {}),
      ws: {
        ...(config.server.heartbeatMs !== undefined ? { heartbeatMs: config.server.heartbeatMs } : {}),
        ...(config.server.maxConnectionsPerSession !== undefined
          ? { maxConnectionsPerSession: config.server.maxConnectionsPerSession }
          : {}),
      },
      ...options.serverOptions,
    });
  } catch (error) {
    await core.close();
    throw error;
  }
  core.logger.info('signing secret loaded', { source: secret.source, data_dir: config.dataDir });
  let closing: Promise<void> | null = null;
  return {
    config,
    core,
    server,
    url: server.url,
    async token(scope = 'control', ttlSeconds) {
      const issued = await issueToken(secret.key, {
        scope,
        ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
      });
      core.store?.recordToken?.(issued.claims);
      return issued.token;
    },
    close() {
      closing ??= (async () => {
        await server.close();
        await core.close();
      })();
      return closing;
    },
  };
}
