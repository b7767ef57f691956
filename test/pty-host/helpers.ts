import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostPaths } from '../../src-main/core/pty-host/host-paths.ts';
import { HostManifestSchema } from '../../src-shared/pty-host-protocol.ts';

/** Parsed JSON from the server under test: tests index into it and assert on the values. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
export type Json = any;

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = path.join(root, 'bin', 'autodev.mjs');
export const fixture = (name: string) => path.join(root, 'test', 'fixtures', 'agents', name);

type T = { after(fn: () => unknown): void };

export function tempDir(t: T, prefix = 'autodev-host-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => {
    stopHost(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, SHELL: '/bin/bash', LANG: 'C.UTF-8', ...extra };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function hostPid(dataDir: string): number | null {
  try {
    return HostManifestSchema.parse(JSON.parse(readFileSync(hostPaths(dataDir).manifest, 'utf8'))).pid;
  } catch {
    return null;
  }
}

/** Test cleanup: whatever host a test left behind goes (its agents with it). */
export function stopHost(dataDir: string): void {
  const pid = hostPid(dataDir);
  if (pid && pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

export async function until<V>(
  fn: () => V | Promise<V>,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<V>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<V>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function runCli(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function runCliAsync(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

export interface Serve {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
  token(scope?: 'read' | 'control'): string;
  api(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: Json }>;
}

/** A real `autodev serve` process on a free port. */
export async function startServe(
  t: T,
  dataDir: string,
  args: string[] = [],
  env = cleanEnv(dataDir),
): Promise<Serve> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const url = await until(
    () => /AutoDev dashboard: (http:\/\/\S+)/.exec(stdout)?.[1] ?? (child.exitCode !== null ? 'exit' : null),
    30_000,
    'the dashboard URL',
  );
  if (url === 'exit') throw new Error(`autodev serve exited: ${stderr}`);
  const tokens = new Map<string, string>();
  const token = (scope: 'read' | 'control' = 'control') => {
    let tok = tokens.get(scope);
    if (!tok) {
      const r = runCli(['token', '--scope', scope, '--data-dir', dataDir, '--json'], env);
      tok = (JSON.parse(r.stdout) as { token: string }).token;
      tokens.set(scope, tok);
    }
    return tok;
  };
  const base = url.replace(/\/$/, '');
  return {
    child,
    url: base,
    stderr: () => stderr,
    exited,
    token,
    async api(method, pathname, body) {
      const res = await fetch(`${base}${pathname}`, {
        method,
        headers: {
          authorization: `Bearer ${token('control')}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed };
    },
  };
}
