import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type HostManifest, PTY_HOST_PROTOCOL_VERSION } from '../../../src-shared/pty-host-protocol.ts';
import { createLogger } from '../log/logger.ts';
import { AUTODEV_VERSION } from '../version.ts';
import { EXIT_HOST_ALREADY_RUNNING, hostPaths } from './host-paths.ts';
import { HostServer } from './host-server.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file holds the host's pid; a lock whose pid is gone is stale and taken over. */
function acquireLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return false;
      rmSync(lock, { force: true });
    }
  }
  return false;
}

/**
 * The PTY host process: `node host-main.ts --data-dir DIR` (or the Electron binary with
 * `--autodev-pty-host --data-dir DIR`). Started detached by a core; outlives it; exits when asked,
 * or when it has had no session and no client for a while.
 */
export async function runPtyHost(argv: string[]): Promise<void> {
  const at = argv.indexOf('--data-dir');
  const dataDir = at >= 0 ? argv[at + 1] : undefined;
  if (!dataDir) {
    process.stderr.write('usage: pty-host --data-dir DIR\n');
    process.exit(2);
  }
  const paths = hostPaths(dataDir);
  mkdirSync(paths.spool, { recursive: true, mode: 0o700 });
  const logger = createLogger({ level: process.env.AUTODEV_LOG_LEVEL === 'debug' ? 'debug' : 'info' }).child({
    component: 'pty-host',
    pid: process.pid,
  });
  if (!acquireLock(paths.lock)) {
    logger.info('another PTY host owns this data dir; exiting');
    process.exit(EXIT_HOST_ALREADY_RUNNING);
  }
  const secret = randomBytes(32).toString('hex');
  const cleanup = () => {
    try {
      const manifest = JSON.parse(readFileSync(paths.manifest, 'utf8')) as HostManifest;
      if (manifest.pid === process.pid) rmSync(paths.manifest, { force: true });
    } catch {}
    try {
      if (readFileSync(paths.lock, 'utf8').trim() === String(process.pid))
        rmSync(paths.lock, { force: true });
    } catch {}
  };
  const server = new HostServer({
    socketPath: paths.socket,
    secret,
    version: AUTODEV_VERSION,
    spoolDir: paths.spool,
    logger,
    ...(process.env.AUTODEV_PTY_HOST_IDLE_MS
      ? { idleExitMs: Number(process.env.AUTODEV_PTY_HOST_IDLE_MS) }
      : {}),
    onStop: (reason) => {
      cleanup();
      logger.info('pty host exited', { reason });
      process.exit(0);
    },
  });
  try {
    await server.listen();
  } catch (error) {
    logger.error('pty host could not listen', { error: String(error) });
    cleanup();
    process.exit(1);
  }
  const manifest: HostManifest = {
    pid: process.pid,
    protocol: PTY_HOST_PROTOCOL_VERSION,
    host_version: AUTODEV_VERSION,
    socket: paths.socket,
    secret,
    started_at: new Date().toISOString(),
  };
  // Atomic and private: a reader never sees half a manifest, nobody else sees the secret.
  const tmp = `${paths.manifest}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest), { mode: 0o600 });
  renameSync(tmp, paths.manifest);
  // Detached from the terminal that started the core: a hang-up there must not end the agents.
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => server.stop('SIGTERM'));
  process.on('SIGINT', () => server.stop('SIGINT'));
  process.on('uncaughtException', (error) => {
    logger.error('pty host crashed', { error: String(error), stack: error.stack });
    cleanup();
    process.exit(1);
  });
  logger.info('pty host ready', { socket: paths.socket, version: AUTODEV_VERSION });
}
