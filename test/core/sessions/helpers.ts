import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../../src-main/core/log/logger.ts';
import type {
  ProviderDefinition,
  ProviderRegistry,
  ResolvedBinary,
} from '../../../src-main/core/providers/types.ts';
import { createSessionManager, type SessionManagerOptions } from '../../../src-main/core/sessions/index.ts';
import type { SessionManager } from '../../../src-main/core/sessions/types.ts';
import type { OutputChunk } from '../../../src-shared/session.ts';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/agents');
export const fixture = (name: string) => path.join(FIXTURES, name);

/** A provider that runs a Node fixture script (or any binary) in the PTY. Data, like real providers. */
export function provider(
  id: string,
  binary: string,
  args: string[] = [],
  extra: Partial<ProviderDefinition> = {},
) {
  return {
    id,
    name: id,
    binary,
    interactive_args: args,
    full_access_args: ['--full-access'],
    one_shot: null,
    env_keys: [],
    version_args: ['--version'],
    bracketed_paste: false,
    screen_rules: [],
    title_rules: [],
    stability_ms: 500,
    ...extra,
  } satisfies ProviderDefinition;
}

export const nodeProvider = (
  id: string,
  script: string,
  args: string[] = [],
  extra: Partial<ProviderDefinition> = {},
) => provider(id, process.execPath, [fixture(script), ...args], extra);

/** Registry over fixed definitions; a binary resolves when it is an existing absolute path. */
export function registry(defs: ProviderDefinition[]): ProviderRegistry {
  const byId = new Map(defs.map((d) => [d.id, d]));
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    async resolveBinary(id): Promise<ResolvedBinary> {
      const def = byId.get(id);
      const binary = def?.binary ?? id;
      const ok = path.isAbsolute(binary) && existsSync(binary);
      return {
        provider_id: id,
        binary,
        path: ok ? binary : null,
        error: ok ? null : `${binary} is not installed or not on PATH`,
      };
    },
  };
}

export interface TestManager {
  manager: SessionManager;
  logs: Record<string, unknown>[];
  logger: Logger;
}

export function testManager(
  defs: ProviderDefinition[],
  options: Partial<SessionManagerOptions> = {},
): TestManager {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => logs.push(JSON.parse(line)) });
  const manager = createSessionManager({
    providers: registry(defs),
    logger,
    loginPath: async () => process.env.PATH ?? '/usr/bin:/bin',
    ...options,
  });
  return { manager, logs, logger };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false,
  timeoutMs = 20_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Collects every chunk of one session from the manager's global output event. */
export function collect(manager: SessionManager, sessionId: () => string | undefined) {
  const chunks: OutputChunk[] = [];
  const sub = manager.onOutput((c) => {
    if (c.session_id === sessionId()) chunks.push(c);
  });
  return {
    chunks,
    text: () => chunks.map((c) => c.data).join(''),
    dispose: () => sub.dispose(),
  };
}

/** Alive and not a zombie, with the same start time if one is given. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Zombie children of this test process (node-pty must reap its own). */
export function ownZombies(): number[] {
  const out: number[] = [];
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z' && Number(f[1]) === process.pid) out.push(Number(name));
    } catch {}
  }
  return out;
}

import { readdirSync, readlinkSync } from 'node:fs';

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** This process's fds that point at the PTY multiplexer or a pts slave. */
export function ptyFds(): { ptmx: number; pts: number } {
  let ptmx = 0;
  let pts = 0;
  for (const fd of readdirSafe('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target === '/dev/ptmx' || target.startsWith('/dev/pts/ptmx')) ptmx++;
      else if (target.startsWith('/dev/pts/')) pts++;
    } catch {}
  }
  return { ptmx, pts };
}
