import { useEffect, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { ProviderSummary } from '../../../src-shared/rest.ts';
import type { SessionDiagnostics } from '../../../src-shared/session.ts';
import type { TokenScope } from '../../../src-shared/ws-protocol.ts';
import { describeError } from '../api/api-error.ts';
import type { DashboardControl, DashboardStatus } from '../api/client-extras.ts';
import type { Preferences } from '../model/preferences.ts';
import { FONT_SIZE, SHORTCUT_HELP } from '../model/shortcuts.ts';
import type { InboxNotifications } from './Inbox.tsx';
import { providerNote, providerProblem, shortVersion } from './NewSessionDialog.tsx';
import { ProviderIcon } from './ProviderIcon.tsx';
import { formatLimits } from './SessionDetail.tsx';

export interface SettingsViewProps {
  api: AutoDevApi;
  prefs: Preferences;
  onPrefs(prefs: Preferences): void;
  providers: ProviderSummary[] | null;
  providersError: string | null;
  /** A session whose limits to show (limits are per session). */
  limitsSessionId: string | null;
  identity: { user_id: string; scope: TokenScope; mode: 'desktop' | 'dashboard' } | null;
  dashboard?: DashboardControl;
  onSignOut?: () => void;
  /** Dashboard: browser notification permission and its request (a user gesture). */
  notifications?: InboxNotifications | null;
}

export function SettingsView(props: SettingsViewProps) {
  const { prefs } = props;
  const mode = props.identity?.mode ?? 'desktop';
  return (
    <div className="settings-scroll">
      <section className="settings" aria-label="Settings">
        <div className="settings-card">
          <h2>Appearance</h2>
          <fieldset className="radio-row">
            <legend>Theme</legend>
            {(['dark', 'light'] as const).map((theme) => (
              <label key={theme}>
                <input
                  type="radio"
                  name="theme"
                  value={theme}
                  checked={prefs.theme === theme}
                  onChange={() => props.onPrefs({ ...prefs, theme })}
                />{' '}
                {theme === 'dark' ? 'Dark' : 'Light'}
              </label>
            ))}
          </fieldset>
          <label className="field-inline">
            <span>Terminal font size</span>
            <input
              type="number"
              min={FONT_SIZE.min}
              max={FONT_SIZE.max}
              value={prefs.fontSize}
              onChange={(e) => {
                const size = Number(e.target.value);
                if (size >= FONT_SIZE.min && size <= FONT_SIZE.max)
                  props.onPrefs({ ...prefs, fontSize: size });
              }}
            />
          </label>
          <label className="field-check">
            <input
              type="checkbox"
              checked={prefs.gpu === 'auto'}
              onChange={(e) => props.onPrefs({ ...prefs, gpu: e.target.checked ? 'auto' : 'off' })}
            />{' '}
            GPU-accelerated terminal (WebGL, visible terminal only; falls back automatically)
          </label>
        </div>

        {props.notifications ? (
          <NotificationSettings prefs={prefs} onPrefs={props.onPrefs} notifications={props.notifications} />
        ) : null}

        {props.dashboard ? (
          <div className="settings-card">
            <DashboardSettings dashboard={props.dashboard} />
          </div>
        ) : null}

        <div className="settings-card settings-wide">
          <h2>Providers</h2>
          {props.providers === null ? (
            <p className="muted">
              {props.providersError ? `Could not load providers: ${props.providersError}` : 'Loading…'}
            </p>
          ) : (
            <div className="table-scroll">
              <table className="providers-table">
                <thead>
                  <tr>
                    <th scope="col">Provider</th>
                    <th scope="col">Status</th>
                    <th scope="col">Binary</th>
                    <th scope="col">Version</th>
                  </tr>
                </thead>
                <tbody>
                  {props.providers.map((p) => (
                    <tr key={p.id} data-provider={p.id}>
                      <td>
                        <ProviderIcon provider={p.id} size={14} /> {p.name}
                      </td>
                      <td data-field="readiness">
                        {providerProblem(p) ? (
                          <span className="danger-text">{providerProblem(p)}</span>
                        ) : (
                          <>
                            ready
                            {providerNote(p) ? <span className="muted"> — {providerNote(p)}</span> : null}
                          </>
                        )}
                      </td>
                      <td className="mono cell-path">{p.resolved_path ?? p.binary}</td>
                      <td className={p.version ? 'cell-version' : 'cell-version cell-empty'}>
                        {shortVersion(p.version) ?? '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>

        <div className="settings-card">
          <h2>Limits</h2>
          <LimitsPanel api={props.api} sessionId={props.limitsSessionId} />
        </div>

        <div className="settings-card">
          <h2>Keyboard shortcuts</h2>
          <dl className="shortcuts" data-mode={mode}>
            {SHORTCUT_HELP[mode].map(([keys, what]) => (
              <div key={keys}>
                <dt>
                  <kbd>{keys}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </div>

        {props.identity ? (
          <div className="settings-card">
            <h2>Account</h2>
            <p>
              Signed in as <strong>{props.identity.user_id}</strong> with{' '}
              {props.identity.scope === 'control' ? 'full control' : 'read-only access'}.
            </p>
            {props.onSignOut ? (
              <button type="button" className="button" onClick={props.onSignOut}>
                Sign out
              </button>
            ) : null}
          </div>
        ) : null}
      </section>
    </div>
  );
}

/** Dashboard: browser notifications when an agent needs you while the page is in the background. */
function NotificationSettings({
  prefs,
  onPrefs,
  notifications,
}: {
  prefs: Preferences;
  onPrefs(prefs: Preferences): void;
  notifications: InboxNotifications;
}) {
  const { permission } = notifications;
  return (
    <div className="settings-card">
      <h2>Notifications</h2>
      {permission === 'unsupported' ? (
        <p className="muted">This browser does not offer notifications to pages served over plain HTTP.</p>
      ) : permission === 'denied' ? (
        <p className="hint hint-warn">
          Notifications are blocked for this site. Allow them in the browser's site settings to be told when
          an agent needs you.
        </p>
      ) : permission === 'default' ? (
        <>
          <p className="muted">
            Get a notification when an agent needs you while this page is in the background.
          </p>
          <button
            type="button"
            className="button button-primary"
            onClick={() => void notifications.request()}
          >
            Turn on notifications
          </button>
        </>
      ) : (
        <label className="field-check">
          <input
            type="checkbox"
            checked={prefs.notify}
            onChange={(e) => onPrefs({ ...prefs, notify: e.target.checked })}
          />{' '}
          Notify me when an agent needs me while this page is in the background
        </label>
      )}
    </div>
  );
}

function LimitsPanel({ api, sessionId }: { api: AutoDevApi; sessionId: string | null }) {
  const [diag, setDiag] = useState<SessionDiagnostics | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!sessionId) return;
    let cancelled = false;
    api
      .getDiagnostics(sessionId)
      .then((d) => !cancelled && setDiag(d))
      .catch((e) => !cancelled && setError(describeError(e)));
    return () => {
      cancelled = true;
    };
  }, [api, sessionId]);
  if (!sessionId) return <p className="muted">Open a session to see the limits that apply to it.</p>;
  if (error) return <p className="hint hint-warn">{error}</p>;
  if (!diag) return <p className="muted">Loading…</p>;
  return (
    <p>
      Limits for <strong>{diag.session.name}</strong>: {formatLimits(diag.limits)}
    </p>
  );
}

/** Desktop only: turn the LAN dashboard on or off and show its URL and a token to sign in with. */
function DashboardSettings({ dashboard }: { dashboard: DashboardControl }) {
  const [status, setStatus] = useState<DashboardStatus | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [showToken, setShowToken] = useState(false);
  useEffect(() => {
    dashboard
      .getStatus()
      .then(setStatus)
      .catch((e) => setError(describeError(e)));
  }, [dashboard]);
  const toggle = async (enabled: boolean) => {
    setBusy(true);
    setError(null);
    try {
      setStatus(await dashboard.setEnabled(enabled));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h2>LAN dashboard</h2>
      <label className="field-check">
        <input
          type="checkbox"
          checked={status?.enabled ?? false}
          disabled={busy || !status}
          onChange={(e) => void toggle(e.target.checked)}
        />{' '}
        Let other devices on this network watch and drive sessions in a browser
      </label>
      {status?.enabled ? (
        <div className="dashboard-info">
          <p>
            Open <code className="selectable">{status.url ?? '(starting…)'}</code> on the other device and
            sign in with this token.
          </p>
          {status.token ? (
            <p>
              <button type="button" className="button button-small" onClick={() => setShowToken((v) => !v)}>
                {showToken ? 'Hide token' : 'Show token'}
              </button>{' '}
              {showToken ? <code className="selectable token">{status.token}</code> : null}
            </p>
          ) : null}
          {status.qr && status.qr.length > 0 ? <QrCode rows={status.qr} /> : null}
        </div>
      ) : null}
      {error || status?.error ? (
        <p className="hint hint-danger" role="alert">
          {error ?? status?.error}
        </p>
      ) : null}
    </>
  );
}

/** The desktop's QR code (rows of '1'/'0') drawn as SVG, with a quiet zone, for phones. */
export function QrCode({ rows }: { rows: string[] }) {
  const size = rows.length;
  const cells: string[] = [];
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) if (row[x] === '1') cells.push(`M${x + 4} ${y + 4}h1v1h-1z`);
  });
  return (
    <svg
      className="qr"
      role="img"
      aria-label="QR code of the dashboard address"
      viewBox={`0 0 ${size + 8} ${size + 8}`}
      width={Math.min(240, (size + 8) * 4)}
      height={Math.min(240, (size + 8) * 4)}
      shapeRendering="crispEdges"
    >
      <rect width="100%" height="100%" fill="#ffffff" />
      <path d={cells.join('')} fill="#000000" />
    </svg>
  );
}
