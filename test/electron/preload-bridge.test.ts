import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  AUTODEV_API_KEYS,
  AUTODEV_DESKTOP_KEYS,
  type AutoDevDesktopBridge,
  IPC_CHANNELS,
  IPC_EVENT_CHANNEL,
  type IpcBatch,
} from '../../src-shared/ipc.ts';
import { buildPreload, runSandboxedPreload } from './helpers.ts';

interface Invocation {
  channel: string;
  args: unknown[];
}

/** ipcRenderer stand-in: records invokes, answers with a canned result, lets tests emit batches. */
class FakeIpcRenderer {
  readonly invocations: Invocation[] = [];
  readonly listeners = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();
  reply: (channel: string, args: unknown[]) => unknown = () => ({ ok: true, value: null });
  async invoke(channel: string, ...args: unknown[]) {
    this.invocations.push({ channel, args });
    return this.reply(channel, args);
  }
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void) {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }
  send() {
    throw new Error('bridge must not use send');
  }
  sendSync() {
    throw new Error('bridge must not use sendSync');
  }
  emit(batch: IpcBatch) {
    for (const l of this.listeners.get(IPC_EVENT_CHANNEL) ?? []) l({ sender: this, ports: [] }, batch);
  }
}

let bundle: { file: string; dir: string };
before(() => {
  bundle = buildPreload();
});
after(() => rmSync(bundle.dir, { recursive: true, force: true }));

function load() {
  const ipcRenderer = new FakeIpcRenderer();
  const exposed: { key: string; value: unknown }[] = [];
  const contextBridge = {
    exposeInMainWorld(key: string, value: unknown) {
      exposed.push({ key, value });
    },
  };
  runSandboxedPreload(bundle.file, { contextBridge, ipcRenderer });
  assert.equal(exposed.length, 1, 'exactly one exposeInMainWorld call');
  assert.equal(exposed[0]!.key, 'autodev');
  return { ipcRenderer, api: exposed[0]!.value as AutoDevDesktopBridge };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 5));

test('the bundle is one self-contained CommonJS file that exposes only window.autodev', () => {
  const { api } = load();
  assert.deepEqual(Object.keys(api).sort(), [...AUTODEV_API_KEYS, 'desktop'].sort());
  assert.deepEqual(Object.keys(api.desktop).sort(), [...AUTODEV_DESKTOP_KEYS].sort());
  assert.equal(api.transport, 'ipc');
  assert.ok(Object.isFrozen(api) && Object.isFrozen(api.desktop));
});

test('nothing of ipcRenderer is reachable from the exposed object', () => {
  const { api, ipcRenderer } = load();
  const seen = new Set<unknown>();
  const walk = (value: unknown, where: string) => {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value))
      return;
    seen.add(value);
    assert.notEqual(value, ipcRenderer, `${where} is ipcRenderer`);
    for (const key of Object.keys(value)) {
      assert.ok(
        !['invoke', 'send', 'sendSync', 'on', 'ipcRenderer', 'postMessage'].includes(key),
        `${where}.${key}`,
      );
      walk((value as Record<string, unknown>)[key], `${where}.${key}`);
    }
  };
  walk(api, 'autodev');
});

