import type { LiveEvent } from '../../../src-shared/ws-protocol.ts';

type HostStatus = Extract<LiveEvent, { kind: 'pty_host' }>['status'];

/**
 * What to tell the user when the PTY host (the process the agents live in) changes: it stopped (its
 * sessions are lost), it was started again, or AutoDev gave up restarting it. Null: nothing new.
 */
export function ptyHostNotice(status: HostStatus, previous: HostStatus | null): string | null {
  if (!status.connected) {
    const why = status.last_loss ?? 'the PTY host stopped';
    return status.last_loss?.includes('not restarting')
      ? `${why}. Running sessions were lost.`
      : `The process the agents run in stopped (${why}); their sessions were lost. Restarting it…`;
  }
  if (previous && status.restarts > previous.restarts)
    return 'The process the agents run in was restarted: new sessions can start again.';
  return null;
}
