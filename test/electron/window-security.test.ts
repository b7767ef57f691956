import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  denyAllPermissions,
  EXTERNAL_HOST_ALLOWLIST,
  installNavigationGuards,
  isAllowedExternalUrl,
} from '../../src-main/electron/navigation.ts';
import {
  auditWebPreferences,
  mainWindowOptions,
  REQUIRED_PREFERENCES,
  secureWebPreferences,
} from '../../src-main/electron/window-options.ts';

test('window preferences: isolated, sandboxed, no node, web security, no webview', () => {
  const opts = mainWindowOptions({ preloadPath: '/app/dist/preload/preload.cjs' });
  const prefs = opts.webPreferences;
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.devTools, false, 'devtools off unless asked for');
  assert.equal(prefs.backgroundThrottling, false, 'a hidden window keeps acking output (no PTY stall)');
  assert.equal(prefs.preload, '/app/dist/preload/preload.cjs');
  assert.equal(opts.show, false);
  assert.deepEqual(auditWebPreferences(prefs as unknown as Record<string, unknown>), []);
  assert.deepEqual(
    auditWebPreferences(secureWebPreferences('/p', { devTools: true }) as unknown as Record<string, unknown>),
    [],
  );
});

test('the audit flags every weakened preference', () => {
  for (const key of Object.keys(REQUIRED_PREFERENCES)) {
    const weak = {
      ...secureWebPreferences('/p'),
      [key]: !REQUIRED_PREFERENCES[key as keyof typeof REQUIRED_PREFERENCES],
    };
    const problems = auditWebPreferences(weak as unknown as Record<string, unknown>);
    assert.equal(problems.length, 1, key);
    assert.match(problems[0]!, new RegExp(`^${key}=`));
  }
  assert.deepEqual(auditWebPreferences(null), ['no web preferences']);
  // Electron leaves unset booleans undefined; missing contextIsolation/sandbox is a failure.
  assert.ok(auditWebPreferences({}).some((p) => p.startsWith('contextIsolation')));
  assert.ok(auditWebPreferences({}).some((p) => p.startsWith('sandbox')));
});

test('external links: https to allow-listed hosts only', () => {
  assert.equal(isAllowedExternalUrl('https://github.com/anthropics/claude-code'), true);
  assert.equal(isAllowedExternalUrl('https://docs.anthropic.com/en/docs'), true);
  const refused = [
    'http://github.com/',
    'https://github.com.evil.example/',
    'https://evilgithub.com/',
    'https://user:pw@github.com/',
    'https://github.com:8443/',
    'file:///etc/passwd',
    'smb://host/share',
    'ms-msdt:/id PCWDiagnostic',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'app://bundle/index.html',
    'https://example.com/',
    '',
    'not a url',
  ];
  for (const url of refused) assert.equal(isAllowedExternalUrl(url), false, url);
  assert.ok(EXTERNAL_HOST_ALLOWLIST.every((h) => !h.includes('/')));
});

function fakeContents() {
  const listeners = new Map<string, ((event: { preventDefault(): void }, url: string) => void)[]>();
  let openHandler: ((d: { url: string }) => { action: string }) | null = null;
  return {
    on(event: string, listener: (event: { preventDefault(): void }, url: string) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    },
    setWindowOpenHandler(handler: (d: { url: string }) => { action: 'deny' } | { action: 'allow' }) {
      openHandler = handler;
    },
    navigate(event: string, url: string): boolean {
      let prevented = false;
      for (const l of listeners.get(event) ?? [])
        l(
          {
            preventDefault() {
              prevented = true;
            },
          },
          url,
        );
      return prevented;
    },
    open(url: string) {
      return openHandler!({ url });
    },
  };
}

test('navigation guards: only app://bundle navigates; window.open is always denied; only https allow-list opens externally', () => {
  const contents = fakeContents();
  const opened: string[] = [];
  installNavigationGuards(contents, { openExternal: (u) => opened.push(u) });
  assert.equal(contents.navigate('will-navigate', 'app://bundle/index.html#/sessions'), false);
  for (const url of [
    'https://evil.example/',
    'file:///etc/passwd',
    'app://bundle.evil/',
    'javascript:alert(1)',
  ]) {
    assert.equal(contents.navigate('will-navigate', url), true, url);
    assert.equal(contents.navigate('will-redirect', url), true, url);
  }
  assert.equal(contents.navigate('will-navigate', 'https://github.com/x'), true, 'blocked in-window…');
  assert.deepEqual(opened, ['https://github.com/x'], '…and opened in the system browser instead');
  assert.equal(contents.navigate('will-attach-webview', ''), true);

  for (const url of [
    'https://github.com/y',
    'smb://evil/share',
    'ms-msdt:/id',
    'file:///',
    'https://evil.example/',
    'app://bundle/',
  ]) {
    assert.deepEqual(contents.open(url), { action: 'deny' }, url);
  }
  assert.deepEqual(opened, ['https://github.com/x', 'https://github.com/y']);
});

test('permissions: every request and check is denied', () => {
  const decisions: boolean[] = [];
  let check: ((c: unknown, p: string) => boolean) | null = null;
  let request: ((c: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
  let device: (() => boolean) | null = null;
  let display: ((r: unknown, cb: (s: object) => void) => void) | null = null;
  denyAllPermissions({
    setPermissionRequestHandler: (h) => {
      request = h;
    },
    setPermissionCheckHandler: (h) => {
      check = h;
    },
    setDevicePermissionHandler: (h) => {
      device = h;
    },
    setDisplayMediaRequestHandler: (h) => {
      display = h;
    },
  });
  for (const p of [
    'media',
    'clipboard-read',
    'clipboard-sanitized-write',
    'notifications',
    'geolocation',
    'openExternal',
  ]) {
    request!(null, p, (g) => decisions.push(g));
    assert.equal(check!(null, p), false, p);
  }
  assert.ok(decisions.length === 6 && decisions.every((d) => d === false));
  assert.equal(device!(), false);
  let streams: object | null = null;
  display!(null, (s) => {
    streams = s;
  });
  assert.deepEqual(streams, {});
});
