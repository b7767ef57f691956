// Signals are provider data: the user's file can turn them off, replace them or give a new CLI its own,
// with clear errors for bad entries; the bundled data is valid and every parser it names exists.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import { loadProviderRegistry } from '../../../src-main/core/providers/registry.ts';
import { SignalSpecSchema } from '../../../src-main/core/providers/signal-spec.ts';
import { createSignalService, PAYLOAD_PARSERS } from '../../../src-main/core/signals/index.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-sigcfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function registryWith(t: { after(fn: () => void): void }, providers: unknown) {
  const dir = tempDir(t);
  const file = path.join(dir, 'providers.json');
  writeFileSync(file, JSON.stringify({ providers }));
  return loadProviderRegistry({ configFile: file, env: { HOME: dir, PATH: '/usr/bin:/bin' } });
}

test('bundled signal data is valid, names only existing parsers, and its patterns compile', () => {
  const withSignals = defaultProviders({}).filter((p) => p.signals);
  assert.ok(withSignals.length >= 3);
  for (const p of withSignals) {
    assert.doesNotThrow(() => SignalSpecSchema.parse(p.signals), p.id);
    for (const source of p.signals?.sources ?? []) {
      assert.ok(PAYLOAD_PARSERS[source.parser], `${p.id}.${source.id}: parser ${source.parser}`);
      if (source.channel === 'osc')
        assert.ok(Number.isInteger(source.osc), `${p.id}.${source.id}: osc number`);
      for (const rule of source.events) for (const re of Object.values(rule.when ?? {})) new RegExp(re, 'iu');
    }
  }
});

test('the user file turns signals off with null, and a bad entry is an error with its path (defaults kept)', (t) => {
  const off = registryWith(t, { claude: { signals: null } });
  assert.deepEqual(off.errors, []);
  assert.equal(off.get('claude')?.signals, undefined);
  assert.ok(off.get('codex')?.signals, 'other providers keep theirs');

  const bad = registryWith(t, {
    codex: {
      signals: {
        sources: [
          {
            id: 'notify',
            channel: 'relay',
            parser: 'json',
            event_field: 'type',
            events: [{ id: 'x', event: 'e', state: 'done' }],
          },
        ],
      },
    },
  });
  assert.equal(bad.errors.length, 1);
  assert.match(bad.errors[0]?.path ?? '', /^providers\.codex\.signals\.sources\.0\.events\.0\.state$/);
  assert.equal(bad.get('codex')?.signals?.sources[0]?.id, 'notify', 'the bundled codex signals stay');
});

test('a CLI added in the user file gets hook signals with no code: its files, args and env are wired', async (t) => {
  const reg = registryWith(t, {
    myagent: {
      binary: 'myagent',
      signals: {
        files: [
          {
            name: 'hooks.json',
            content: { on_done: '{relay:events}', on_stop: '{relay:events@stop}', session: '{session_id}' },
          },
        ],
        args: ['--hooks-file', '{file:hooks.json}', '--plugin-dir', '{dir}'],
        env: { MYAGENT_NOTIFY: '{relay_json:events}' },
        sources: [
          {
            id: 'events',
            channel: 'relay',
            parser: 'json',
            event_field: 'event',
            conversation_id_field: 'chat',
            events: [{ id: 'myagent.done', event: 'done', state: 'waiting_input' }],
          },
        ],
      },
    },
  });
  assert.deepEqual(reg.errors, []);
  const def = reg.get('myagent');
  assert.ok(def?.signals);
  const service = await createSignalService({ dataDir: tempDir(t), relayNode: '/usr/bin/node' });
  t.after(() => service.close());
  const wired = service.prepareSpawn({ sessionId: 'sid-1', provider: def, env: { PATH: '/usr/bin' } });
  assert.equal(wired.args[0], '--hooks-file');
  const file = wired.args[1] as string;
  const written = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(written.on_done, `/usr/bin/node ${service.paths.relay} --source events`);
  // `@event` names the event for agents whose payloads do not (the relay adds `_event`).
  assert.equal(written.on_stop, `/usr/bin/node ${service.paths.relay} --source events --event stop`);
  assert.equal(wired.args[3], path.dirname(file), '{dir} is the session folder the files are in');
  assert.equal(written.session, 'sid-1');
  assert.deepEqual(JSON.parse(wired.env.MYAGENT_NOTIFY ?? ''), [
    '/usr/bin/node',
    service.paths.relay,
    '--source',
    'events',
  ]);
  assert.equal(wired.env.AUTODEV_SESSION_ID, 'sid-1');
  assert.equal(wired.env.AUTODEV_SIGNAL_MAC, service.macFor('sid-1'));
  assert.equal(wired.env.AUTODEV_SIGNAL_MANIFEST, service.paths.manifest);
});

test("a provider file merged over the user's own (merge_from): theirs kept, hook arrays concatenated", async (t) => {
  const dir = tempDir(t);
  const users = path.join(dir, 'user-defaults.json');
  writeFileSync(
    users,
    JSON.stringify({ ui: { theme: 'dark' }, hooks: { AfterAgent: [{ hooks: [{ command: 'mine' }] }] } }),
  );
  const def = {
    ...defaultProviders({}).find((p) => p.id === 'gemini')!,
    signals: {
      ...defaultProviders({}).find((p) => p.id === 'gemini')!.signals!,
      file_location: 'any' as const,
    },
  };
  const service = await createSignalService({ dataDir: tempDir(t), relayNode: '/usr/bin/node' });
  t.after(() => service.close());
  const wired = service.prepareSpawn({
    sessionId: 'sid-g',
    provider: def,
    env: { GEMINI_CLI_SYSTEM_DEFAULTS_PATH: users },
  });
  const file = wired.env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH as string;
  assert.notEqual(file, users);
  const merged = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(merged.ui.theme, 'dark');
  assert.equal(merged.hooks.AfterAgent.length, 2);
  assert.equal(merged.hooks.AfterAgent[0].hooks[0].command, 'mine');
  assert.match(merged.hooks.AfterAgent[1].hooks[0].command, /--source hooks$/);
  assert.equal(
    JSON.parse(readFileSync(users, 'utf8')).hooks.AfterAgent.length,
    1,
    "the user's file is untouched",
  );
  // Where the data dir is not root-owned (gemini's rule), the bundled gemini wiring is skipped entirely.
  const bundled = defaultProviders({}).find((p) => p.id === 'gemini')!;
  const tmpService = await createSignalService({ dataDir: tempDir(t), relayNode: '/usr/bin/node' });
  t.after(() => tmpService.close());
  assert.deepEqual(tmpService.prepareSpawn({ sessionId: 'sid-h', provider: bundled, env: {} }), {
    args: [],
    env: {},
  });
});
