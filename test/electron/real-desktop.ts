import os from 'node:os';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { openDesktopCore } from '../../src-main/electron/core-adapter.ts';
import { LanDashboard } from '../../src-main/electron/lan-dashboard.ts';
import { SecretStore } from '../../src-main/electron/secret-store.ts';
import { runShutdown } from '../../src-main/electron/shutdown.ts';
import { createHarness } from './bridge-harness.ts';
import { ROOT } from './helpers.ts';

/**
 * The desktop main process minus Electron: the real core (SQLite in `dataDir`, real PTYs, the task
 * service), the LAN toggle over the real server, a secret store with no encryption backend, and the
 * desktop controller behind fake IPC. `shutdown()` runs the app's quit sequence.
 */
export async function openRealDesktop(dataDir: string, env: NodeJS.ProcessEnv) {
  const logs: string[] = [];
  const opened = await openDesktopCore({
    dataDir,
    appRoot: ROOT,
    env,
    coreOptions: {
      logger: createLogger({ level: 'warn', sink: (line) => logs.push(line) }),
      manager: { loginPath: async () => process.env['PATH'] ?? '/usr/bin:/bin' },
    },
  });
  const { core } = opened;
  const lan = new LanDashboard(opened.lanBackend, () => os.networkInterfaces());
  const secrets = new SecretStore(dataDir, {
    isEncryptionAvailable: () => false,
    encryptString: () => Buffer.alloc(0),
    decryptString: () => '',
  });
  const harness = createHarness({
    core,
    secrets,
    lan,
    notify: () => {},
    sessionsChanged: () => {},
    focusWindow: () => {},
    openExternal: () => {},
    selectDirectory: async () => null,
  });
  const shutdown = () =>
    runShutdown([
      { name: 'lan', run: () => lan.dispose() },
      { name: 'windows', run: () => harness.dispose() },
      { name: 'sessions', run: () => core.sessions.shutdown() },
      { name: 'core', run: () => core.close() },
    ]);
  return { opened, core, lan, harness, logs, shutdown };
}
