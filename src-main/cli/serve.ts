import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log/logger.ts';
import { startHeadless } from '../server/headless.ts';
import { isLoopback } from '../server/http/guards.ts';
import { parsePort, UsageError } from './args.ts';
import type { CliIo } from './io.ts';

export interface ServeHandle {
  url: string;
  stop(): Promise<void>;
}

/** `autodev serve` options as the command line parsed them (program.ts). */
export interface ServeOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  config?: string;
  allowLan?: boolean;
  allowOrigin?: string[];
  logLevel?: string;
  keepSessions?: boolean;
}

/** Runs until SIGTERM/SIGINT (or `signal` aborts); resolves with the exit code. */
export async function serveCommand(options: ServeOptions, io: CliIo, signal?: AbortSignal): Promise<number> {
  const values = {
    host: options.host,
    port: options.port,
    'data-dir': options.dataDir,
    config: options.config,
    'allow-lan': options.allowLan,
    'allow-origin': options.allowOrigin?.length ? options.allowOrigin : undefined,
    'log-level': options.logLevel,
    'keep-sessions': options.keepSessions,
  };
  const config = loadConfig({
    dataDir: values['data-dir'],
    ...(values['keep-sessions'] ? { keepSessions: true } : {}),
    configFile: values.config,
    env: io.env,
    server: {
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(values.port !== undefined ? { port: parsePort(values.port) } : {}),
      ...(values['allow-lan'] ? { allowLan: true } : {}),
    },
  });
  const level = values['log-level'] ?? config.logLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new UsageError('--log-level must be debug, info, warn or error');
  const logger = createLogger({ level: level as 'info', sink: (line) => io.stderr(line) });
  const { host } = config.server;
  if (!isLoopback(host)) {
    if (!config.server.allowLan) {
      throw new UsageError(
        `refusing to listen on ${host}: that exposes agent terminals to the network. Pass --allow-lan to confirm (token auth is always on; use a TLS proxy).`,
      );
    }
    io.stderr(
      `WARNING: listening on ${host} (not loopback). Anyone who can reach this address and holds a token can drive your agents. Traffic is plain HTTP: put a TLS reverse proxy in front on untrusted networks.\n`,
    );
  }
  // loadSigningSecret runs before the core starts: a short JWT_SECRET refuses to start.
  const app = await startHeadless({
    dataDir: config.dataDir,
    ...(values['keep-sessions'] ? { keepSessions: true } : {}),
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    env: io.env,
    server: { host, port: config.server.port, allowLan: config.server.allowLan },
    allowedOrigins: values['allow-origin'] ?? [],
    coreOptions: { logger, env: io.env },
  });
  io.stdout(`AutoDev dashboard: ${app.url}\n`);
  io.stdout(
    // `autodev` is not on PATH after `npm install`; `npx autodev` is.
    `Get an access token with: npx autodev token --scope control${values['data-dir'] ? ` --data-dir ${config.dataDir}` : ''}\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  logger.info('shutting down');
  // A second signal while shutting down means "now".
  const force = (): never => process.exit(130);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  await app.close();
  logger.info('shutdown complete');
  process.off('SIGTERM', force);
  process.off('SIGINT', force);
  return 0;
}
