import { Command, CommanderError, Option } from 'commander';
import { AUTODEV_VERSION } from '../core/version.ts';
import { doctorCommand } from './doctor.ts';
import type { CliIo } from './io.ts';
import { serveCommand } from './serve.ts';
import { sessionsCommand } from './sessions.ts';
import { tokenCommand } from './token.ts';

/**
 * The `autodev` command line, declared with commander: every command and the program itself answer
 * `--help` (exit 0) with their options; an unknown option or command is a usage error (exit 2) that
 * names it and points at `--help`. Output goes through CliIo so tests read it.
 */
export function buildProgram(io: CliIo, exit: { code: number }): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  const program = new Command('autodev')
    .description(
      'A home for AI coding agents: supervised terminal sessions (claude, codex, gemini, cursor-agent, ' +
        'a shell, any CLI you configure), a task queue, and a LAN dashboard.',
    )
    .version(AUTODEV_VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  npx autodev serve                         start the server and the dashboard on 127.0.0.1:8001
  npx autodev token --scope control         print a token to sign in to the dashboard
  npx autodev doctor                        check which agent CLIs and API keys are found

After \`npm install\` the command is \`npx autodev\` (or \`npm run serve\` for the server).`,
    );

  const dataDir = () =>
    new Option('--data-dir <dir>', 'data directory (default: ~/.autodev or AUTODEV_DATA_DIR)');
  const configFile = () => new Option('--config <file>', 'config file (default: <data dir>/config.yaml)');

  program
    .command('serve')
    .description(
      'Start the core and the headless server: REST, WebSocket and the dashboard. Loopback by default; ' +
        'SIGTERM/SIGINT ends the sessions and flushes the data (unless --keep-sessions).',
    )
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free one (default 8001)')
    .addOption(dataDir())
    .addOption(configFile())
    .option('--allow-lan', 'allow a non-loopback --host (plain HTTP: put a TLS proxy in front)')
    .option(
      '--allow-origin <origin>',
      'also accept dashboard connections from this origin (repeatable)',
      collect,
      [],
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']))
    .option('--keep-sessions', 'leave sessions running in the PTY host when the server stops')
    .addHelpText('after', '\nEvery request needs a token: `npx autodev token --scope control` prints one.')
    .action(async (values) => {
      exit.code = await serveCommand(values, io);
    });

  program
    .command('token')
    .description(
      'Print a token the server accepts (Authorization: Bearer <jwt>, or the dashboard sign-in). ' +
        'read: watch and query; control: also create, type, resize, cancel, terminate.',
    )
    .addOption(
      new Option('--scope <scope>', 'what the token may do').choices(['read', 'control']).default('control'),
    )
    .option('--ttl <duration>', 'how long it is valid, e.g. 30m, 1h, 7d (default 1h)')
    .option('--subject <name>', 'who it is for (shown in logs)', 'local')
    .addOption(dataDir())
    .addOption(configFile())
    .option('--json', 'print the token with its id, scope and expiry as JSON')
    .option('--revoke <jti>', 'revoke a token by its id (open sockets using it close within ~1 s)')
    .option('--rotate-secret', 'replace the signing secret: every token issued so far stops working')
    .action(async (values) => {
      exit.code = await tokenCommand(values, io);
    });

  program
    .command('doctor')
    .description(
      'For each provider: the binary found (and where), its version, and which of its environment ' +
        'variables are set. Values are never printed, only "set" / "missing".',
    )
    .addOption(dataDir())
    .addOption(configFile())
    .option('--json', 'print the providers as JSON')
    .action(async (values) => {
      exit.code = await doctorCommand(values, io);
    });

  program
    .command('sessions')
    .description('List what the PTY host of this data dir runs, with or without an app attached.')
    .addOption(dataDir())
    .option('--json', 'print the sessions as JSON')
    .option(
      '--restart-host',
      "stop the host (ending its sessions) so the next start gets this version's host",
    )
    .action(async (values) => {
      exit.code = await sessionsCommand(values, io);
    });

  return program;
}

/** Exit code of a commander error: help and version are answers (0), the rest are usage errors (2). */
export function commanderExitCode(error: CommanderError): number {
  return error.exitCode === 0 ? 0 : 2;
}

export { CommanderError };
