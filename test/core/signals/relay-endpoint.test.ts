// The relay script and the per-session endpoint, for real: the relay runs as its own Node process
// (as an agent's hook would), reads the manifest from the data dir and posts over loopback HTTP.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import {
  createSignalService,
  type SessionSignalFusion,
  type SignalService,
} from '../../../src-main/core/signals/index.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-signals-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const claude = defaultProviders({}).find((p) => p.id === 'claude') as ProviderDefinition;
const codex = defaultProviders({}).find((p) => p.id === 'codex') as ProviderDefinition;

interface RelayResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runRelay(
  service: { paths: { relay: string; manifest: string } },
  env: Record<string, string>,
  args: string[],
  stdin?: string,
): Promise<RelayResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [service.paths.relay, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    if (stdin === undefined) child.stdin.end();
    else child.stdin.end(stdin);
  });
}

function relayEnv(service: SignalService, sessionId: string): Record<string, string> {
  return {
    AUTODEV_SESSION_ID: sessionId,
    AUTODEV_SIGNAL_MAC: service.macFor(sessionId),
    AUTODEV_SIGNAL_MANIFEST: service.paths.manifest,
  };
}

test('a hook payload on stdin reaches its session through the relay; only top-level scalars travel', async (t) => {
  const service = await createSignalService({ dataDir: tempDir(t) });
  t.after(() => service.close());
  service.attach({ sessionId: 'sess-a', provider: claude });
  const detector = service.fusionFor('sess-a') as SessionSignalFusion;
  const payload = {
    hook_event_name: 'Stop',
    session_id: 'conv-123',
    stop_hook_active: false,
    tool_input: { content: 'a large file body that must not travel' },
  };
  const seen: unknown[] = [];
  const original = detector.receive.bind(detector);
  (detector as { receive: typeof detector.receive }).receive = (source, p, at) => {
    seen.push({ source, p });
    return original(source, p, at);
  };
  const r = await runRelay(
    service,
    relayEnv(service, 'sess-a'),
    ['--source', 'hooks'],
    JSON.stringify(payload),
  );
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '', 'a hook must print nothing (hook runners parse stdout)');
  assert.deepEqual(seen, [
    { source: 'hooks', p: { hook_event_name: 'Stop', session_id: 'conv-123', stop_hook_active: false } },
  ]);
  const d = detector.evaluate();
  assert.equal(d.state, 'waiting_input');
  assert.equal(d.reason.source, 'hook');
  assert.equal(d.reason.rule, 'claude.hook.stop');
  assert.equal(service.counts.accepted, 1);
});

test("codex's notify payload arrives as the relay's last argument", async (t) => {
  const service = await createSignalService({ dataDir: tempDir(t) });
  t.after(() => service.close());
  const conversations: string[] = [];
  service.onDidReportConversation((e) => conversations.push(e.conversation_id));
  service.attach({ sessionId: 'sess-c', provider: codex });
  const notify = JSON.stringify({ type: 'agent-turn-complete', 'thread-id': 'thread-9', 'turn-id': 't1' });
  const r = await runRelay(service, relayEnv(service, 'sess-c'), ['--source', 'notify', notify]);
  assert.equal(r.code, 0);
  assert.equal(service.counts.accepted, 1);
  assert.deepEqual(conversations, ['thread-9']);
});

test('guard: without AutoDev session variables the relay exits 0 at once and posts nothing', async (t) => {
  const service = await createSignalService({ dataDir: tempDir(t) });
  t.after(() => service.close());
  service.attach({ sessionId: 'sess-g', provider: claude });
  const full = relayEnv(service, 'sess-g');
  for (const missing of Object.keys(full)) {
    const env = { ...full };
    delete env[missing];
    const r = await runRelay(service, env, ['--source', 'hooks'], '{"hook_event_name":"Stop"}');
    assert.equal(r.code, 0, `exit code without ${missing}`);
    assert.equal(r.stdout + r.stderr, '');
  }
  assert.equal(service.counts.accepted + service.counts.rejected, 0);
});

test('AutoDev not running: the relay exits 0, silently and quickly (endpoint gone, or no manifest)', async (t) => {
  const dir = tempDir(t);
  const service = await createSignalService({ dataDir: dir });
  const env = relayEnv(service, 'sess-x');
  await service.close(); // the manifest still names the closed port
  const refused = await runRelay(service, env, ['--source', 'hooks'], '{"hook_event_name":"Stop"}');
  assert.equal(refused.code, 0);
  assert.equal(refused.stdout + refused.stderr, '');
  // A refused connection ends it at once; the 1.5 s cap is only for a hung endpoint. Margin for load.
  assert.ok(refused.ms < 1400, `relay took ${refused.ms.toFixed(0)} ms with AutoDev down`);
  rmSync(service.paths.manifest);
  const noManifest = await runRelay(service, env, ['--source', 'hooks'], '{"hook_event_name":"Stop"}');
  assert.equal(noManifest.code, 0);
  assert.equal(noManifest.stdout + noManifest.stderr, '');
});

