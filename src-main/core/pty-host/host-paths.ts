import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The host process exits with this when another host already owns the data dir. */
export const EXIT_HOST_ALREADY_RUNNING = 3;

export interface HostPaths {
  /** <data dir>/pty-host (0700). */
  dir: string;
  /** How a core finds the host: pid, protocol, socket, secret (0600). */
  manifest: string;
  /** Held while a host starts or runs (its pid), so a data dir never gets two. */
  lock: string;
  /** Output a core has not acked yet, per session, while no core is attached. */
  spool: string;
  /** The host's own log (JSON lines). */
  log: string;
  socket: string;
}

/** Unix socket paths are limited to ~108 bytes; longer data dirs get a short path in the temp dir. */
const MAX_SOCKET_PATH = 100;

export function hostPaths(dataDir: string): HostPaths {
  const dir = path.join(dataDir, 'pty-host');
  let socket = path.join(dir, 'host.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
    socket = path.join(tmpdir(), `autodev-pty-${process.getuid?.() ?? 'u'}-${hash}.sock`);
  }
  return {
    dir,
    manifest: path.join(dir, 'manifest.json'),
    lock: path.join(dir, 'host.lock'),
    spool: path.join(dir, 'spool'),
    log: path.join(dir, 'host.log'),
    socket,
  };
}
