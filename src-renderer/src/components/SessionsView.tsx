import { useEffect, useMemo, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SearchHit } from '../../../src-shared/rest.ts';
import { SESSION_STATES, type SessionInfo } from '../../../src-shared/session.ts';
import { describeError } from '../api/api-error.ts';
import { canResume } from '../api/session-actions.ts';
import { useNow } from '../hooks/use-now.ts';
import { groupHits } from '../model/search-hits.ts';
import {
  EMPTY_FILTER,
  filterSessions,
  formatAge,
  type SessionFilter,
  type StateFilter,
  splitSnippet,
} from '../model/session-filter.ts';
import { hasEnded } from '../model/session-life.ts';
import { ReplayIcon, ResumeIcon, SearchIcon, TerminalIcon, TrashIcon } from './Icons.tsx';
import { ProviderIcon } from './ProviderIcon.tsx';
import { StateBadge } from './StateBadge.tsx';
import { UsageOverview } from './UsagePanels.tsx';
import type { SessionActions } from './Workspace.tsx';

export interface SessionsViewProps {
  api: AutoDevApi;
  /** Sessions known from the live list (merged with the full list loaded here; their names win). */
  live: Readonly<Record<string, SessionInfo>>;
  removed: ReadonlySet<string>;
  readOnly: boolean;
  selected: string | null;
  onSelect(sessionId: string): void;
  actions: SessionActions;
}

/** All sessions, ended ones included, with filters and full-text search over their output. */
export function SessionsView(props: SessionsViewProps) {
  const { api } = props;
  const now = useNow(1000);
  const [all, setAll] = useState<SessionInfo[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [filter, setFilter] = useState<SessionFilter>(EMPTY_FILTER);
  const [showRemoved, setShowRemoved] = useState(false);
  const [query, setQuery] = useState('');
  const [searched, setSearched] = useState('');
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

  const byId = useMemo(() => {
    const map = new Map(all.map((s) => [s.session_id, s]));
    for (const s of Object.values(props.live)) map.set(s.session_id, s);
    return map;
  }, [all, props.live]);
  const merged = useMemo(() => [...byId.values()], [byId]);
  const providers = useMemo(() => [...new Set(merged.map((s) => s.cli_tool))].sort(), [merged]);
  const filtered = filterSessions(merged, filter);
  const rows = showRemoved ? filtered : filtered.filter((s) => !props.removed.has(s.session_id));
  const hiddenCount = filtered.length - rows.length;
  const groups = useMemo(() => (hits ? groupHits(hits) : null), [hits]);

  const runSearch = async () => {
    const q = query.trim();
    if (!q) {
      setHits(null);
      return;
    }
    setSearching(true);
    setSearchError(null);
    try {
      setHits(await api.search({ q, limit: 200 }));
      setSearched(q);
    } catch (e) {
      setSearchError(describeError(e));
      setHits(null);
    } finally {
      setSearching(false);
    }
  };

  return (
    <section className="sessions-view" aria-label="All sessions">
      <UsageOverview api={api} />
      <div className="toolbar">
        <search className="history-search">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void runSearch();
            }}
          >
            <label className="search-field">
              <SearchIcon />
              <span className="visually-hidden">Search output</span>
              <input
                type="search"
                value={query}
                placeholder="Search all output and input"
                onChange={(e) => setQuery(e.target.value)}
              />
            </label>
            <button type="submit" className="button" disabled={searching}>
              {searching ? 'Searching…' : 'Search'}
            </button>
          </form>
        </search>
        <div className="filters">
          <label className="field-inline">
            <span>State</span>
            <select
              value={filter.state}
              onChange={(e) => setFilter({ ...filter, state: e.target.value as StateFilter })}
            >
              <option value="all">All</option>
              <option value="active">Running</option>
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
              placeholder="name, folder, id"
              value={filter.text}
              onChange={(e) => setFilter({ ...filter, text: e.target.value })}
            />
          </label>
        </div>
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
      {groups && hits ? (
        <div className="search-results" aria-live="polite">
          <h3>
            {groups.length} place{groups.length === 1 ? '' : 's'} mention “{searched}”
            {hits.length !== groups.length ? (
              <span className="muted"> ({hits.length} hits; repeats of a redrawn screen are grouped)</span>
            ) : null}
          </h3>
          <ul className="plain-list">
            {groups.map((group) => {
              const session = byId.get(group.session_id);
              const first = group.hits[0]!;
              return (
                <li
                  key={group.key}
                  className="hit"
                  data-session-id={group.session_id}
                  data-hits={group.hits.length}
                >
                  <div className="hit-head">
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => props.onSelect(group.session_id)}
                    >
                      <ProviderIcon provider={session?.cli_tool ?? first.cli_tool} size={14} />{' '}
                      <span className="hit-name">{session?.name ?? first.session_name}</span>
                    </button>
                    <span className="muted">
                      {group.kind === 'command' ? 'typed' : 'printed'} · {formatAge(group.to, now)} ago
                      {group.hits.length > 1 ? ` · ${group.hits.length}×` : ''}
                    </span>
                  </div>
                  {group.snippets.map((snippet) => (
                    <div key={snippet} className="snippet mono">
                      {splitSnippet(snippet).map((part) =>
                        part.match ? (
                          <mark key={part.start}>{part.text}</mark>
                        ) : (
                          <span key={part.start}>{part.text}</span>
                        ),
                      )}
                    </div>
                  ))}
                </li>
              );
            })}
          </ul>
        </div>
      ) : null}
      <table className="sessions-table">
        <caption className="visually-hidden">Sessions</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Folder</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => {
            const ended = hasEnded(s);
            return (
              <tr
                key={s.session_id}
                className={s.session_id === props.selected ? 'row-selected' : ''}
                data-session-id={s.session_id}
                aria-selected={s.session_id === props.selected}
              >
                <td className="cell-name">
                  <button type="button" className="link-button" onClick={() => props.onSelect(s.session_id)}>
                    <ProviderIcon provider={s.cli_tool} size={14} /> {s.name}
                  </button>
                </td>
                <td className="cell-state">
                  <StateBadge session={s} compact />
                </td>
                <td className="mono ellipsis cell-folder" title={s.current_directory}>
                  {s.current_directory}
                </td>
                <td className="cell-age">{formatAge(s.created_at, now)} ago</td>
                <td className="cell-actions">
                  {ended ? (
                    <>
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => props.actions.replay(s.session_id)}
                      >
                        <ReplayIcon size={13} /> Replay
                      </button>
                      {!props.readOnly && props.actions.resume && canResume(api, s) ? (
                        <button
                          type="button"
                          className="button button-small"
                          onClick={() => props.actions.resume?.(s.session_id)}
                        >
                          <ResumeIcon size={13} /> Resume
                        </button>
                      ) : null}
                      {!props.removed.has(s.session_id) ? (
                        <button
                          type="button"
                          className="button button-small"
                          onClick={() => props.actions.remove(s.session_id)}
                        >
                          <TrashIcon size={13} /> Remove
                        </button>
                      ) : null}
                    </>
                  ) : (
                    <button
                      type="button"
                      className="button button-small"
                      onClick={() => props.actions.open(s.session_id)}
                    >
                      <TerminalIcon size={13} /> Open
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                No sessions match.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {hiddenCount > 0 || showRemoved ? (
        <p className="muted">
          <button type="button" className="link-button" onClick={() => setShowRemoved((v) => !v)}>
            {showRemoved
              ? 'Hide removed sessions'
              : `Show ${hiddenCount} removed session${hiddenCount === 1 ? '' : 's'}`}
          </button>
        </p>
      ) : null}
    </section>
  );
}
