import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpcError, type IpcHandlerMap, registerIpcHandlers } from '../../src-main/electron/ipc-router.ts';
import { checkSender, isAppUrl } from '../../src-main/electron/sender-guard.ts';
import { IPC_CHANNELS, type IpcChannel, type IpcResult } from '../../src-shared/ipc.ts';
import { APP_FRAME, FakeIpcMain, frame } from './fakes.ts';

/** Handlers that record the validated payloads they saw. */
function recordingHandlers(seen: { channel: string; payload: unknown }[]): IpcHandlerMap<{ id: number }> {
  return Object.fromEntries(
    IPC_CHANNELS.map((channel) => [
      channel,
      (payload: unknown) => {
        seen.push({ channel, payload });
        return { echoed: channel };
      },
    ]),
  ) as unknown as IpcHandlerMap<{ id: number }>;
}

function setup() {
  const ipcMain = new FakeIpcMain();
  const seen: { channel: string; payload: unknown }[] = [];
  const logs: string[] = [];
  const handlers = recordingHandlers(seen);
  const disposable = registerIpcHandlers(ipcMain, handlers, {
    resolveWindow: (id) => (id === 7 ? { id } : undefined),
    log: (m) => logs.push(m),
  });
  return { ipcMain, seen, logs, handlers, disposable };
}

test('one handler per contract channel, nothing else; dispose removes them all', () => {
  const { ipcMain, disposable } = setup();
  assert.deepEqual([...ipcMain.handlers.keys()].sort(), [...IPC_CHANNELS].sort());
  assert.ok(IPC_CHANNELS.length >= 30);
  for (const channel of IPC_CHANNELS) assert.match(channel, /^autodev:[a-z:-]+$/);
  disposable.dispose();
  assert.equal(ipcMain.handlers.size, 0);
});

test('sender check: only the top frame on app://bundle is accepted', async () => {
  const { ipcMain, seen } = setup();
  const refused = [
    frame('file:///home/user/index.html'),
    frame('https://evil.example/'),
    frame('http://localhost:5173/'),
    frame('app://bundle.evil/index.html'),
    frame('app://evil/index.html'),
    frame('app://user:pw@bundle/index.html'),
    frame('apps://bundle/index.html'),
    frame('about:blank'),
    frame('data:text/html,hi'),
    frame('app://bundle/index.html', { parent: {} }), // sub-frame
    frame('app://bundle/index.html', { detached: true }),
    frame('app://bundle/index.html', { destroyed: true }),
    null,
  ];
  for (const f of refused) {
    const result = (await ipcMain.invoke('autodev:whoami', f, 7)) as IpcResult;
    assert.equal(result.ok, false, `accepted ${f?.url}`);
    assert.equal(!result.ok && result.error.error_code, 'FORBIDDEN');
  }
  // A frame whose properties throw (went away mid-call) is refused too.
  const throwing = {
    get url(): string {
      throw new Error('Render frame was disposed');
    },
    parent: null,
  };
  assert.equal(((await ipcMain.invoke('autodev:whoami', throwing, 7)) as IpcResult).ok, false);
  const vanished = {
    get senderFrame(): never {
      throw new Error('WebFrameMain could not be accessed');
    },
    sender: { id: 7 },
  };
  const handler = ipcMain.handlers.get('autodev:whoami')!;
  assert.equal(
    ((await handler(vanished)) as IpcResult).ok,
    false,
    'a senderFrame getter that throws fails closed',
  );
  assert.equal(seen.length, 0, 'no handler ran for a refused sender');

  const ok = (await ipcMain.invoke('autodev:whoami', APP_FRAME, 7)) as IpcResult;
  assert.deepEqual(ok, { ok: true, value: { echoed: 'autodev:whoami' } });
  assert.equal(seen.length, 1);
});

test('sender check: a right-origin frame in a webContents that is not ours is refused', async () => {
  const { ipcMain, seen } = setup();
  const result = (await ipcMain.invoke('autodev:whoami', APP_FRAME, 99)) as IpcResult;
  assert.equal(!result.ok && result.error.error_code, 'FORBIDDEN');
  assert.equal(seen.length, 0);
});

test('isAppUrl / checkSender compare scheme and host literally', () => {
  assert.equal(isAppUrl('app://bundle/'), true);
  assert.equal(isAppUrl('app://bundle/assets/x.js?y#z'), true);
  // Chromium canonicalises standard-scheme hosts to lower case; anything else is refused (fail closed).
  assert.equal(isAppUrl('app://BUNDLE/'), false);
  assert.equal(isAppUrl('app://bundle:8080/'), false);
  assert.equal(isAppUrl('not a url'), false);
  assert.deepEqual(checkSender(undefined), { ok: false, reason: 'no sender frame' });
});

