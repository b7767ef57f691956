import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src-main/core/config.ts';
import { type Core, type CreateCoreOptions, createCore } from '../../src-main/core/core.ts';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { issueToken } from '../../src-main/server/auth/tokens.ts';
import { type RunningServer, startServer } from '../../src-main/server/server.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';

/** Parsed JSON answers: tests index into them and assert on the values. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
export type Json = any;

export const EDIT_AGENT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'fixtures',
  'edit-agent.mjs',
);

type TestContext = { after(fn: () => unknown): void };

/** Debian's git in a throw-away folder: a repository with an identity, `main` and two commits. */
export interface TestRepo {
  dir: string;
  git(...args: string[]): string;
  write(file: string, text: string): void;
  read(file: string): string;
  commit(message: string): string;
  head(ref?: string): string;
}

export function makeRepo(t: TestContext, name = 'app'): TestRepo {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'autodev-wt-repo-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = path.join(parent, name);
  mkdirSync(dir);
  const run = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: gitEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  run('init', '-q', '-b', 'main');
  run('config', 'user.name', 'Test User');
  run('config', 'user.email', 'test@example.com');
  const repo: TestRepo = {
    dir,
    git: run,
    write(file, text) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    },
    read: (file) => readFileSync(path.join(dir, file), 'utf8'),
    commit(message) {
      run('add', '-A');
      run('commit', '-q', '-m', message);
      return run('rev-parse', 'HEAD');
    },
    head: (ref = 'HEAD') => run('rev-parse', ref),
  };
  repo.write('README.md', '# app\n');
  repo.write('src/main.ts', 'export const answer = 41;\n');
  repo.write('.gitignore', 'node_modules/\n.env\n');
  repo.commit('initial');
  repo.write('src/util.ts', 'export function add(a: number, b: number) {\n  return a + b;\n}\n');
  repo.commit('util');
  return repo;
}

/** git for test assertions: no user or system config of this machine leaks in. */
export function gitEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: os.tmpdir(), GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
}

export function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: gitEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

export interface WorktreeCore {
  core: Core;
  dataDir: string;
  logs: string[];
  events: LiveEvent[];
  /** Edit-agent session in a worktree of `repo` (waits until its prompt shows). */
  agent(repo: TestRepo, extra?: Record<string, unknown>): Promise<SessionInfo>;
  /** Type a command to the agent and wait for its `ok <cmd>`. */
  tell(sessionId: string, command: string): Promise<void>;
  output(sessionId: string): string;
  close(): Promise<void>;
}

/** Config file additions (YAML lines under `worktrees:`), e.g. `  retention_days: 1`. */
export async function startWorktreeCore(
  t: TestContext,
  options: { worktreesYaml?: string; coreOptions?: CreateCoreOptions } = {},
): Promise<WorktreeCore> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-wt-core-'));
  writeProviders(dataDir, options.worktreesYaml);
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => logs.push(line) });
  const env = agentEnv(dataDir);
  const config = loadConfig({ dataDir, env });
  const core = await createCore(config, {
    logger,
    env,
    tasks: false,
    // PTYs in this process: nothing outlives the test (the crash test runs the host process).
    ptyHost: 'in-process',
    ...options.coreOptions,
    worktrees: { watch: { debounceMs: 100, maxWaitMs: 600 }, ...options.coreOptions?.worktrees },
    manager: {
      loginPath: async () => process.env['PATH'] ?? '/usr/bin:/bin',
      terminate_grace_ms: 500,
      ...options.coreOptions?.manager,
    } as CreateCoreOptions['manager'],
  });
  const events: LiveEvent[] = [];
  core.onLiveEvent((e) => events.push(e));
  const outputs = new Map<string, string>();
  core.sessions.onOutput((c) => outputs.set(c.session_id, (outputs.get(c.session_id) ?? '') + c.data));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  t.after(close);
  const output = (id: string) => outputs.get(id) ?? '';
  return {
    core,
    dataDir,
    logs,
    events,
    output,
    async agent(repo, extra = {}) {
      const session = await core.worktrees.createSession({
        cli_tool: 'editagent',
        mode: 'interactive',
        full_access: false,
        user_id: 'local',
        metadata: {},
        cols: 100,
        rows: 30,
        env: {},
        working_directory: repo.dir,
        worktree: {},
        ...extra,
      } as Parameters<Core['worktrees']['createSession']>[0]);
      await until(`agent ${session.session_id} prompt`, () => /> $/.test(output(session.session_id)), 30_000);
      return session;
    },
    async tell(sessionId, command) {
      const verb = command.split(' ')[0];
      const before = output(sessionId).split(`ok ${verb}`).length;
      core.sessions.command(sessionId, command);
      await until(`"${command}" done`, () => output(sessionId).split(`ok ${verb}`).length > before, 20_000);
    },
    close,
  };
}

export function agentEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: dataDir,
    SHELL: '/bin/bash',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

/** The edit agent as provider `editagent` (interactive, a `> ` prompt means waiting). */
export function writeProviders(dataDir: string, worktreesYaml?: string): void {
  writeFileSync(
    path.join(dataDir, 'providers.yaml'),
    `providers:
  editagent:
    name: Edit Agent
    binary: ${JSON.stringify(EDIT_AGENT)}
    env_keys: [EDIT_AGENT_KEY]
    screen_rules:
      - { id: edit.prompt, pattern: '^> ?$', region: { kind: last-lines, count: 1 }, state: waiting_input }
`,
  );
  writeFileSync(
    path.join(dataDir, 'config.yaml'),
    `providers_file: ${JSON.stringify(path.join(dataDir, 'providers.yaml'))}\n${
      worktreesYaml ? `worktrees:\n${worktreesYaml}\n` : ''
    }`,
  );
}

export async function until<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} (last: ${String(last).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface WorktreeServer extends WorktreeCore {
  server: RunningServer;
  base: string;
  token(scope: 'read' | 'control'): Promise<string>;
  api(
    method: string,
    route: string,
    options?: { token?: string; body?: unknown },
  ): Promise<{ status: number; body: Json }>;
}

/** The same core behind a real server on 127.0.0.1:0. */
export async function startWorktreeServer(
  t: TestContext,
  options: { worktreesYaml?: string; coreOptions?: CreateCoreOptions } = {},
): Promise<WorktreeServer> {
  const c = await startWorktreeCore(t, options);
  const key = new Uint8Array(randomBytes(32));
  const server = await startServer({
    core: c.core,
    signingKey: key,
    host: '127.0.0.1',
    port: 0,
    dashboardDir: null,
  });
  t.after(() => server.close());
  const base = server.url.replace(/\/$/, '');
  const token = async (scope: 'read' | 'control') =>
    (await issueToken(key, { scope, ttlSeconds: 600 })).token;
  const control = await token('control');
  return {
    ...c,
    server,
    base,
    token,
    async api(method, route, o = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${o.token ?? control}` };
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${route}`, {
        method,
        headers,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}
