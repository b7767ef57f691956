import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { AgentEnvironment } from './records/locate.ts';

/**
 * The environment an agent really runs with, as far as finding its records goes: HOME and the
 * variables a provider's `record.roots` name (CLAUDE_CONFIG_DIR, CODEX_HOME, GEMINI_CLI_HOME). A session
 * may have its own HOME or config folder (per-session `env`), so this reads the agent process's own
 * environment (/proc/<pid>/environ, same user) while it runs; elsewhere, or once it is gone, the
 * core's environment stands in. Only the named variables are kept: the rest (API keys) is never read
 * into memory past this function.
 */
export function readAgentEnvironment(
  pid: number | null,
  names: readonly string[],
  fallback: NodeJS.ProcessEnv = process.env,
): AgentEnvironment {
  const wanted = new Set(['HOME', ...names]);
  const fromProc = pid !== null ? procEnviron(pid, wanted) : null;
  const source = fromProc ?? pick(fallback, wanted);
  return { home: source.HOME || fallback.HOME || homedir(), env: source };
}

/** Names used as `{env:NAME}` in record roots. */
export function envNamesOf(roots: readonly string[]): string[] {
  const names = new Set<string>();
  for (const root of roots)
    for (const m of root.matchAll(/\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(m[1]!);
  return [...names];
}

function procEnviron(pid: number, wanted: Set<string>): Record<string, string | undefined> | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return null;
  }
  const out: Record<string, string | undefined> = {};
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (wanted.has(name)) out[name] = entry.slice(eq + 1);
  }
  return out;
}

function pick(env: NodeJS.ProcessEnv, wanted: Set<string>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of wanted) out[name] = env[name];
  return out;
}
