import type { z } from 'zod';
import type {
  HistoryEntry,
  HistoryQuerySchema,
  Page,
  SearchHit,
  SearchQuerySchema,
  SessionListQuerySchema,
} from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';

/**
 * The read side of the store that transports (REST routes, IPC handlers) show to users: ended
 * sessions, history, search, export, persistence status, and token revocation. The core builds it
 * from the history API; transports depend on this type, never on SQLite.
 */
export interface ReadStore {
  listSessions(query: z.output<typeof SessionListQuerySchema>): Page<SessionInfo>;
  getSession(sessionId: string): SessionInfo | undefined;
  history(sessionId: string, query: z.output<typeof HistoryQuerySchema>): HistoryEntry[];
  search(query: z.output<typeof SearchQuerySchema>): SearchHit[];
  exportSession(sessionId: string, format: 'json' | 'text'): string;
  status(): { ok: boolean; paused_reason: string | null };
  /** Deny-list check for a token id (see store/tokens.ts). */
  isTokenRevoked?(jti: string): boolean;
  revokeToken?(jti: string, reason?: string): void;
  /** Remember an issued token so it can be listed and revoked by id. */
  recordToken?(token: { jti: string; sub: string; scope: string; iat: number; exp: number }): void;
}
