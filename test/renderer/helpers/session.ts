import type { SessionInfo } from '../../../src-shared/session.ts';

/** A complete SessionInfo with overrides, for renderer logic tests. */
export function session(overrides: Partial<SessionInfo> & { session_id: string }): SessionInfo {
  const at = overrides.created_at ?? '2026-11-21T06:00:00.000Z';
  return {
    name: overrides.session_id,
    cli_tool: 'shell',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    state: 'running',
    state_reason: { source: 'lifecycle', detail: 'spawned', at },
    authentication_required: false,
    auth_prompt: null,
    pid: 1234,
    created_at: at,
    started_at: at,
    ended_at: null,
    last_activity: at,
    current_directory: '/tmp',
    exit_code: null,
    exit_signal: null,
    cols: 120,
    rows: 32,
    last_seq: 0,
    title: null,
    command_history: [],
    worktree: null,
    metadata: {},
    ...overrides,
  };
}

/** The same session a moment later in a new state (newer reason time so it is never treated as stale). */
export function moved(s: SessionInfo, patch: Partial<SessionInfo>, seconds = 1): SessionInfo {
  const at = new Date(Date.parse(s.state_reason.at) + seconds * 1000).toISOString();
  return { ...s, state_reason: { source: 'screen-rule', detail: 'rule matched', at }, ...patch };
}
