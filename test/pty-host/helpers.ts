import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeJson, FrameDecoder } from '../../src-main/core/pty-host/framing.ts';
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

/**
 * A stand-in for an older AutoDev's PTY host in `dataDir`: it answers hello with protocol 99 and
 * `sessions` live sessions, and its manifest names a live process (`sleep`) as the host's pid. When
 * that process ends (SIGTERM, as a restart sends), the socket goes with it, as a real host's would.
 */
export async function startForeignHost(
  t: T,
  dataDir: string,
  options: { sessions?: number } = {},
): Promise<{ server: Server; standIn: ChildProcess; standInExit: Promise<NodeJS.Signals | null> }> {
  const paths = hostPaths(dataDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const at = new Date().toISOString();
  const sessions = Array.from({ length: options.sessions ?? 1 }, (_, i) => ({
    session_id: i === 0 ? 'old-session' : `old-session-${i + 1}`,
    pid: 1,
    start_ticks: 0,
    cols: 80,
    rows: 24,
    last_seq: 0,
    exited: false,
    detection: {
      state: 'running',
      authentication_required: false,
      auth_prompt: null,
      reason: { source: 'lifecycle', detail: 'x', at },
    },
    title: null,
  }));
  const server = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind !== 'json') continue;
        const id = (frame.message as { id: number }).id;
        socket.write(
          encodeJson({
            id,
            ok: true,
            result: { protocol: 99, host_version: '0.0.9', pid: process.pid, started_at: at, sessions },
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(paths.socket, r));
  const standIn = spawn('sleep', ['60'], { stdio: 'ignore' });
  const standInExit = new Promise<NodeJS.Signals | null>((resolve) =>
    standIn.once('exit', (_code, signal) => {
      server.close();
      resolve(signal);
    }),
  );
  t.after(() => {
    standIn.kill('SIGKILL');
    server.close();
  });
  writeFileSync(
    paths.manifest,
    JSON.stringify({
      pid: standIn.pid,
      protocol: 99,
      host_version: '0.0.9',
      socket: paths.socket,
      secret: 'x'.repeat(64),
      started_at: at,
    }),
    { mode: 0o600 },
  );
  return { server, standIn, standInExit };
}

/** The `count-N` lines a counter agent printed, in order. */
export const counts = (text: string) => [...text.matchAll(/count-(\d+)/g)].map((m) => Number(m[1]));

/**
 * A counter agent (a line every 100 ms) that lived through its app's kill -9: every count once, in
 * order, from 1 (nothing lost in the outage, nothing stored twice), counting went on while the app was
 * away, and the stored seq ranges start at 1 and are contiguous.
 */
export function assertCountedOnThroughOutage(
  id: string,
  stored: { text: string; ranges: readonly (readonly [number, number])[] },
  countBefore: number,
  killedAt: number,
): void {
  const seen = counts(stored.text);
  assert.deepEqual(
    seen,
    Array.from({ length: seen.length }, (_, i) => i + 1),
    `${id}: contiguous counts`,
  );
  const awaySeconds = (Date.now() - killedAt) / 1000;
  assert.ok(
    seen.length >= countBefore + Math.floor(awaySeconds * 5),
    `${id}: counted on while away (${countBefore} → ${seen.length} in ${awaySeconds.toFixed(1)} s)`,
  );
  const { ranges } = stored;
  assert.equal(ranges[0]![0], 1);
  for (let i = 1; i < ranges.length; i++)
    assert.equal(ranges[i]![0], ranges[i - 1]![1] + 1, `${id}: seq ranges contiguous at ${ranges[i]![0]}`);
}
