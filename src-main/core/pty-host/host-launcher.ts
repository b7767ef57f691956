import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HostManifest, HostManifestSchema } from '../../../src-shared/pty-host-protocol.ts';
import type { Logger } from '../log/logger.ts';
import { HostVersionError, PtyHostClient } from './host-client.ts';
import { EXIT_HOST_ALREADY_RUNNING, hostPaths } from './host-paths.ts';

export interface HostLaunchOptions {
  dataDir: string;
  logger: Logger;
  /** Who connects (logged by the host). */
  clientName: string;
  /** How a host process starts. Default: this Node running host-entry (the Electron shell passes its
   *  own binary with `--autodev-pty-host`, see electron/main.ts). `--data-dir DIR` is appended. */
  command?: { file: string; args: string[]; env?: NodeJS.ProcessEnv };
  startTimeoutMs?: number;
}

export function defaultHostCommand(): { file: string; args: string[]; env?: NodeJS.ProcessEnv } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const ts = path.join(here, 'host-entry.ts');
  return { file: process.execPath, args: [existsSync(ts) ? ts : path.join(here, 'host-entry.js')] };
}

export function readManifest(dataDir: string): HostManifest | null {
  try {
    return HostManifestSchema.parse(JSON.parse(readFileSync(hostPaths(dataDir).manifest, 'utf8')));
  } catch {
    return null;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The host answers connections but not our hello: it is not safe to start another over it. */
export class HostUnresponsiveError extends Error {
  override readonly name = 'HostUnresponsiveError';
}

/**
 * The running host of this data dir, or null when there is none (no manifest, its process gone, or
 * nothing listening on its socket: a stale manifest). Throws HostVersionError when the host speaks
 * another protocol and HostUnresponsiveError when it listens but does not answer — in both cases its
 * agents may be alive, and they are never killed silently: the caller tells the user.
 */
export async function connectExistingHost(options: HostLaunchOptions): Promise<PtyHostClient | null> {
  const manifest = readManifest(options.dataDir);
  if (!manifest || !processAlive(manifest.pid)) return null;
  try {
    return await PtyHostClient.connect(manifest, { logger: options.logger, client: options.clientName });
  } catch (error) {
    if (error instanceof HostVersionError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return null;
    throw new HostUnresponsiveError(
      `the PTY host (pid ${manifest.pid}) of ${options.dataDir} accepts connections but does not answer (${(error as Error).message}); stop it with \`autodev sessions --restart-host\` (its sessions end) or wait and retry`,
    );
  }
}

/**
 * Stop the data dir's PTY host, ending its sessions: what `autodev sessions --restart-host` and the
 * desktop app's "Restart the PTY host" do (the next start starts a new host). A host of this version
 * is asked to shut down; one of another version (or one that does not answer) cannot be asked, so it
 * is told (SIGTERM ends its sessions with it). `pid` is null when no host was running.
 */
export async function stopRunningHost(
  options: HostLaunchOptions & { timeoutMs?: number },
): Promise<{ pid: number | null; stopped: boolean }> {
  const manifest = readManifest(options.dataDir);
  if (!manifest || !processAlive(manifest.pid)) return { pid: null, stopped: true };
  try {
    const client = await connectExistingHost(options);
    if (client) {
      await client.shutdown(true);
      client.dispose();
    }
  } catch {
    try {
      process.kill(manifest.pid, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (processAlive(manifest.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return { pid: manifest.pid, stopped: !processAlive(manifest.pid) };
}

/** Start a host process (detached: it outlives this process) and wait until it answers. */
export async function startHost(options: HostLaunchOptions): Promise<PtyHostClient> {
  const paths = hostPaths(options.dataDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    const child = spawnHost(options, paths.log);
    let exited: number | null = null;
    child.once('exit', (code) => {
      exited = code ?? -1;
    });
    // A binary that cannot be run (moved by an update, a bad path): a failed start, not an unhandled
    // 'error' event that would take this whole process down.
    const failed: { error?: Error } = {};
    child.once('error', (error) => {
      failed.error = error;
    });
    for (;;) {
      const client = await connectExistingHost(options);
      if (client) return client;
      if (failed.error) throw new Error(`the PTY host could not be started (${failed.error.message})`);
      // Exit 3: another host holds the lock — a new one racing us, or an old one still stopping.
      // Either its manifest appears (then we connect above) or its lock goes (then we start again).
      if (exited === EXIT_HOST_ALREADY_RUNNING && !lockHeld(paths.lock)) break;
      if (exited !== null && exited !== EXIT_HOST_ALREADY_RUNNING)
        throw new Error(`the PTY host exited with code ${exited} at start; see ${paths.log}`);
      if (Date.now() > deadline) throw new Error(`the PTY host did not start in time; see ${paths.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function spawnHost(options: HostLaunchOptions, logFile: string) {
  const command = options.command ?? defaultHostCommand();
  const log = openSync(logFile, 'a', 0o600);
  // The host gets no secret of ours: each agent's environment comes with its spawn request.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG,
    ...(process.env.AUTODEV_LOG_LEVEL ? { AUTODEV_LOG_LEVEL: process.env.AUTODEV_LOG_LEVEL } : {}),
    ...(process.env.AUTODEV_PTY_HOST_IDLE_MS
      ? { AUTODEV_PTY_HOST_IDLE_MS: process.env.AUTODEV_PTY_HOST_IDLE_MS }
      : {}),
    // Profiling the host (`--cpu-prof`, bench notes): the host's own Node options, never the app's.
    ...(process.env.AUTODEV_PTY_HOST_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.AUTODEV_PTY_HOST_NODE_OPTIONS }
      : {}),
    ...command.env,
  };
  const child = spawn(command.file, [...command.args, '--data-dir', options.dataDir], {
    detached: true,
    stdio: ['ignore', log, log],
    env,
  });
  closeSync(log);
  child.unref();
  options.logger.info('pty host starting', { pid: child.pid });
  return child;
}

/** A lock whose pid is alive. */
function lockHeld(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && processAlive(pid);
  } catch {
    return false;
  }
}

export async function connectOrStartHost(options: HostLaunchOptions): Promise<PtyHostClient> {
  return (await connectExistingHost(options)) ?? startHost(options);
}
