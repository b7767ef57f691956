import { useEffect, useMemo, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SearchHit } from '../../../src-shared/rest.ts';
import { SESSION_STATES, type SessionInfo } from '../../../src-shared/session.ts';
import { describeError } from '../api/api-error.ts';
import {
  EMPTY_FILTER,
  filterSessions,
  formatAge,
  type SessionFilter,
  type StateFilter,
  splitSnippet,
} from '../model/session-filter.ts';
import { isEnded } from '../model/state-badge.ts';
import { ProviderIcon } from './ProviderIcon.tsx';
import { StateBadge } from './StateBadge.tsx';

export interface SessionsViewProps {
  api: AutoDevApi;
  /** Sessions known from the live list (merged with the full list loaded here). */
  live: Readonly<Record<string, SessionInfo>>;
  selected: string | null;
  onSelect(sessionId: string): void;
  onOpen(sessionId: string): void;
  onReplay(sessionId: string): void;
}

/** All sessions, ended ones included, with filters and full-text search over their output. */
export function SessionsView(props: SessionsViewProps) {
  const { api } = props;
  const [all, setAll] = useState<SessionInfo[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [filter, setFilter] = useState<SessionFilter>(EMPTY_FILTER);
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    api
      .listSessions({ limit: 500 })
      .then((page) => !cancelled && setAll(page.items))
      .catch((e) => !cancelled && setLoadError(describeError(e)));
    return () => {
      cancelled = true;
    };
  }, [api]);

  const merged = useMemo(() => {
    const byId = new Map(all.map((s) => [s.session_id, s]));
    for (const s of Object.values(props.live)) byId.set(s.session_id, s);
    return [...byId.values()];
  }, [all, props.live]);
  const providers = useMemo(() => [...new Set(merged.map((s) => s.cli_tool))].sort(), [merged]);
  const rows = filterSessions(merged, filter);

  const runSearch = async () => {
    const q = query.trim();
    if (!q) {
      setHits(null);
      return;
    }
    setSearching(true);
    setSearchError(null);
    try {
      setHits(await api.search({ q, limit: 100 }));
    } catch (e) {
      setSearchError(describeError(e));
      setHits(null);
    } finally {
      setSearching(false);
    }
  };

  return (
    <section className="sessions-view" aria-label="All sessions">
      <div className="filters">
        <label className="field-inline">
          <span>State</span>
          <select
            value={filter.state}
            onChange={(e) => setFilter({ ...filter, state: e.target.value as StateFilter })}
          >
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="ended">Ended</option>
            {SESSION_STATES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          <span>Provider</span>
          <select
            value={filter.provider}
            onChange={(e) => setFilter({ ...filter, provider: e.target.value })}
          >
            <option value="all">All</option>
            {providers.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          <span>Filter</span>
          <input
            type="text"
            placeholder="name, directory, id"
            value={filter.text}
            onChange={(e) => setFilter({ ...filter, text: e.target.value })}
          />
        </label>
        <search className="field-inline">
          <form
            className="field-inline"
            onSubmit={(e) => {
              e.preventDefault();
              void runSearch();
            }}
          >
            <label>
              <span>Search output</span>
              <input
                type="search"
                value={query}
                placeholder="text printed or typed in any session"
                onChange={(e) => setQuery(e.target.value)}
              />
            </label>
            <button type="submit" className="button" disabled={searching}>
              {searching ? 'Searching…' : 'Search'}
            </button>
          </form>
        </search>
      </div>
      {loadError ? (
        <p className="hint hint-warn" role="alert">
          Could not load sessions: {loadError}
        </p>
      ) : null}
      {searchError ? (
        <p className="hint hint-warn" role="alert">
          Search failed: {searchError}
        </p>
      ) : null}
      {hits ? (
        <div className="search-results" aria-live="polite">
          <h3>
            {hits.length} match{hits.length === 1 ? '' : 'es'} for “{query.trim()}”
          </h3>
          <ul className="plain-list">
            {hits.map((hit) => (
              <li key={`${hit.session_id}-${hit.kind}-${hit.seq}-${hit.at}`}>
                <button type="button" className="link-button" onClick={() => props.onSelect(hit.session_id)}>
                  <ProviderIcon provider={hit.cli_tool} size={14} /> {hit.session_name}
                </button>{' '}
                <span className="muted">
                  {hit.kind} · {formatAge(hit.at)} ago
                </span>
                <div className="snippet mono">
                  {splitSnippet(hit.snippet).map((part) =>
                    part.match ? (
                      <mark key={part.start}>{part.text}</mark>
                    ) : (
                      <span key={part.start}>{part.text}</span>
                    ),
                  )}
                </div>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <table className="sessions-table">
        <caption className="visually-hidden">Sessions</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Directory</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr
              key={s.session_id}
              className={s.session_id === props.selected ? 'row-selected' : ''}
              data-session-id={s.session_id}
              aria-selected={s.session_id === props.selected}
            >
              <td>
                <button type="button" className="link-button" onClick={() => props.onSelect(s.session_id)}>
                  <ProviderIcon provider={s.cli_tool} size={14} /> {s.name}
                </button>
              </td>
              <td>
                <StateBadge session={s} compact />
              </td>
              <td className="mono ellipsis" title={s.current_directory}>
                {s.current_directory}
              </td>
              <td>{formatAge(s.created_at)} ago</td>
              <td>
                {isEnded(s) ? (
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => props.onReplay(s.session_id)}
                  >
                    Replay
                  </button>
                ) : (
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => props.onOpen(s.session_id)}
                  >
                    Open
                  </button>
                )}
              </td>
            </tr>
          ))}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                No sessions match.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
