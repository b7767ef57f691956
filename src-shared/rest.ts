import { z } from 'zod';
import { SESSION_STATES, type SessionInfo } from './session.ts';
import { TASK_STATES } from './tasks.ts';

/** Query strings arrive as text: coerce, bound, and name the field on failure. */
export const SessionListQuerySchema = z.object({
  status: z.enum([...SESSION_STATES, 'active', 'ended']).optional(),
  cli_tool: z.string().max(64).optional(),
  user_id: z.string().max(128).optional(),
  since: z.string().max(64).optional(),
  until: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type SessionListQuery = z.input<typeof SessionListQuerySchema>;

export const HistoryQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  message_type: z.enum(['command', 'output', 'state', 'all']).default('all'),
  /**
   * Output rows as recorded (redacted, ANSI sequences kept) instead of the plain search text: what a
   * terminal replay needs for colours and cursor moves. `raw=1` / `raw=true` in a query string.
   */
  raw: z
    .union([z.boolean(), z.enum(['1', '0', 'true', 'false'])])
    .transform((v) => v === true || v === '1' || v === 'true')
    .optional(),
  /**
   * Command entries include the raw key journal (`kind: 'input'`, one entry per write) beside the
   * submitted lines (`kind: 'command'`). Off by default: history lists what a person submitted. A
   * replay of a session recorded before lines were assembled rebuilds its lines from the keys.
   */
  keys: z
    .union([z.boolean(), z.enum(['1', '0', 'true', 'false'])])
    .transform((v) => v === true || v === '1' || v === 'true')
    .optional(),
});
export type HistoryQuery = z.input<typeof HistoryQuerySchema>;

export const SearchQuerySchema = z.object({
  q: z.string().min(1).max(500),
  session_id: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type SearchQuery = z.input<typeof SearchQuerySchema>;

export const TaskListQuerySchema = z.object({
  state: z.enum(TASK_STATES).optional(),
  cli_tool: z.string().max(64).optional(),
  user_id: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type TaskListQuery = z.input<typeof TaskListQuerySchema>;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface CreateSessionResponse {
  session_id: string;
  status: string;
  websocket_url: string;
  created_at: string;
  session: SessionInfo;
}

/** One row of a session's history: what was typed, what was printed, how the state changed. */
export type HistoryEntry =
  | { message_type: 'command'; at: string; seq: number | null; command: string; kind: 'command' | 'input' }
  | { message_type: 'output'; at: string; seq_start: number; seq_end: number; output: string }
  | { message_type: 'state'; at: string; from: string | null; to: string; reason: string };

export interface SearchHit {
  session_id: string;
  session_name: string;
  cli_tool: string;
  kind: 'output' | 'command';
  /** First sequence number of the stored output chunk (or the command's seq). */
  seq: number | null;
  at: string;
  /** Text around the match with the match wrapped in « ». */
  snippet: string;
}

export interface ProviderSummary {
  id: string;
  name: string;
  binary: string;
  installed: boolean;
  resolved_path: string | null;
  version: string | null;
  env_keys: string[];
  env_missing: string[];
  supports_one_shot: boolean;
  supports_full_access: boolean;
}

export interface HealthResponse {
  status: 'ok' | 'degraded';
  version: string;
  uptime_s: number;
  sessions: number;
  persistence: { ok: boolean; paused_reason: string | null };
  redis: { configured: boolean; connected: boolean };
}
