import { useEffect, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionUsage, UsageReport } from '../../../src-shared/usage.ts';
import { describeError } from '../api/api-error.ts';
import { budgetWarnings, costLabel, tokensLabel } from '../model/usage-format.ts';

/**
 * Tokens and cost of interactive sessions (read by the core from the agents' own records): one
 * session's figures for its detail panel, and an overview per provider, per day and per session with
 * the budgets. Self-contained: each container reads through AutoDevApi and refreshes on the `usage` and
 * `budget` live events; the tables below them are plain views of the contract's shapes.
 */

/** The stable code of a failed call: `code` over REST (ApiError), `error_code` over IPC. */
function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; error_code?: unknown } | null;
  const code = e?.code ?? e?.error_code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Re-read on live usage/budget events (at most once a second). The matcher is read through a ref: a
 * parent re-rendering (state events arrive all the time) must not resubscribe and drop a pending tick.
 */
function useUsageEvents(api: AutoDevApi, match: (sessionId: string | null) => boolean): number {
  const [tick, setTick] = useState(0);
  const matchRef = useRef(match);
  matchRef.current = match;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = api.onEvent((event) => {
      const id =
        event.kind === 'usage'
          ? event.usage.session_id
          : event.kind === 'budget'
            ? event.budget.session_id
            : undefined;
      if (id === undefined || !matchRef.current(id)) return;
      timer ??= setTimeout(() => {
        timer = null;
        setTick((n) => n + 1);
      }, 1000);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [api]);
  return tick;
}

export function SessionUsageTable({ usage }: { usage: SessionUsage }) {
  return (
    <table className="usage-table" aria-label="Tokens and cost by model">
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">Calls</th>
          <th scope="col">Tokens</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {usage.models.map((m) => (
          <tr key={m.model}>
            <td className="mono">{m.model || '(unnamed)'}</td>
            <td>{m.calls}</td>
            <td>{tokensLabel(m)}</td>
            <td>{costLabel(m)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Total</th>
          <td>{usage.totals.calls}</td>
          <td data-field="session-tokens">{tokensLabel(usage.totals)}</td>
          <td data-field="session-cost">{costLabel(usage.totals)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

/** One session's tokens and cost (its detail panel). */
export function SessionUsagePanel({ api, sessionId }: { api: AutoDevApi; sessionId: string }) {
  const [usage, setUsage] = useState<SessionUsage | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const tick = useUsageEvents(api, (id) => id === sessionId);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-reads on live usage events
  useEffect(() => {
    let cancelled = false;
    api
      .getSessionUsage(sessionId)
      .then((u) => {
        if (cancelled) return;
        setUsage(u);
        setNote(null);
      })
      .catch((e) => {
        if (cancelled) return;
        setUsage(null);
        setNote(
          errorCode(e) === 'NOT_FOUND'
            ? 'No usage recorded: this agent keeps no record AutoDev reads, or has not answered yet.'
            : describeError(e),
        );
      });
    return () => {
      cancelled = true;
    };
  }, [api, sessionId, tick]);
  return (
    <section className="usage-panel" aria-label="Tokens and cost">
      <h3>Tokens and cost</h3>
      {usage ? <SessionUsageTable usage={usage} /> : <p className="muted">{note ?? 'Loading…'}</p>}
    </section>
  );
}

export function UsageTables({ report }: { report: UsageReport }) {
  const warnings = budgetWarnings(report.budgets);
  return (
    <div className="usage-overview">
      {warnings.map((w) => (
        <p key={w} className="hint hint-warn" role="alert">
          {w}
        </p>
      ))}
      <p>
        {report.since_day} – {report.until_day}:{' '}
        <strong data-field="usage-total">{costLabel(report.totals)}</strong> · {tokensLabel(report.totals)} ·{' '}
        {report.totals.calls} model calls
      </p>
      <table className="usage-table" aria-label="Cost per provider">
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {report.providers.map((p) => (
            <tr key={p.cli_tool}>
              <td>{p.cli_tool}</td>
              <td>{tokensLabel(p)}</td>
              <td>{costLabel(p)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="usage-table" aria-label="Cost per day">
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {[...report.days].reverse().map((d) => (
            <tr key={d.day}>
              <td>{d.day}</td>
              <td>{tokensLabel(d)}</td>
              <td>{costLabel(d)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="usage-table" aria-label="Cost per session">
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">Provider</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {report.sessions.map((s) => (
            <tr key={s.session_id}>
              <td>{s.name ?? s.session_id}</td>
              <td>{s.cli_tool}</td>
              <td>{tokensLabel(s.totals)}</td>
              <td>{costLabel(s.totals)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const anySession = () => true;

/** Cost per provider, per day (30 days) and per session, with budget warnings. */
export function UsageOverview({ api }: { api: AutoDevApi }) {
  const [report, setReport] = useState<UsageReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = useUsageEvents(api, anySession);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-reads on live usage events
  useEffect(() => {
    let cancelled = false;
    api
      .getUsage({ days: 30 })
      .then((r) => !cancelled && (setReport(r), setError(null)))
      .catch((e) => !cancelled && setError(describeError(e)));
    return () => {
      cancelled = true;
    };
  }, [api, tick]);
  return (
    <details
      className="panel usage-panel"
      open={Boolean(report && budgetWarnings(report.budgets).length > 0)}
    >
      <summary>Tokens and cost{report ? ` · ${costLabel(report.totals)} in 30 days` : ''}</summary>
      {error ? (
        <p className="hint hint-warn">{error}</p>
      ) : report ? (
        <UsageTables report={report} />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </details>
  );
}
