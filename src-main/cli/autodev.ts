#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/config.ts';
import { HostVersionError } from '../core/pty-host/host-client.ts';
import { HostUnresponsiveError } from '../core/pty-host/host-launcher.ts';
import { SigningSecretError } from '../server/auth/signing-secret.ts';
import { ServerConfigError } from '../server/server.ts';
import { UsageError } from './args.ts';
import { DOCTOR_USAGE, doctorCommand } from './doctor.ts';
import { type CliIo, processIo } from './io.ts';
import { SERVE_USAGE, serveCommand } from './serve.ts';
import { SESSIONS_USAGE, sessionsCommand } from './sessions.ts';
import { TOKEN_USAGE, tokenCommand } from './token.ts';

const USAGE = `Usage: autodev <command> [options]

${SERVE_USAGE}

${TOKEN_USAGE}

${DOCTOR_USAGE}

${SESSIONS_USAGE}
`;

/** The `autodev` command. Returns the exit code (2 = usage/config error, 1 = failure). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest, io);
      case 'token':
        return await tokenCommand(rest, io);
      case 'doctor':
        return await doctorCommand(rest, io);
      case 'sessions':
        return await sessionsCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.stderr(`autodev: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      error instanceof SigningSecretError ||
      error instanceof ServerConfigError
    ) {
      io.stderr(`autodev ${command}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof HostUnresponsiveError) {
      io.stderr(`autodev ${command}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof HostVersionError) {
      // Never kill agents silently on an upgrade: say what runs and let the user choose.
      io.stderr(
        `autodev ${command}: ${error.message}. It runs ${error.welcome.sessions.filter((s) => !s.exited).length} session(s), which this version cannot take over.\n` +
          '  Keep them: run the AutoDev version that started them.\n' +
          '  Restart the host (ends those sessions): autodev sessions --restart-host\n',
      );
      return 1;
    }
    io.stderr(
      `autodev ${command}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