test('no function takes a channel: every method calls its own fixed channel whatever it is given', async () => {
  const { api, ipcRenderer } = load();
  const hostile = ['autodev:desktop:lan:start', 'autodev:desktop:secrets:set', '__proto__'];
  const used = new Map<string, Set<string>>();
  const call = async (name: string, fn: (...args: unknown[]) => unknown) => {
    for (const arg of hostile) {
      const before = ipcRenderer.invocations.length;
      try {
        const r = fn(arg, arg, arg);
        if (r && typeof (r as Promise<unknown>).then === 'function') await r;
        else if (typeof r === 'function') (r as () => void)();
        else if (r && typeof r === 'object' && 'detach' in r) (r as { detach(): void }).detach();
      } catch {
        // Invalid arguments may throw; what matters is which channel was used.
      }
      await flush();
      for (const inv of ipcRenderer.invocations.slice(before)) {
        const set = used.get(name) ?? new Set<string>();
        set.add(inv.channel);
        used.set(name, set);
      }
    }
  };
  const methods: [string, (...args: unknown[]) => unknown][] = [
    ...AUTODEV_API_KEYS.filter((k) => k !== 'transport').map(
      (k) =>
        [k, (api as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!] as [
          string,
          (...a: unknown[]) => unknown,
        ],
    ),
    ...AUTODEV_DESKTOP_KEYS.map(
      (k) =>
        [`desktop.${k}`, (api.desktop as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!] as [
          string,
          (...a: unknown[]) => unknown,
        ],
    ),
  ];
  for (const [name, fn] of methods) {
    assert.equal(typeof fn, 'function', name);
    await call(name, fn);
  }
  for (const [name, channels] of used) {
    for (const channel of channels) {
      assert.ok(IPC_CHANNELS.includes(channel as never), `${name} used unknown channel ${channel}`);
      assert.ok(!hostile.includes(channel) || channel.startsWith('autodev:'), name);
    }
  }
  // The methods that carry a string argument never used it as the channel.
  assert.deepEqual([...used.get('getSession')!], ['autodev:sessions:get']);
  assert.deepEqual([...used.get('desktop.setSecret')!], ['autodev:desktop:secrets:set']);
  assert.deepEqual([...used.get('desktop.startLan')!], ['autodev:desktop:lan:start']);
  assert.deepEqual([...used.get('exportSession')!], ['autodev:sessions:export']);
  // Only invoke was ever used (send/sendSync throw in the fake).
  assert.ok(ipcRenderer.invocations.length > 20);
});

test('errors from main become rejections carrying the error code', async () => {
  const { api, ipcRenderer } = load();
  ipcRenderer.reply = () => ({
    ok: false,
    error: {
      error: 'Invalid IPC payload',
      error_code: 'VALIDATION_ERROR',
      details: [{ path: 'session_id', message: 'bad' }],
    },
  });
  await assert.rejects(api.getSession('x y'), (e: Error & { error_code?: string }) => {
    assert.match(e.message, /^\[VALIDATION_ERROR\] Invalid IPC payload: session_id bad/);
    assert.equal(e.error_code, 'VALIDATION_ERROR');
    return true;
  });
  ipcRenderer.reply = () => undefined;
  await assert.rejects(api.listProviders(), /\[INTERNAL\]/);
});

test('terminal: output dispatch, ack after parsed() (coalesced, once per chunk), detach stops delivery', async () => {
  const { api, ipcRenderer } = load();
  ipcRenderer.reply = () => ({ ok: true, value: {} });
  const received: string[] = [];
  const parsers: (() => void)[] = [];
  const states: string[] = [];
  const term = api.attach(
    's1',
    {
      onOutput: (seq, data, parsed) => {
        received.push(`${seq}:${data}`);
        parsers.push(parsed);
      },
      onSnapshot: (snap) => received.push(`snap:${snap.seq}`),
      onStatus: (s) => received.push(`status:${s.state}`),
      onError: (e) => received.push(`error:${e.error_code}`),
      onConnectionChange: (s) => states.push(s),
    },
    { lastSeq: 3 },
  );
  const attach = ipcRenderer.invocations.find((i) => i.channel === 'autodev:terminal:attach')!;
  const payload = attach.args[0] as { attachment_id: string; session_id: string; last_seq: number };
  assert.equal(payload.session_id, 's1');
  assert.equal(payload.last_seq, 3);
  await flush();
  assert.deepEqual(states, ['connecting', 'open']);

  const id = payload.attachment_id;
  ipcRenderer.emit({
    batch: 1,
    items: [
      {
        kind: 'snapshot',
        attachment_id: id,
        snapshot: { seq: 3, screen: '', cols: 80, rows: 24, reason: 'attach' },
      },
      { kind: 'output', attachment_id: id, seq: 4, data: 'hello' },
      { kind: 'output', attachment_id: id, seq: 5, data: 'abc' },
      { kind: 'output', attachment_id: 'someone-else', seq: 9, data: 'nope' },
    ],
  });
  assert.deepEqual(received, ['snap:3', '4:hello', '5:abc']);
  await flush();
  assert.equal(
    ipcRenderer.invocations.filter((i) => i.channel === 'autodev:terminal:ack').length,
    0,
    'no ack before parse',
  );
  parsers[0]!();
  parsers[0]!(); // a second call must not double-credit
  parsers[1]!();
  await flush();
  const acks = ipcRenderer.invocations.filter((i) => i.channel === 'autodev:terminal:ack');
  assert.equal(acks.length, 1, 'acks in one tick are coalesced');
  assert.deepEqual(acks[0]!.args[0], { attachment_id: id, chars: 8 });

  term.input('ls\r');
  term.resize(100, 40);
  await flush();
  assert.ok(
    ipcRenderer.invocations.some(
      (i) => i.channel === 'autodev:terminal:input' && (i.args[0] as { data: string }).data === 'ls\r',
    ),
  );
  term.detach();
  ipcRenderer.emit({ batch: 2, items: [{ kind: 'output', attachment_id: id, seq: 6, data: 'late' }] });
  assert.equal(received.length, 3, 'nothing delivered after detach');
  assert.deepEqual(states, ['connecting', 'open', 'closed']);
});

test('onEvent subscribes on the first listener and unsubscribes after the last; listener errors are contained', async () => {
  const { api, ipcRenderer } = load();
  const events: string[] = [];
  const off1 = api.onEvent(() => {
    throw new Error('listener bug');
  });
  const off2 = api.onEvent((e) => events.push(e.kind));
  const desktop: string[] = [];
  const offD = api.desktop.onDesktopEvent((e) => desktop.push(e.kind));
  await flush();
  assert.equal(ipcRenderer.invocations.filter((i) => i.channel === 'autodev:events:subscribe').length, 1);
  const uncaught: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => uncaught.push(args);
  ipcRenderer.emit({
    batch: 1,
    items: [
      { kind: 'live', event: { kind: 'session_removed', session_id: 's1' } },
      { kind: 'desktop', event: { kind: 'focus_session', session_id: 's1' } },
    ],
  });
  await flush();
  console.error = originalError;
  assert.deepEqual(events, ['session_removed']);
  assert.deepEqual(desktop, ['focus_session']);
  assert.equal(uncaught.length, 1, 'the throwing listener is reported, the others still ran');
  off1();
  off2();
  offD();
  await flush();
  assert.equal(ipcRenderer.invocations.filter((i) => i.channel === 'autodev:events:unsubscribe').length, 1);
});
