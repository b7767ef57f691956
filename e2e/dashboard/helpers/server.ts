import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'bin', 'autodev.mjs');
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
/** The claude-style stream-json one-shot agent of the task tests; its prompt picks the behaviour. */
export const ONESHOT_AGENT = path.join(ROOT, 'test', 'fixtures', 'oneshot', 'fake-agent.mjs');

/**
 * A real `autodev serve` on a free loopback port with a throw-away data dir and fixture providers: a
 * prompt agent, an agent stuck at a login menu, an agent printing hostile output, a one-shot
 * stream-json agent for tasks, an agent that asks terminal queries and logs what it receives, one
 * that exits with an error, one that redraws its screen, one whose API key is not set, one that can
 * resume its conversation (it reports a conversation id and has `resume_args`), and `claude`
 * drawn by the Claude Code fixture agent (test/fixtures/agents/fake-claude.mjs: it writes its
 * transcript under the session's HOME with FAKE_RECORD=1, for the usage view).
 */
export interface DashboardServer {
  url: string;
  dataDir: string;
  token(scope: 'read' | 'control'): Promise<string>;
  /** A fresh token with its id, for revocation tests. */
  issue(scope: 'read' | 'control'): Promise<{ token: string; jti: string }>;
  revoke(jti: string): Promise<void>;
  /** Stop (SIGTERM: sessions end, data flushed) and start again on the same port and data dir. */
  restart(): Promise<void>;
  /** REST call with a control token, for set-up steps the test does not drive through the UI. */
  rest<T>(method: string, route: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

function providersYaml(dataDir: string): string {
  const f = (name: string) => JSON.stringify(path.join(FIXTURES, name));
  return `providers:
  queryagent:
    name: Query Agent
    binary: ${f('query-agent.mjs')}
    interactive_args: [${JSON.stringify(path.join(dataDir, 'query-agent.log'))}]
  erroragent:
    name: Error Agent
    binary: ${f('error-agent.mjs')}
  redrawagent:
    name: Redraw Agent
    binary: ${f('redraw-agent.mjs')}
    screen_rules:
      - { id: redraw.prompt, pattern: '^> ?$', region: { kind: last-lines, count: 1 }, state: waiting_input }
  keyagent:
    name: Key Agent
    binary: ${f('prompt-agent.mjs')}
    env_keys: [FAKE_AGENT_API_KEY]
    screen_rules:
      - { id: key.prompt, pattern: '^> ?$', region: { kind: last-lines, count: 1 }, state: waiting_input }
  claude:
    binary: ${JSON.stringify(process.execPath)}
    interactive_args: [${JSON.stringify(path.join(ROOT, 'test', 'fixtures', 'agents', 'fake-claude.mjs'))}]
    # The fixture draws the interactive CLI only: no one-shot mode (the tasks view offers oneshot).
    one_shot: null
  fakeagent:
    name: Fake Agent
    binary: ${f('prompt-agent.mjs')}
    screen_rules:
      - { id: fake.prompt, pattern: '^> ?$', region: { kind: last-lines, count: 1 }, state: waiting_input }
      - { id: fake.working, pattern: 'working… \\(esc to interrupt\\)', region: { kind: last-lines, count: 2 }, state: processing }
  fakelogin:
    name: Fake Login Agent
    binary: ${f('login-agent.mjs')}
    screen_rules:
      - { id: fakelogin.menu, pattern: 'Select login method', region: { kind: screen }, state: waiting_input, auth: true }
  xssagent:
    name: XSS Agent
    binary: ${f('xss-agent.mjs')}
    screen_rules:
      - { id: xss.prompt, pattern: '^> ?$', region: { kind: last-lines, count: 1 }, state: waiting_input }
  oneshot:
    name: Fake One-shot
    binary: ${JSON.stringify(process.execPath)}
    version_args: ['--version']
    one_shot:
      args: [${JSON.stringify(ONESHOT_AGENT)}]
      prompt: { via: arg }
      output: stream-json
      full_access_args: ['--yolo']
  resumeagent:
    name: Resume Agent
    binary: ${f('resume-agent.mjs')}
    interactive_args: ['--interactive']
    # Before interactive_args, as claude's: the new run continues the conversation the session recorded.
    resume_args: ['--resume', '{conversation_id}']
    screen_rules:
      - { id: resume.prompt, pattern: '^> ?$', region: { kind: last-lines, count: 1 }, state: waiting_input }
    # The agent reports its conversation id in-band (OSC 7501 conv=<id>); no relay, no state events.
    signals:
      sources:
        - { id: osc7501, channel: osc, osc: 7501, parser: osc-kv, event_field: state, conversation_id_field: conv, events: [] }
`;
}

/** Spawn `autodev serve` and resolve with its URL once it listens. */
async function spawnServe(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--config',
      path.join(dataDir, 'config.yaml'),
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`autodev serve did not start in 60 s\n${stderr}`)),
        60_000,
      );
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /AutoDev dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`autodev serve exited with ${code}\n${stderr}`));
      });
    });
    return { child, url };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

export async function startDashboardServer(): Promise<DashboardServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-e2e-dash-'));
  writeFileSync(path.join(dataDir, 'providers.yaml'), providersYaml(dataDir));
  writeFileSync(
    path.join(dataDir, 'config.yaml'),
    // More viewers per session than the default 5: the integrity suite watches one with six.
    `providers_file: ${JSON.stringify(path.join(dataDir, 'providers.yaml'))}\nserver:\n  max_connections_per_session: 20\n`,
  );
  // A quiet, predictable shell (no user rc files) and the generated signing secret of the data dir.
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dataDir, SHELL: '/bin/bash' };
  delete env.JWT_SECRET;
  delete env.FAKE_AGENT_API_KEY;
  let running: { child: ChildProcess; url: string };
  try {
    running = await spawnServe(dataDir, env, 0);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = running.url;
  const port = Number(new URL(url).port);

  const tokens = new Map<string, string>();
  const cli = async (...args: string[]) =>
    (await execFileAsync(process.execPath, [CLI, ...args, '--data-dir', dataDir], { cwd: ROOT, env })).stdout;
  const token = async (scope: 'read' | 'control') => {
    const cached = tokens.get(scope);
    if (cached) return cached;
    const jwt = (await cli('token', '--scope', scope)).trim();
    tokens.set(scope, jwt);
    return jwt;
  };

  return {
    url,
    dataDir,
    token,
    async issue(scope) {
      const { token, jti } = JSON.parse(await cli('token', '--scope', scope, '--json')) as {
        token: string;
        jti: string;
      };
      return { token, jti };
    },
    async revoke(jti) {
      await cli('token', '--revoke', jti);
    },
    async restart() {
      await stopChild(running.child);
      running = await spawnServe(dataDir, env, port);
    },
    async rest<T>(method: string, route: string, body?: unknown): Promise<T> {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: {
          Authorization: `Bearer ${await token('control')}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async stop() {
      await stopChild(running.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
