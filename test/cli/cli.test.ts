import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(root, 'bin', 'autodev.mjs');

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: home, SHELL: '/bin/bash', LANG: 'C.UTF-8', ...extra };
}

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('autodev serve: prints the URL, serves with a token from `autodev token`, SIGTERM shuts down leaving no agents', async (t) => {
  const dir = tempDir(t);
  const env = cleanEnv(dir);
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await until(
    () => /AutoDev dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1],
    60_000,
    'URL',
  );
  // Structured JSON log lines on stderr.
  await until(() => stderr.includes('server listening'), 10_000, 'log line');
  // `autodev` is not on PATH after `npm install`: the banner gives the command that works.
  await until(() => stdout.includes('Get an access token'), 10_000, 'token hint');
  assert.match(stdout, /Get an access token with: npx autodev token --scope control --data-dir /);
  for (const line of stderr.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  assert.equal(statSync(path.join(dir, 'jwt-secret')).mode & 0o777, 0o600);

  const tok = runCli(['token', '--scope', 'control', '--ttl', '10m', '--data-dir', dir], env);
  assert.equal(tok.status, 0, tok.stderr);
  const token = tok.stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const health = await fetch(`${url}health`);
  assert.equal(health.status, 200);
  assert.equal((await fetch(`${url}cli/sessions`)).status, 401);
  const created = await fetch(`${url}cli/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cli_tool: 'shell' }),
  });
  assert.equal(created.status, 201);
  const session = (await created.json()) as { session: { pid: number }; session_id: string };
  const pid = session.session.pid;
  assert.ok(pidAlive(pid));

  // A read token is accepted for GET but cannot delete.
  const read = runCli(['token', '--scope', 'read', '--data-dir', dir, '--json'], env);
  const readToken = (JSON.parse(read.stdout) as { token: string }).token;
  assert.equal(
    (
      await fetch(`${url}cli/sessions/${session.session_id}`, {
        headers: { authorization: `Bearer ${readToken}` },
      })
    ).status,
    200,
  );
  assert.equal(
    (
      await fetch(`${url}cli/sessions/${session.session_id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${readToken}` },
      })
    ).status,
    403,
  );
  // `autodev token --revoke` from another process: the running server refuses it next time.
  const jti = (JSON.parse(read.stdout) as { jti: string }).jti;
  assert.equal(runCli(['token', '--revoke', jti, '--data-dir', dir], env).status, 0);
  assert.equal(
    (await fetch(`${url}whoami`, { headers: { authorization: `Bearer ${readToken}` } })).status,
    401,
  );

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(stderr, /shutdown complete/);
  assert.ok(!pidAlive(pid), 'the agent process is gone');
  assert.ok(!stderr.includes(token) && !stderr.includes(readToken), 'no token in the logs');
  // The session was persisted as ended.
  assert.ok(existsSync(path.join(dir, 'autodev.db')));
});

test('autodev serve refuses unsafe configurations', (t) => {
  const dir = tempDir(t);
  const lan = runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', dir], cleanEnv(dir));
  assert.equal(lan.status, 2);
  assert.match(lan.stderr, /--allow-lan/);
  const shortSecret = runCli(
    ['serve', '--port', '0', '--data-dir', dir],
    cleanEnv(dir, { JWT_SECRET: 'too-short' }),
  );
  assert.equal(shortSecret.status, 2);
  assert.match(shortSecret.stderr, /JWT_SECRET/);
  assert.ok(!shortSecret.stderr.includes('too-short'), 'the secret value is not printed');
  // A misspelt config key is an error naming it, not a silently ignored setting.
  const conf = path.join(dir, 'bad.yaml');
  writeFileSync(conf, 'server:\n  prot: 8001\n');
  const badConfig = runCli(['serve', '--config', conf, '--data-dir', dir], cleanEnv(dir));
  assert.equal(badConfig.status, 2);
  assert.match(badConfig.stderr, /server/);
  assert.match(badConfig.stderr, /prot/);
  const badFlag = runCli(['serve', '--bogus'], cleanEnv(dir));
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /unknown option '--bogus'/);
  assert.match(badFlag.stderr, /--help/, 'points at the help');
  const unknown = runCli(['frobnicate'], cleanEnv(dir));
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

test('--help: the program and every command explain themselves and exit 0', (t) => {
  const dir = tempDir(t);
  const env = cleanEnv(dir);
  const top = runCli(['--help'], env);
  assert.equal(top.status, 0, top.stderr);
  for (const command of ['serve', 'token', 'doctor', 'sessions'])
    assert.match(top.stdout, new RegExp(`^  ${command} `, 'm'));
  assert.match(top.stdout, /npx autodev token/);
  const expected: Record<string, RegExp[]> = {
    serve: [/--port <port>/, /--allow-lan/, /--keep-sessions/, /npx autodev token/],
    token: [/--scope <scope>/, /"read", "control"/, /--ttl <duration>/, /--revoke <jti>/, /--rotate-secret/],
    doctor: [/--json/, /never printed/],
    sessions: [/--restart-host/],
  };
  for (const [command, patterns] of Object.entries(expected)) {
    for (const args of [
      [command, '--help'],
      [command, '-h'],
      ['help', command],
    ]) {
      const r = runCli(args, env);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: autodev ${command} \\[options\\]`, 'm'), args.join(' '));
      for (const p of patterns) assert.match(r.stdout, p, `${args.join(' ')} mentions ${p}`);
      assert.equal(r.stderr, '');
    }
  }
  // No command at all: the help, but as a usage error (a script that forgot the command notices).
  const none = runCli([], env);
  assert.equal(none.status, 2);
  assert.match(none.stdout, /^Usage: autodev /m);
  assert.match(runCli(['--version'], env).stdout, /^\d+\.\d+\.\d+\n$/);
});