test('payload validation: bad types, 10 MB strings, __proto__, extra keys and extra args are errors; main stays alive', async () => {
  const { ipcMain, seen } = setup();
  const big = 'x'.repeat(10 * 1024 * 1024);
  const protoPayload = JSON.parse('{"__proto__": {"polluted": true}, "session_id": "s1"}');
  const cases: [IpcChannel, unknown[]][] = [
    ['autodev:sessions:get', [{ session_id: 42 }]],
    ['autodev:sessions:get', [{ session_id: '"; touch pwned' }]],
    ['autodev:sessions:get', [{ session_id: '$(id)' }]],
    ['autodev:sessions:get', ['s1']],
    ['autodev:sessions:get', [null]],
    ['autodev:sessions:get', [protoPayload]],
    ['autodev:sessions:get', [{ session_id: 's1', extra: 1 }]],
    ['autodev:sessions:get', [{ session_id: 's1' }, { second: true }]],
    ['autodev:sessions:create', [{ request: { cli_tool: 'x; rm -rf /' } }]],
    ['autodev:sessions:create', [{ request: { cli_tool: 'shell', initial_prompt: big } }]],
    ['autodev:sessions:create', [{ request: { cli_tool: 'shell', cols: 1e9 } }]],
    ['autodev:sessions:rename', [{ session_id: 's1', name: big }]],
    ['autodev:terminal:input', [{ attachment_id: 'a1', data: big }]],
    ['autodev:terminal:command', [{ attachment_id: 'a1', text: big }]],
    ['autodev:terminal:resize', [{ attachment_id: 'a1', cols: 0, rows: 24 }]],
    ['autodev:terminal:resize', [{ attachment_id: 'a1', cols: '80', rows: 24 }]],
    ['autodev:terminal:ack', [{ attachment_id: 'a1', chars: -5 }]],
    ['autodev:terminal:ack', [{ attachment_id: 'a1', chars: Number.NaN }]],
    ['autodev:search', [{ query: { q: big } }]],
    ['autodev:desktop:secrets:set', [{ name: 'lower', value: 'v' }]],
    ['autodev:desktop:secrets:set', [{ name: 'KEY', value: big }]],
    ['autodev:desktop:lan:start', [{ host: '0.0.0.0; rm' }]],
    ['autodev:desktop:lan:start', [{ port: 70000 }]],
    ['autodev:tasks:submit', [{ tasks: [] }]],
    ['autodev:whoami', [{ unexpected: true }]],
    ['autodev:whoami', ['string']],
  ];
  for (const [channel, args] of cases) {
    const result = (await ipcMain.invoke(channel, APP_FRAME, 7, ...args)) as IpcResult;
    assert.equal(result.ok, false, `${channel} accepted ${JSON.stringify(args).slice(0, 80)}`);
    assert.equal(!result.ok && result.error.error_code, 'VALIDATION_ERROR', channel);
    // Error bodies are bounded even when the input was huge.
    assert.ok(JSON.stringify(result).length < 10_000, `${channel} error body is bounded`);
  }
  assert.equal(seen.length, 0, 'no handler saw an invalid payload');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');

  // Still serving after the fuzzing.
  const ok = (await ipcMain.invoke('autodev:sessions:get', APP_FRAME, 7, { session_id: 's1' })) as IpcResult;
  assert.equal(ok.ok, true);
  assert.deepEqual(seen[0], { channel: 'autodev:sessions:get', payload: { session_id: 's1' } });
});

test('valid payloads reach handlers with schema defaults applied', async () => {
  const { ipcMain, seen } = setup();
  const r = (await ipcMain.invoke('autodev:sessions:create', APP_FRAME, 7, {
    request: { cli_tool: 'shell' },
  })) as IpcResult;
  assert.equal(r.ok, true);
  const payload = seen[0]!.payload as { request: { cols: number; full_access: boolean; env: object } };
  assert.equal(payload.request.cols, 120);
  assert.equal(payload.request.full_access, false);
  assert.deepEqual(payload.request.env, {});
  // Channels without payload accept none.
  assert.equal(((await ipcMain.invoke('autodev:providers:list', APP_FRAME, 7)) as IpcResult).ok, true);
});

test('handler errors become coded results, never rejections', async () => {
  const ipcMain = new FakeIpcMain();
  const logs: string[] = [];
  const handlers = recordingHandlers([]);
  handlers['autodev:sessions:get'] = () => {
    throw new IpcError('NOT_FOUND', 'session s9 not found');
  };
  handlers['autodev:providers:list'] = async () => {
    throw Object.assign(new Error('too many'), { code: 'PROCESS_LIMIT' });
  };
  handlers['autodev:whoami'] = () => {
    throw new TypeError('boom');
  };
  registerIpcHandlers(ipcMain, handlers, { resolveWindow: () => ({ id: 1 }), log: (m) => logs.push(m) });
  assert.deepEqual(await ipcMain.invoke('autodev:sessions:get', APP_FRAME, 1, { session_id: 's9' }), {
    ok: false,
    error: { error: 'session s9 not found', error_code: 'NOT_FOUND' },
  });
  assert.deepEqual(await ipcMain.invoke('autodev:providers:list', APP_FRAME, 1), {
    ok: false,
    error: { error: 'too many', error_code: 'PROCESS_LIMIT' },
  });
  const internal = (await ipcMain.invoke('autodev:whoami', APP_FRAME, 1)) as IpcResult;
  assert.equal(!internal.ok && internal.error.error_code, 'INTERNAL');
  assert.ok(
    logs.some((l) => l.includes('boom')),
    'internal errors are logged with their stack',
  );
});
