import type { Page } from '../../../../src-shared/rest.ts';
import type { SessionInfo } from '../../../../src-shared/session.ts';
import type { LiveEvent } from '../../../../src-shared/ws-protocol.ts';
import { WS_CLOSE } from '../../../../src-shared/ws-protocol.ts';
import { backoffDelay } from '../../model/output-sequencer.ts';
import type { ConnectionState } from '../client-extras.ts';
import { FATAL_CLOSES } from './frames.ts';
import { openSocket, type SocketOptions } from './socket.ts';

export interface EventChannelHost {
  socket: SocketOptions;
  emit(event: LiveEvent): void;
  setConnection(state: ConnectionState): void;
  listSessions(): Promise<Page<SessionInfo>>;
}

/**
 * `/cli/events/ws` with reconnect. After a reconnect the session list is re-read and replayed as
 * `session_state` / `session_removed` events, so listeners never miss a change made while offline.
 */
export class EventChannel {
  private readonly _host: EventChannelHost;
  private _socket: WebSocket | null = null;
  private _attempt = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _closed = false;
  private _everOpened = false;
  private readonly _known = new Set<string>();

  constructor(host: EventChannelHost) {
    this._host = host;
    this._connect();
  }

  close(): void {
    this._closed = true;
    clearTimeout(this._timer);
    this._socket?.close(WS_CLOSE.NORMAL, 'closed');
    this._socket = null;
  }

  private _connect(): void {
    if (this._closed) return;
    this._host.setConnection('connecting');
    const opened = openSocket(
      this._host.socket,
      '/cli/events/ws',
      (frame) => {
        if (frame.type !== 'event') return;
        const event = frame.data as LiveEvent;
        if ('session' in event && event.session) this._known.add(event.session.session_id);
        if (event.kind === 'session_removed') this._known.delete(event.session_id);
        this._host.emit(event);
      },
      (ev) => {
        if (this._socket !== opened.ws) return;
        this._socket = null;
        this._host.setConnection('closed');
        if (this._closed || FATAL_CLOSES.has(ev.code)) return;
        this._timer = setTimeout(() => this._connect(), backoffDelay(this._attempt++));
      },
    );
    this._socket = opened.ws;
    opened.authed.then(() => {
      if (this._socket !== opened.ws) return;
      this._attempt = 0;
      this._host.setConnection('open');
      if (this._everOpened) void this._resync();
      this._everOpened = true;
    });
  }

  private async _resync(): Promise<void> {
    try {
      const page = await this._host.listSessions();
      const seen = new Set<string>();
      for (const session of page.items) {
        seen.add(session.session_id);
        this._known.add(session.session_id);
        this._host.emit({ kind: 'session_state', session });
      }
      for (const id of [...this._known]) {
        if (seen.has(id)) continue;
        this._known.delete(id);
        this._host.emit({ kind: 'session_removed', session_id: id });
      }
    } catch {
      // The next event or reconnect will try again.
    }
  }
}