test('after a restart the relay finds the NEW endpoint, and the old session credential still verifies', async (t) => {
  const dir = tempDir(t);
  const first = await createSignalService({ dataDir: dir });
  const env = relayEnv(first, 'sess-r'); // what the agent got at spawn, before the restart
  const firstUrl = first.endpointUrl;
  await first.close();

  const second = await createSignalService({ dataDir: dir });
  t.after(() => second.close());
  assert.notEqual(second.endpointUrl, firstUrl);
  assert.equal(JSON.parse(readFileSync(second.paths.manifest, 'utf8')).url, second.endpointUrl);
  assert.equal(second.macFor('sess-r'), env.AUTODEV_SIGNAL_MAC, 'the credential survives the restart');
  const detector = second.attach({ sessionId: 'sess-r', provider: claude })!;
  const r = await runRelay(second, env, ['--source', 'hooks'], '{"hook_event_name":"UserPromptSubmit"}');
  assert.equal(r.code, 0);
  assert.equal(detector.evaluate().reason.rule, 'claude.hook.prompt-submit');
  assert.equal(second.counts.accepted, 1);
});

test('the signal folder is private: 0700 folder, 0600 secret and manifest', async (t) => {
  const service = await createSignalService({ dataDir: tempDir(t) });
  t.after(() => service.close());
  assert.equal(statSync(service.paths.dir).mode & 0o777, 0o700);
  assert.equal(statSync(service.paths.secret).mode & 0o777, 0o600);
  assert.equal(statSync(service.paths.manifest).mode & 0o777, 0o600);
});

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: '/v1/signal', method: 'POST', headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('the endpoint refuses everyone but the session itself', async (t) => {
  const service = await createSignalService({ dataDir: tempDir(t) });
  t.after(() => service.close());
  const mine = service.attach({ sessionId: 'mine', provider: claude })!;
  service.attach({ sessionId: 'other', provider: claude });
  const token = JSON.parse(readFileSync(service.paths.manifest, 'utf8')).token as string;
  const body = JSON.stringify({ source: 'hooks', at: Date.now(), payload: { hook_event_name: 'Stop' } });
  const good = {
    'content-type': 'application/json',
    'x-autodev-token': token,
    'x-autodev-session': 'mine',
    'x-autodev-mac': service.macFor('mine'),
  };
  const cases: [string, Record<string, string>, string, number][] = [
    ['wrong token', { ...good, 'x-autodev-token': 'f'.repeat(48) }, body, 401],
    ["another session's credential", { ...good, 'x-autodev-mac': service.macFor('other') }, body, 401],
    ['a browser (Origin header)', { ...good, origin: 'http://evil.example' }, body, 403],
    ['a rebinding Host', { ...good, host: 'evil.example' }, body, 403],
    ['not JSON', { ...good, 'content-type': 'text/plain' }, body, 415],
    ['a malformed body', good, '{"source":1}', 400],
  ];
  for (const [what, headers, b, status] of cases) {
    const r = await post(service.endpointUrl, headers, b);
    assert.equal(r.status, status, what);
  }
  assert.equal(mine.evaluate().state, 'starting', 'nothing refused reached the session');
  const big = JSON.stringify({ source: 'hooks', at: Date.now(), payload: { x: 'y'.repeat(70_000) } });
  // Oversized: the endpoint drops the connection mid-body (or answers an error), never accepts it.
  const oversized = await post(service.endpointUrl, good, big).then(
    (r) => r.status,
    () => 'connection dropped',
  );
  assert.notEqual(oversized, 204);
  assert.equal((await post(service.endpointUrl, good, body)).status, 204);
  assert.equal(mine.evaluate().reason.rule, 'claude.hook.stop');
  // A session AutoDev no longer watches: its relay is told so (404) and nothing else happens.
  service.releaseSession('mine');
  assert.equal((await post(service.endpointUrl, good, body)).status, 404);
});

test('a broken manifest makes the relay give up quietly, never guess', async (t) => {
  const service = await createSignalService({ dataDir: tempDir(t) });
  t.after(() => service.close());
  service.attach({ sessionId: 'sess-m', provider: claude });
  writeFileSync(service.paths.manifest, '{ not json');
  const r = await runRelay(
    service,
    relayEnv(service, 'sess-m'),
    ['--source', 'hooks'],
    '{"hook_event_name":"Stop"}',
  );
  assert.equal(r.code, 0);
  assert.equal(r.stdout + r.stderr, '');
  assert.equal(service.counts.accepted, 0);
});
