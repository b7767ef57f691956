#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/config.ts';
import { HostVersionError } from '../core/pty-host/host-client.ts';
import { HostUnresponsiveError } from '../core/pty-host/host-launcher.ts';
import { SigningSecretError } from '../server/auth/signing-secret.ts';
import { ServerConfigError } from '../server/server.ts';
import { UsageError } from './args.ts';
import { type CliIo, processIo } from './io.ts';
import { buildProgram, CommanderError, commanderExitCode } from './program.ts';

/** The `autodev` command. Returns the exit code (2 = usage/config error, 1 = failure). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const command = argv.find((a) => !a.startsWith('-')) ?? '';
  const exit = { code: 0 };
  const program = buildProgram(io, exit);
  try {
    if (argv.length === 0) {
      // No command: the help, as a usage error (a script that forgot the command should notice).
      io.stdout(program.helpInformation());
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
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
          '  Restart the host (ends those sessions): npx autodev sessions --restart-host\n',
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
