import { type HostWelcome, PTY_HOST_PROTOCOL_VERSION } from '../../src-shared/pty-host-protocol.ts';
import { HostVersionError } from '../core/pty-host/host-client.ts';
import { AUTODEV_VERSION } from '../core/version.ts';

/**
 * A PTY host of another protocol version (an older AutoDev's, still running its agents) cannot be
 * taken over, and its agents are never killed silently on an upgrade: the desktop app asks. "Restart
 * the PTY host" stops it the way `autodev sessions --restart-host` does (its agents end) and the app
 * starts on a new host; "Quit" leaves the host and its agents running.
 */
export type HostVersionChoice = 'restart' | 'quit';

/** The question as Electron's showMessageBox takes it; `answerOf` reads the result back. */
export function hostVersionDialog(welcome: HostWelcome) {
  const running = welcome.sessions.filter((s) => !s.exited).length;
  const agents = running === 1 ? '1 agent' : `${running} agents`;
  return {
    running,
    options: {
      type: 'warning' as const,
      buttons: [`Restart the PTY host (ends ${agents})`, 'Quit'],
      // Enter, Escape and closing the box all quit: ending agents takes the explicit button.
      defaultId: 1,
      cancelId: 1,
      noLink: true,
      title: 'AutoDev',
      message: `${running === 1 ? '1 agent runs' : `${agents} run`} in a PTY host of another AutoDev version, which this version cannot take over.`,
      detail:
        `The PTY host was started by AutoDev ${welcome.host_version} (protocol ${welcome.protocol}); this is AutoDev ${AUTODEV_VERSION} (protocol ${PTY_HOST_PROTOCOL_VERSION}).\n\n` +
        'Restart the PTY host: its agents end now and AutoDev starts with a new host.\n' +
        'Quit: the agents keep running; start the AutoDev version that started them to use them.',
    },
    answerOf(result: { response: number }): HostVersionChoice {
      return result.response === 0 ? 'restart' : 'quit';
    },
  };
}

/** "Restart the PTY host" was chosen and the host did not stop. */
export class HostStopError extends Error {
  override readonly name = 'HostStopError';
}

/**
 * Opens the core; when a host of another version is in the way, asks, and on "Restart" stops that
 * host and opens again. Null: the user chose to quit. Any other error is the caller's.
 */
export async function openCoreOrAsk<T>(
  open: () => Promise<T>,
  deps: {
    ask(welcome: HostWelcome): Promise<HostVersionChoice>;
    /** Stop the data dir's host (host-launcher's stopRunningHost). */
    stopHost(): Promise<{ pid: number | null; stopped: boolean }>;
    log?(message: string): void;
  },
): Promise<T | null> {
  for (;;) {
    try {
      return await open();
    } catch (error) {
      if (!(error instanceof HostVersionError)) throw error;
      deps.log?.(`[main] ${error.message}`);
      if ((await deps.ask(error.welcome)) === 'quit') return null;
      const { pid, stopped } = await deps.stopHost();
      if (!stopped) throw new HostStopError(`The PTY host (pid ${pid}) did not stop.`);
      deps.log?.(`[main] stopped the PTY host of another version (pid ${pid}) as the user chose`);
    }
  }
}
