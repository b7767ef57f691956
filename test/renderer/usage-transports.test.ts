import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AutoDevApi } from '../../src-shared/api.ts';
import type { AutoDevDesktopBridge } from '../../src-shared/ipc.ts';
import type { SessionUsage } from '../../src-shared/usage.ts';
import { fixture } from '../core/sessions/helpers.ts';
import { connectWindow, waitFor } from '../electron/bridge-harness.ts';
import { buildPreload } from '../electron/helpers.ts';
import { openRealDesktop } from '../electron/real-desktop.ts';
import { startTestServer } from '../server/harness.ts';
import { loadRenderer } from './helpers/renderer.ts';

/**
 * The renderer's usage calls (getUsage, getSessionUsage) and `usage` live events through both
 * transports: the desktop bridge (bundled preload, IPC, the real desktop core) and the dashboard's
 * RemoteApi against a real server. The session is a fixture agent drawing Claude Code's interface
 * that writes its transcript like Claude Code does.
 */
const { createIpcApi } = await loadRenderer<{
  createIpcApi(bridge: AutoDevDesktopBridge): { api: AutoDevApi };
}>('api/ipc.ts');
const { RemoteApi } = await loadRenderer<{
  RemoteApi: new (options: {
    baseUrl: string;
    token: string;
    wsAuth?: 'subprotocol';
  }) => AutoDevApi & {
    dispose(): void;
  };
}>('api/remote.ts');

let bundle: { file: string; dir: string };
before(() => {
  bundle = buildPreload();
});
after(() => rmSync(bundle.dir, { recursive: true, force: true }));

const FAKE_CLAUDE = { binary: process.execPath, interactive_args: [fixture('fake-claude.mjs')] };
const AGENT_ENV = {
  FAKE_RECORD: '1',
  FAKE_MODEL: 'claude-sonnet-4-5',
  FAKE_USAGE: '1000,200,0,0',
  FAKE_WORK_MS: '400',
};
const USD = (1000 * 3 + 200 * 15) / 1e6;

const codeOf = (e: unknown) => {
  const x = e as { code?: string; error_code?: string };
  return x.code ?? x.error_code;
};

async function oneTurn(
  api: AutoDevApi,
  sessions: {
    command(id: string, text: string): Promise<unknown>;
    get(id: string): { state: string } | undefined;
  },
  home: string,
  cwd: string,
) {
  const usageEvents: SessionUsage[] = [];
  const off = api.onEvent((e) => {
    if (e.kind === 'usage') usageEvents.push(e.usage);
  });
  const s = await api.createSession({
    cli_tool: 'claude',
    working_directory: cwd,
    env: { HOME: home, ...AGENT_ENV },
  });
  await waitFor('ready', () => sessions.get(s.session_id)?.state === 'waiting_input', 15_000);
  await sessions.command(s.session_id, 'count my tokens');
  await waitFor(
    'usage event',
    () => usageEvents.some((u) => u.session_id === s.session_id && u.totals.calls === 1),
    15_000,
  );
  off();
  return s.session_id;
}

test('desktop IPC: getSessionUsage, getUsage and usage events from the real core', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-desktop-usage-'));
  writeFileSync(path.join(dataDir, 'providers.yaml'), JSON.stringify({ providers: { claude: FAKE_CLAUDE } }));
  writeFileSync(
    path.join(dataDir, 'config.yaml'),
    `providers_file: ${JSON.stringify(path.join(dataDir, 'providers.yaml'))}\n`,
  );
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: dataDir, LANG: 'C.UTF-8' };
  const { core, harness: h, shutdown } = await openRealDesktop(dataDir, env);
  t.after(async () => {
    await shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const win = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 1 });
  const { api } = createIpcApi(win.api);
  const id = await oneTurn(api, core.sessions, dataDir, dataDir);
  const mine = await api.getSessionUsage(id);
  assert.equal(mine.totals.input_tokens, 1000);
  assert.ok(Math.abs(mine.totals.cost_usd - USD) < 1e-12);
  const report = await api.getUsage({ days: 1 });
  assert.equal(report.sessions[0]?.session_id, id);
  assert.equal(report.providers[0]?.cli_tool, 'claude');
  await assert.rejects(api.getSessionUsage('no-such-session'), (e) => codeOf(e) === 'NOT_FOUND');
  await assert.rejects(api.getUsage({ days: 0 }), (e) => codeOf(e) === 'VALIDATION_ERROR');
});

test('dashboard RemoteApi: the same calls over REST and the events socket', async (t) => {
  const ts = await startTestServer(t, { providers: { claude: FAKE_CLAUDE } });
  const api = new RemoteApi({ baseUrl: ts.base, token: await ts.token('read'), wsAuth: 'subprotocol' });
  const control = new RemoteApi({
    baseUrl: ts.base,
    token: await ts.token('control'),
    wsAuth: 'subprotocol',
  });
  t.after(() => {
    api.dispose();
    control.dispose();
  });
  const usageEvents: SessionUsage[] = [];
  api.onEvent((e) => {
    if (e.kind === 'usage') usageEvents.push(e.usage);
  });
  const id = await oneTurn(control, ts.core.sessions, ts.dataDir, ts.dataDir);
  await waitFor(
    'read-only viewer saw the usage event',
    () => usageEvents.some((u) => u.session_id === id),
    10_000,
  );
  const mine = await api.getSessionUsage(id);
  assert.equal(mine.models[0]?.model, 'claude-sonnet-4-5');
  const report = await api.getUsage();
  assert.ok(Math.abs(report.totals.cost_usd - USD) < 1e-12);
  await assert.rejects(api.getSessionUsage('no-such-session'), (e) => codeOf(e) === 'NOT_FOUND');
});
