import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTODEV_API_KEYS } from '../../src-shared/ipc.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { session } from './helpers/session.ts';

type Storage = {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
};
type Chord = {
  key: string;
  code?: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
};
type Filter = { state: string; provider: string; text: string };
const { isDesktopBridge } = await loadRenderer<{ isDesktopBridge(v: unknown): boolean }>('api/ipc.ts');
const { pickTransport } = await loadRenderer<{
  pickTransport(w: { autodev?: unknown; location: { origin: string } }): { kind: string; baseUrl?: string };
}>('api/pick-transport.ts');
const { normalizeToken, TokenStore } = await loadRenderer<{
  normalizeToken(s: string): string | null;
  TokenStore: new (
    s: Storage | null,
  ) => { readonly token: string | null; set(t: string): void; clear(): void };
}>('api/token-store.ts');
const { safeExternalUrl } = await loadRenderer<{ safeExternalUrl(s: string): string | null }>(
  'model/links.ts',
);
const { loadPreferences, loadTabLayout, savePreferences, saveTabLayout } = await loadRenderer<{
  loadPreferences(
    s: Storage | null,
    dark?: boolean,
  ): { theme: string; fontSize: number; gpu: string; notify?: boolean; inbox?: boolean };
  savePreferences(
    s: Storage | null,
    p: { theme: string; fontSize: number; gpu: string; notify?: boolean; inbox?: boolean },
  ): void;
  loadTabLayout(s: Storage | null): { tabs: string[]; active: string | null; attention: string[] } | null;
  saveTabLayout(
    s: Storage | null,
    layout: { tabs: string[]; active: string | null; attention: string[] },
  ): void;
}>('model/preferences.ts');
const { providerLook } = await loadRenderer<{ providerLook(id: string): { color: string; glyph: string } }>(
  'model/providers.ts',
);
const { filterSessions, formatAge, splitSnippet } = await loadRenderer<{
  filterSessions(list: SessionInfo[], f: Filter): SessionInfo[];
  formatAge(iso: string | null, now?: number): string;
  splitSnippet(s: string): { text: string; match: boolean; start: number }[];
}>('model/session-filter.ts');
const { shortcutFor, zoomFont } = await loadRenderer<{
  shortcutFor(c: Chord, mode?: 'desktop' | 'dashboard'): unknown;
  zoomFont(size: number, delta: 1 | -1 | 0): number;
}>('model/shortcuts.ts');

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

const chord = (
  key: string,
  mods: Partial<{ ctrl: boolean; shift: boolean; alt: boolean; meta: boolean }> = {},
  code?: string,
) => ({
  key,
  ...(code ? { code } : {}),
  ctrlKey: !!mods.ctrl,
  shiftKey: !!mods.shift,
  altKey: !!mods.alt,
  metaKey: !!mods.meta,
});

test('shortcuts: new, close, next/previous, Alt+digit, zoom; plain keys go to the terminal', () => {
  assert.deepEqual(shortcutFor(chord('T', { ctrl: true, shift: true })), { type: 'new-session' });
  assert.deepEqual(shortcutFor(chord('W', { ctrl: true, shift: true })), { type: 'close-tab' });
  assert.deepEqual(shortcutFor(chord('Tab', { ctrl: true })), { type: 'next-tab' });
  assert.deepEqual(shortcutFor(chord('Tab', { ctrl: true, shift: true })), { type: 'previous-tab' });
  assert.deepEqual(shortcutFor(chord('3', { alt: true }, 'Digit3')), { type: 'tab-index', index: 2 });
  assert.deepEqual(
    shortcutFor(chord('£', { alt: true }, 'Digit3')),
    { type: 'tab-index', index: 2 },
    'layout-independent',
  );
  assert.deepEqual(shortcutFor(chord('=', { ctrl: true })), { type: 'zoom', delta: 1 });
  assert.deepEqual(shortcutFor(chord('-', { ctrl: true })), { type: 'zoom', delta: -1 });
  assert.deepEqual(shortcutFor(chord('0', { ctrl: true })), { type: 'zoom', delta: 0 });
  // Ctrl+C, Ctrl+W, Ctrl+T without Shift belong to the agent (interrupt, delete word…).
  for (const k of ['c', 'w', 't', 'd', 'l']) assert.equal(shortcutFor(chord(k, { ctrl: true })), null, k);
  assert.equal(shortcutFor(chord('a')), null);
  assert.equal(shortcutFor(chord('0', { alt: true }, 'Digit0')), null);
  assert.deepEqual(shortcutFor(chord('j', { alt: true }, 'KeyJ')), { type: 'next-needs-you' });
  // The dashboard leaves the browser its chords: reopen/close tab, switch tab, page zoom.
  for (const c of [
    chord('T', { ctrl: true, shift: true }),
    chord('W', { ctrl: true, shift: true }),
    chord('Tab', { ctrl: true }),
    chord('=', { ctrl: true }),
  ])
    assert.equal(shortcutFor(c, 'dashboard'), null, c.key);
  assert.deepEqual(shortcutFor(chord('j', { alt: true }, 'KeyJ'), 'dashboard'), { type: 'next-needs-you' });
  assert.deepEqual(shortcutFor(chord('F', { ctrl: true, shift: true }), 'dashboard'), { type: 'search' });
  // Paste and copy are the browser's clipboard events, not app shortcuts.
  assert.equal(shortcutFor(chord('V', { ctrl: true, shift: true })), null);
  assert.equal(zoomFont(32, 1), 32);
  assert.equal(zoomFont(8, -1), 8);
  assert.equal(zoomFont(20, 0), 14);
});