test("npm start where the Electron binary cannot be fetched: only AutoDev's message, no stack, no reinstall advice", (t) => {
  const electronDir = path.join(root, 'node_modules', 'electron');
  let installed = false;
  try {
    installed = existsSync(
      path.join(electronDir, 'dist', readFileSync(path.join(electronDir, 'path.txt'), 'utf8')),
    );
  } catch {
    installed = false;
  }
  if (installed) {
    t.skip('the Electron binary is installed here: npm start would launch the app');
    return;
  }
  const cache = tempDir(t);
  // A mirror that refuses connections: the download fails at once, online or not.
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
    env: { ...cleanEnv(cache), ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 1, output);
  assert.match(output, /AutoDev's desktop app cannot start: the Electron binary could not be downloaded/);
  assert.match(output, /npm run serve/);
  assert.match(output, /npx autodev token --scope control/);
  for (const noise of [
    /TypeError/,
    /fetch failed/,
    /\n\s+at /,
    /install-electron/,
    /delete `node_modules\/electron`/,
    /Downloading Electron/,
  ])
    assert.doesNotMatch(output, noise);
  assert.doesNotMatch(output, /compiling main process/, 'fails before spending a minute on the build');
});

test('autodev token: JSON output, scopes, ttl validation, secret rotation', (t) => {
  const dir = tempDir(t);
  const env = cleanEnv(dir);
  const json = runCli(['token', '--scope', 'read', '--ttl', '2h', '--data-dir', dir, '--json'], env);
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { token: string; scope: string; expires_at: string };
  assert.equal(parsed.scope, 'read');
  const ttl = Date.parse(parsed.expires_at) - Date.now();
  assert.ok(ttl > 1.9 * 3600_000 && ttl <= 2 * 3600_000 + 1000);
  assert.equal(runCli(['token', '--scope', 'admin', '--data-dir', dir], env).status, 2);
  assert.equal(runCli(['token', '--ttl', 'forever', '--data-dir', dir], env).status, 2);
  assert.equal(runCli(['token', '--rotate-secret', '--data-dir', dir], env).status, 0);
});

test('autodev doctor: each provider, binary and env keys by name only', (t) => {
  const dir = tempDir(t);
  const canary = 'sk-ant-canary-0123456789abcdef';
  const r = runCli(['doctor', '--data-dir', dir], cleanEnv(dir, { ANTHROPIC_API_KEY: canary }));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ok\s+shell/);
  assert.match(r.stdout, /ANTHROPIC_API_KEY=set/);
  assert.match(r.stdout, /OPENAI_API_KEY=missing/);
  assert.ok(!r.stdout.includes(canary) && !r.stderr.includes(canary), 'never prints the value');
  const json = runCli(['doctor', '--json', '--data-dir', dir], cleanEnv(dir));
  const providers = JSON.parse(json.stdout) as { id: string; installed: boolean; version: string | null }[];
  const shell = providers.find((p) => p.id === 'shell')!;
  assert.equal(shell.installed, true);
  assert.match(shell.version ?? '', /bash/i);
});
