import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { SESSION_STATES } from '../../src-shared/session.ts';
import type { SessionManager } from '../core/sessions/types.ts';

/**
 * Prometheus metrics for one server (own registry, so several servers in one process never clash).
 * Session states are read from the manager at scrape time; nothing polls.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly wsConnections: Gauge<'endpoint'>;
  readonly messagesIn: Counter<'type'>;
  readonly messagesOut: Counter<'type'>;
  readonly outputBytes: Counter;
  readonly errors: Counter<'code'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly sessionDuration: Histogram<'cli_tool' | 'state'>;
  readonly resyncs: Counter<'reason'>;

  constructor(sessions: SessionManager) {
    const registers = [this.registry];
    new Gauge({
      name: 'autodev_sessions',
      help: 'Sessions known to the manager, by state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(SESSION_STATES.map((s) => [s, 0]));
        for (const session of sessions.list())
          counts.set(session.state, (counts.get(session.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    this.wsConnections = new Gauge({
      name: 'autodev_ws_connections',
      help: 'Open WebSocket connections',
      labelNames: ['endpoint'],
      registers,
    });
    this.messagesIn = new Counter({
      name: 'autodev_ws_messages_in_total',
      help: 'WebSocket messages received, by type',
      labelNames: ['type'],
      registers,
    });
    this.messagesOut = new Counter({
      name: 'autodev_ws_messages_out_total',
      help: 'WebSocket messages sent, by type',
      labelNames: ['type'],
      registers,
    });
    this.outputBytes = new Counter({
      name: 'autodev_ws_output_bytes_total',
      help: 'Terminal output characters sent to WebSocket viewers',
      registers,
    });
    this.errors = new Counter({
      name: 'autodev_errors_total',
      help: 'Errors answered to clients, by error_code',
      labelNames: ['code'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'autodev_http_request_duration_seconds',
      help: 'REST request durations',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.sessionDuration = new Histogram({
      name: 'autodev_session_duration_seconds',
      help: 'Lifetime of ended sessions',
      labelNames: ['cli_tool', 'state'],
      buckets: [1, 10, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    this.resyncs = new Counter({
      name: 'autodev_ws_resyncs_total',
      help: 'Snapshot resyncs sent to viewers (resume gap, slow client)',
      labelNames: ['reason'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'autodev_' });
  }
}