test('links from agent output: only plain http(s) opens', () => {
  assert.equal(safeExternalUrl('https://example.com/a?b=1'), 'https://example.com/a?b=1');
  assert.equal(safeExternalUrl(' http://localhost:3000 '), 'http://localhost:3000/');
  for (const bad of [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'file:///etc/passwd',
    'data:text/html,<script>alert(1)</script>',
    'smb://host/share',
    'ms-msdt:/id',
    'https://user:pw@evil.example/',
    'not a url',
  ])
    assert.equal(safeExternalUrl(bad), null, bad);
});

test('the token store keeps the token in the given (session) storage and forgets it on clear', () => {
  const storage = memoryStorage();
  const store = new TokenStore(storage);
  assert.equal(store.token, null);
  store.set('a.b.c');
  assert.equal(new TokenStore(storage).token, 'a.b.c', 'survives a reload of the same browser tab');
  store.clear();
  assert.equal(new TokenStore(storage).token, null);
  assert.equal(storage.map.size, 0);
  assert.equal(new TokenStore(null).token, null);
});

test('pasted tokens are normalised; junk is refused before any request', () => {
  assert.equal(normalizeToken('  Bearer eyJh.eyJz.sig_-  \n'), 'eyJh.eyJz.sig_-');
  assert.equal(normalizeToken('hello'), null);
  assert.equal(normalizeToken('a.b'), null);
  assert.equal(normalizeToken('a.b.c d'), null);
});

test('transport: window.autodev with the full API means desktop; otherwise the page origin', () => {
  const fn = () => {};
  const bridge = Object.fromEntries(AUTODEV_API_KEYS.filter((k) => k !== 'transport').map((k) => [k, fn]));
  assert.equal(isDesktopBridge(bridge), true);
  assert.deepEqual(pickTransport({ autodev: bridge, location: { origin: 'app://bundle' } }), { kind: 'ipc' });
  assert.deepEqual(pickTransport({ location: { origin: 'http://127.0.0.1:8001' } }), {
    kind: 'remote',
    baseUrl: 'http://127.0.0.1:8001',
  });
  // A page script cannot fake the desktop with a partial object.
  assert.deepEqual(
    pickTransport({ autodev: { whoami: fn }, location: { origin: 'http://x' } }).kind,
    'remote',
  );
});

test('preferences and tab layout round-trip and reject junk', () => {
  const storage = memoryStorage();
  const defaults = { fontSize: 14, gpu: 'auto', notify: true, inbox: true };
  assert.deepEqual(loadPreferences(storage, false), { theme: 'light', ...defaults });
  savePreferences(storage, { theme: 'dark', fontSize: 18, gpu: 'off', notify: false, inbox: false });
  assert.deepEqual(loadPreferences(storage), {
    theme: 'dark',
    fontSize: 18,
    gpu: 'off',
    notify: false,
    inbox: false,
  });
  storage.setItem('autodev.preferences', '{"theme":"neon","fontSize":900,"gpu":"maybe","notify":"x"}');
  assert.deepEqual(loadPreferences(storage, true), { theme: 'dark', ...defaults });
  storage.setItem('autodev.preferences', 'not json');
  assert.equal(loadPreferences(storage).fontSize, 14);
  assert.equal(loadTabLayout(storage), null, 'first visit: no layout');
  saveTabLayout(storage, { tabs: ['a', 'b'], active: 'b', attention: ['a'] });
  assert.deepEqual(loadTabLayout(storage), { tabs: ['a', 'b'], active: 'b', attention: ['a'] });
  storage.setItem('autodev.tabs', '{"tabs":[1,"x"],"active":5}');
  assert.deepEqual(loadTabLayout(storage), { tabs: ['x'], active: null, attention: [] });
});

test('session filters: state groups, provider, text; newest first', () => {
  const list = [
    session({
      session_id: 'a',
      cli_tool: 'claude',
      created_at: '2026-01-01T00:00:00Z',
      current_directory: '/src/api',
    }),
    session({ session_id: 'b', cli_tool: 'shell', state: 'completed', created_at: '2026-01-02T00:00:00Z' }),
    session({
      session_id: 'c',
      cli_tool: 'claude',
      state: 'waiting_input',
      created_at: '2026-01-03T00:00:00Z',
    }),
  ];
  const ids = (f: Parameters<typeof filterSessions>[1]) => filterSessions(list, f).map((s) => s.session_id);
  assert.deepEqual(ids({ state: 'all', provider: 'all', text: '' }), ['c', 'b', 'a']);
  assert.deepEqual(ids({ state: 'active', provider: 'all', text: '' }), ['c', 'a']);
  assert.deepEqual(ids({ state: 'ended', provider: 'all', text: '' }), ['b']);
  assert.deepEqual(ids({ state: 'waiting_input', provider: 'all', text: '' }), ['c']);
  assert.deepEqual(ids({ state: 'all', provider: 'claude', text: 'API' }), ['a']);
});

