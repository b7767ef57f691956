import type { RunningServer, StartServerOptions } from '../server/server.ts';
import type { ServerCore } from '../server/types.ts';
import type { DashboardBackend, DashboardServerHandle } from './lan-dashboard.ts';

/** Pairing tokens shown in settings live this long; the dashboard trades them for its own session. */
export const PAIRING_TOKEN_TTL_S = 10 * 60;

const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1';

/**
 * Adapts the headless server (`startServer`) to the settings toggle: loopback by default, a chosen
 * interface only with the explicit `allowLan` acknowledgement (the user pressed the LAN toggle),
 * `app://bundle` allowed as an Origin. Tokens are minted by the running server itself.
 */
export function serverDashboardBackend(deps: {
  core: ServerCore;
  signingKey: () => Uint8Array;
  startServer: (options: StartServerOptions) => Promise<RunningServer>;
  dashboardDir?: string | null;
  defaultPort?: number;
}): DashboardBackend {
  let running: RunningServer | null = null;
  return {
    async start({ host, port }): Promise<DashboardServerHandle> {
      const server = await deps.startServer({
        core: deps.core,
        signingKey: deps.signingKey(),
        host,
        port: port ?? deps.defaultPort ?? 8001,
        allowLan: !isLoopback(host),
        allowedOrigins: ['app://bundle'],
        ...(deps.dashboardDir !== undefined ? { dashboardDir: deps.dashboardDir } : {}),
      });
      running = server;
      return {
        url: server.url,
        host: server.host,
        port: server.port,
        close: async () => {
          if (running === server) running = null;
          await server.close();
        },
      };
    },
    async issuePairingToken(): Promise<string> {
      if (!running) throw new Error('the dashboard server is not running');
      return running.issueToken('control', PAIRING_TOKEN_TTL_S, 'lan-dashboard');
    },
  };
}
