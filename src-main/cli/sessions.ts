import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log/logger.ts';
import { HostVersionError } from '../core/pty-host/host-client.ts';
import { connectExistingHost, stopRunningHost } from '../core/pty-host/host-launcher.ts';
import type { CliIo } from './io.ts';

/** `autodev sessions`: the PTY host's sessions, read straight from the host. */
/** `autodev sessions` options as the command line parsed them (program.ts). */
export interface SessionsOptions {
  dataDir?: string;
  json?: boolean;
  restartHost?: boolean;
}

export async function sessionsCommand(options: SessionsOptions, io: CliIo): Promise<number> {
  const values = { 'data-dir': options.dataDir, json: options.json, 'restart-host': options.restartHost };
  const config = loadConfig({ dataDir: values['data-dir'], env: io.env });
  const logger = createLogger({ level: 'error', sink: (line) => io.stderr(line) });
  const launch = { dataDir: config.dataDir, logger, clientName: 'autodev sessions' };

  if (values['restart-host']) return restartHost(launch, io);

  let client: Awaited<ReturnType<typeof connectExistingHost>>;
  try {
    client = await connectExistingHost(launch);
  } catch (error) {
    if (!(error instanceof HostVersionError)) throw error;
    io.stderr(`${error.message}\n`);
    return 1;
  }
  if (!client) {
    if (values.json) io.stdout('[]\n');
    else io.stdout(`No PTY host is running for ${config.dataDir}.\n`);
    return 0;
  }
  try {
    const sessions = await client.list();
    if (values.json) {
      io.stdout(`${JSON.stringify(sessions, null, 2)}\n`);
      return 0;
    }
    io.stdout(
      `PTY host pid ${client.welcome.pid} (AutoDev ${client.welcome.host_version}, since ${client.welcome.started_at}): ${sessions.length} session(s)\n`,
    );
    for (const s of sessions) {
      const state = s.exited ? 'exited' : s.detection.state;
      io.stdout(
        `  ${s.session_id}  pid ${s.pid}  ${state.padEnd(13)}  ${s.cols}x${s.rows}  output seq ${s.last_seq}\n`,
      );
    }
    return 0;
  } finally {
    client.dispose();
  }
}

async function restartHost(
  launch: { dataDir: string; logger: ReturnType<typeof createLogger>; clientName: string },
  io: CliIo,
): Promise<number> {
  const { pid, stopped } = await stopRunningHost(launch);
  if (pid === null) {
    io.stdout('No PTY host is running; the next start starts one.\n');
    return 0;
  }
  if (!stopped) {
    io.stderr(`The PTY host (pid ${pid}) did not stop.\n`);
    return 1;
  }
  io.stdout(`Stopped the PTY host (pid ${pid}); the next start starts a new one.\n`);
  return 0;
}
