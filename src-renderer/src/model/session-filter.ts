import type { SessionInfo, SessionState } from '../../../src-shared/session.ts';
import { hasEnded } from './session-life.ts';

export type StateFilter = 'all' | 'active' | 'ended' | SessionState;

export interface SessionFilter {
  state: StateFilter;
  provider: string;
  /** Name / cwd / id substring match (case-insensitive); full-text output search is separate. */
  text: string;
}

export const EMPTY_FILTER: SessionFilter = { state: 'all', provider: 'all', text: '' };

export function filterSessions(sessions: readonly SessionInfo[], filter: SessionFilter): SessionInfo[] {
  const text = filter.text.trim().toLowerCase();
  return sessions
    .filter((s) => {
      if (filter.state === 'active' && hasEnded(s)) return false;
      if (filter.state === 'ended' && !hasEnded(s)) return false;
      if (
        filter.state !== 'all' &&
        filter.state !== 'active' &&
        filter.state !== 'ended' &&
        s.state !== filter.state
      )
        return false;
      if (filter.provider !== 'all' && s.cli_tool !== filter.provider) return false;
      if (
        text &&
        ![s.name, s.current_directory, s.session_id, s.cli_tool].some((f) => f.toLowerCase().includes(text))
      )
        return false;
      return true;
    })
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}

/** Split a search snippet whose matches are wrapped in « » into plain and highlighted parts. */
export function splitSnippet(raw: string): { text: string; match: boolean; start: number }[] {
  // Terminal output: CR LF and runs of blank lines would make the snippet tall and empty.
  const snippet = raw
    .replace(/\r\n?/g, '\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
  const parts: { text: string; match: boolean; start: number }[] = [];
  const re = /«([^»]*)»/g;
  let last = 0;
  for (let m = re.exec(snippet); m; m = re.exec(snippet)) {
    if (m.index > last) parts.push({ text: snippet.slice(last, m.index), match: false, start: last });
    parts.push({ text: m[1] ?? '', match: true, start: m.index });
    last = m.index + m[0].length;
  }
  if (last < snippet.length) parts.push({ text: snippet.slice(last), match: false, start: last });
  return parts;
}

/** "3 s", "5 min", "2 h", "4 d": how long ago an ISO time was. */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}
