import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { notInstalledMessage } from '../../src-main/core/providers/resolve-binary.ts';
import type {
  ProviderDefinition,
  ProviderRegistry,
  ResolvedBinary,
} from '../../src-main/core/providers/types.ts';
import { openDatabase } from '../../src-main/core/store/database.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const SCHEMA_DIR = path.join(ROOT, 'schema');
export const FAKE_AGENT = path.join(ROOT, 'test', 'fixtures', 'oneshot', 'fake-agent.mjs');

/** A provider whose one-shot binary is the fake agent (run by this Node). */
export function fakeProvider(id: string, overrides: Partial<ProviderDefinition> = {}): ProviderDefinition {
  return {
    id,
    name: `Fake ${id}`,
    binary: process.execPath,
    interactive_args: [],
    full_access_args: [],
    one_shot: {
      args: [FAKE_AGENT],
      prompt: { via: 'arg' },
      output: 'stream-json',
      full_access_args: ['--yolo'],
    },
    env_keys: ['FAKE_AGENT_LOG'],
    version_args: ['--version'],
    bracketed_paste: false,
    screen_rules: [],
    title_rules: [],
    stability_ms: 1000,
    ...overrides,
  };
}

/** A registry over the given definitions; binaries are absolute paths checked for existence. */
export function fakeRegistry(defs: ProviderDefinition[]): ProviderRegistry {
  const byId = new Map(defs.map((d) => [d.id, d]));
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    async resolveBinary(id): Promise<ResolvedBinary> {
      const def = byId.get(id);
      const binary = def?.binary ?? id;
      let exists = false;
      try {
        readFileSync(binary, { flag: 'r' }).subarray(0, 0);
        exists = true;
      } catch {
        exists = false;
      }
      return exists
        ? { provider_id: id, binary, path: binary, error: null }
        : { provider_id: id, binary, path: null, error: notInstalledMessage(binary) };
    },
  };
}

export interface TempEnv {
  dir: string;
  dbPath: string;
  log: string;
  cleanup(): void;
}

export function tempEnv(): TempEnv {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-tasks-'));
  return {
    dir,
    dbPath: path.join(dir, 'autodev.db'),
    log: path.join(dir, 'agent.log'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function openTaskDb(dbPath: string) {
  return openDatabase({ schemaDir: SCHEMA_DIR, path: dbPath });
}

export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  label: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Lines of the fake agent's log: `start|end <pid> <tag> <ms>`. */
export function agentLog(file: string): { what: string; pid: number; tag: string; at: number }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [what, pid, tag, at] = l.split(' ');
      return { what: what!, pid: Number(pid), tag: tag!, at: Number(at) };
    });
}

/** Highest number of agents alive at once according to the start/end log (in append order). */
export function maxConcurrent(file: string, tagPrefix = ''): number {
  let now = 0;
  let max = 0;
  for (const e of agentLog(file)) {
    if (!e.tag.startsWith(tagPrefix)) continue;
    now += e.what === 'start' ? 1 : -1;
    max = Math.max(max, now);
  }
  return max;
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
