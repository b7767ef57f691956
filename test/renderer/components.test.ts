import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import type { ProviderSummary } from '../../src-shared/rest.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { session } from './helpers/session.ts';

// biome-ignore lint/suspicious/noExplicitAny: components are loaded through a computed import (see helpers/tsx.ts)
type Component = (props: any) => unknown;
const { StateBadge } = await loadRenderer<{ StateBadge: Component }>('components/StateBadge.tsx');
const { TabBar } = await loadRenderer<{ TabBar: Component }>('components/TabBar.tsx');
const { NewSessionDialog } = await loadRenderer<{ NewSessionDialog: Component }>(
  'components/NewSessionDialog.tsx',
);
const { SignIn } = await loadRenderer<{ SignIn: Component }>('components/SignIn.tsx');
const { SessionBanner } = await loadRenderer<{ SessionBanner: Component }>('components/SessionBanner.tsx');
const { SettingsView } = await loadRenderer<{ SettingsView: Component }>('components/SettingsView.tsx');

const render = (c: Component, props: object) => renderToString(h(c as never, props as never));

const provider = (over: Partial<ProviderSummary>): ProviderSummary => ({
  id: 'shell',
  name: 'Shell',
  binary: 'bash',
  installed: true,
  resolved_path: '/bin/bash',
  version: '5.2',
  env_keys: [],
  env_missing: [],
  supports_one_shot: false,
  supports_full_access: false,
  ...over,
});

test('state badge: text plus state, reason in the tooltip, animation only while working', () => {
  const working = render(StateBadge, { session: session({ session_id: 's', state: 'processing' }) });
  assert.match(working, /data-state="processing"/);
  assert.match(working, /badge-animated/);
  assert.match(working, />Working</);
  const auth = render(StateBadge, {
    session: session({
      session_id: 's',
      state: 'waiting_input',
      authentication_required: true,
      auth_prompt: 'Paste code',
    }),
  });
  assert.match(auth, /data-state="auth"/);
  assert.match(auth, /title="Sign-in required: Paste code"/);
  assert.doesNotMatch(auth, /badge-animated/);
});

test('tab bar: ARIA tabs with selection, labelled close buttons and an attention mark', () => {
  const a = session({ session_id: 'a', name: 'api agent', cli_tool: 'claude' });
  const b = session({ session_id: 'b', name: 'shell', state: 'waiting_input' });
  const html = render(TabBar, {
    tabs: ['a', 'b'],
    sessions: { a, b },
    active: 'a',
    attention: new Set(['b']),
    canRename: true,
    onActivate() {},
    onClose() {},
    onRename() {},
    onNew() {},
  });
  assert.match(html, /role="tablist"/);
  assert.equal((html.match(/role="tab"/g) ?? []).length, 2);
  assert.match(html, /id="tab-a"[^>]*aria-selected="true"[^>]*aria-controls="panel-a"/);
  assert.match(html, /id="tab-b"[^>]*aria-selected="false"/);
  // The tab says its state in words (the badge is a dot for quiet states) and that it is unseen.
  assert.match(html, /aria-label="shell, Needs you, needs your attention"/);
  assert.match(html, /aria-label="api agent, [A-Z][a-z]+"/);
  assert.match(html, /class="tab tab-attention"/);
  assert.match(html, /aria-label="Close api agent"/);
  assert.match(html, /aria-label="New session"/);
  assert.match(html, /aria-label="claude provider"/);
  // Roving tabindex: only the selected tab is in the Tab order.
  assert.match(html, /id="tab-b"[^>]*tabindex="-1"/);
});

test('tab names from agents are text, never markup', () => {
  const evil = session({ session_id: 'x', name: '<img src=x onerror=alert(1)>' });
  const html = render(TabBar, {
    tabs: ['x'],
    sessions: { x: evil },
    active: 'x',
    attention: new Set(),
    canRename: false,
    onActivate() {},
    onClose() {},
    onRename() {},
  });
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.doesNotMatch(html, /aria-label="New session"/, 'no new-session button without permission');
});

