import type { History } from '../store/history.ts';
import type { Persistence } from '../store/persistence.ts';
import type { Disposable } from '../util/event.ts';
import type { RedisBus, RedisResyncSource } from './bus.ts';

/** SQLite (through the history API) as the bus's resync source. */
export function historySource(history: History): RedisResyncSource {
  return {
    output: (sessionId, afterSeq, limit) =>
      history.output(sessionId, afterSeq, limit).map((r) => ({
        seq_start: r.seq_start,
        seq_end: r.seq_end,
        raw_bytes: r.raw_bytes,
        data: r.data,
        text: r.text,
        gap: r.gap,
        at: r.at,
      })),
    session: (sessionId) => history.getSession(sessionId),
  };
}

/**
 * Publishes what persistence committed: Redis only ever carries rows SQLite already has (redacted,
 * in seq order), which is what makes the resync-by-seq exact.
 */
export function publishCommitted(persistence: Persistence, bus: RedisBus): Disposable {
  const a = persistence.onDidCommitOutput((batches) => bus.publishOutput(batches));
  const b = persistence.onDidCommitSession((info) => bus.publishSession(info));
  return {
    dispose() {
      a.dispose();
      b.dispose();
    },
  };
}