test('search snippets split on « » markers; ages read naturally', () => {
  assert.deepEqual(splitSnippet('say «hello» and «bye»!'), [
    { text: 'say ', match: false, start: 0 },
    { text: 'hello', match: true, start: 4 },
    { text: ' and ', match: false, start: 11 },
    { text: 'bye', match: true, start: 16 },
    { text: '!', match: false, start: 21 },
  ]);
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(formatAge('2026-01-01T11:59:30Z', now), '30 s');
  assert.equal(formatAge('2026-01-01T11:00:00Z', now), '1 h');
  assert.equal(formatAge('2025-12-30T12:00:00Z', now), '2 d');
  assert.equal(formatAge(null, now), '—');
});

test('provider looks: known ids are fixed, configured ones get a stable derived look', () => {
  assert.equal(providerLook('claude').glyph, 'C');
  assert.deepEqual(providerLook('my-cli'), providerLook('my-cli'));
  assert.equal(providerLook('my-cli').glyph, 'My');
});

test('desktop bridge: API methods delegate; window.autodev.desktop maps to the UI extras', async () => {
  const { createIpcApi } = await loadRenderer<{
    createIpcApi(bridge: unknown): {
      api: { transport: string; whoami(): Promise<unknown>; attach(...a: unknown[]): unknown };
      extras: {
        openExternal?(url: string): void;
        dashboard?: {
          getStatus(): Promise<{ enabled: boolean; url: string | null; token: string | null }>;
          setEnabled(on: boolean): Promise<{ enabled: boolean }>;
        };
        setViewedSession?(id: string | null): void;
        onDesktopEvent?: unknown;
      };
    };
  }>('api/ipc.ts');
  const calls: string[] = [];
  const method =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(',')})`);
      return { name };
    };
  const lan = (running: boolean) => ({
    running,
    url: running ? 'http://192.168.1.2:8001/' : null,
    host: null,
    port: null,
    token: running ? 't.o.k' : null,
    qr: null,
    started_at: null,
    error: null,
  });
  const bridge = {
    ...Object.fromEntries(
      [
        'whoami',
        'listProviders',
        'listSessions',
        'getSession',
        'createSession',
        'renameSession',
        'terminateSession',
        'getDiagnostics',
        'getHistory',
        'search',
        'exportSession',
        'attach',
        'onEvent',
        'submitTasks',
        'listTasks',
        'getTask',
        'controlTask',
      ].map((k) => [k, method(k)]),
    ),
    transport: 'ipc',
    desktop: {
      openExternal: method('openExternal'),
      setViewedSession: method('setViewedSession'),
      lanStatus: async () => lan(false),
      startLan: async () => lan(true),
      stopLan: async () => lan(false),
      onDesktopEvent: () => () => {},
    },
  };
  const { api, extras } = createIpcApi(Object.freeze(bridge));
  assert.equal(api.transport, 'ipc');
  await api.whoami();
  await api.attach('s1', {}, { lastSeq: 3 });
  extras.openExternal?.('https://example.com/');
  extras.setViewedSession?.('s1');
  assert.deepEqual(calls, [
    'whoami()',
    'attach("s1",{},{"lastSeq":3})',
    'openExternal("https://example.com/")',
    'setViewedSession("s1")',
  ]);
  assert.deepEqual(await extras.dashboard?.getStatus(), {
    enabled: false,
    url: null,
    token: null,
    qr: null,
    error: null,
  });
  assert.equal((await extras.dashboard?.setEnabled(true))?.enabled, true);
  assert.equal(typeof extras.onDesktopEvent, 'function');
  // Without `desktop` (or in a browser) the extras are simply absent.
  assert.deepEqual(createIpcApi({ ...bridge, desktop: undefined }).extras, {});
});

test('PTY host notices: lost sessions when it stops, a word when it is back, the give-up reason', async () => {
  const { ptyHostNotice } = await loadRenderer<{
    ptyHostNotice(status: Record<string, unknown>, previous: Record<string, unknown> | null): string | null;
  }>('model/pty-host.ts');
  const up = { connected: true, pid: 10, version: '0.1.0', started_at: 'x', restarts: 0, last_loss: null };
  assert.equal(ptyHostNotice(up, null), null);
  const down = { ...up, connected: false, last_loss: 'the PTY host (pid 10) stopped' };
  assert.match(ptyHostNotice(down, up) ?? '', /sessions were lost\. Restarting/);
  const back = { ...up, pid: 11, restarts: 1 };
  assert.match(ptyHostNotice(back, down) ?? '', /restarted/);
  const gaveUp = {
    ...down,
    last_loss:
      'the PTY host did not stay up: 5 restarts tried in 180 s (last: the PTY host (pid 10) stopped); not restarting it (restart AutoDev)',
  };
  assert.match(ptyHostNotice(gaveUp, back) ?? '', /not restarting it.*lost/);
});