test('new session dialog: labelled fields, installed / not installed with the reason', () => {
  const html = render(NewSessionDialog, {
    providers: [
      provider({ id: 'shell', name: 'Shell' }),
      provider({
        id: 'codex',
        name: 'Codex',
        binary: 'codex',
        installed: false,
        resolved_path: null,
        version: null,
      }),
    ],
    defaultProvider: 'codex',
    onCreate: async () => {},
    onClose() {},
  });
  assert.match(html, /role="dialog"/);
  assert.match(html, /aria-modal="true"/);
  assert.match(html, /Shell — installed \(5\.2\)/);
  assert.match(html, /Codex — not installed/);
  // The default provider is not installed, so the first installed one is chosen.
  assert.match(html, /Ready: \/bin\/bash/);
  assert.match(html, /<span>Working directory<\/span>/);
  assert.match(html, /Full access \(no permission prompts\)/);
  assert.match(html, /Shell has no full-access mode/);
  assert.match(html, /First prompt/);
  assert.match(html, /type="submit"/);

  const missing = render(NewSessionDialog, {
    providers: [provider({ id: 'codex', name: 'Codex', binary: 'codex', installed: false })],
    onCreate: async () => {},
    onClose() {},
  });
  assert.match(missing, /Cannot start: codex is not installed or not on PATH/);
  const long = render(NewSessionDialog, {
    providers: [provider({ version: 'GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)' })],
    onCreate: async () => {},
    onClose() {},
  });
  assert.match(long, /Shell — installed \(5\.2\.15\)</);
  assert.match(missing, /type="submit" class="button button-primary" disabled=""/);
});

test('sign-in: a labelled password field; the error is announced', () => {
  const html = render(SignIn, { onSignIn: async () => {}, initialError: 'The server refused this token' });
  assert.match(html, /<span>Access token<\/span><input[^>]*type="password"/);
  assert.match(html, /autoComplete="off"|autocomplete="off"/);
  assert.match(html, /role="alert"[^>]*>The server refused this token/);
});

test('session banner: the agent auth prompt is shown as text; read-only is stated', () => {
  const s = session({
    session_id: 's',
    state: 'waiting_input',
    authentication_required: true,
    auth_prompt: 'Open https://example.com/device <b>and</b> enter code',
  });
  const html = render(SessionBanner, { session: s, readOnly: true, connection: 'open', streamError: null });
  assert.match(
    html,
    /role="alert"[^>]*>Sign-in required — Open https:\/\/example.com\/device &lt;b&gt;and&lt;\/b&gt; enter code/,
  );
  assert.match(html, /Read-only: you can watch but not type/);
  const lost = render(SessionBanner, {
    session: session({ session_id: 's' }),
    readOnly: false,
    connection: 'closed',
    streamError: null,
  });
  assert.match(lost, /Connection lost — reconnecting/);
  assert.equal(
    render(SessionBanner, {
      session: session({ session_id: 's' }),
      readOnly: false,
      connection: 'open',
      streamError: null,
    }),
    '',
  );
});

test('settings: the LAN dashboard section appears only when the desktop bridge provides it', () => {
  const base = {
    api: {},
    prefs: { theme: 'dark', fontSize: 14 },
    onPrefs() {},
    providers: [provider({})],
    providersError: null,
    limitsSessionId: null,
    identity: { user_id: 'local', scope: 'read', mode: 'dashboard' },
  };
  const plain = render(SettingsView, base);
  assert.doesNotMatch(plain, /LAN dashboard/);
  assert.match(plain, /read-only access/);
  // The dashboard runs in a browser: it does not advertise the chords the browser keeps.
  assert.doesNotMatch(plain, /Ctrl\+Shift\+T|Ctrl\+Shift\+W|Ctrl\+Tab/);
  assert.match(plain, /Alt\+J/);
  const desktop = render(SettingsView, {
    ...base,
    identity: { ...base.identity, mode: 'desktop' },
    dashboard: {
      getStatus: async () => ({ enabled: false, url: null, token: null }),
      setEnabled: async () => ({}),
    },
  });
  assert.match(desktop, /LAN dashboard/);
  assert.match(desktop, /Ctrl\+Shift\+T/, 'the desktop app owns its keyboard');
});
