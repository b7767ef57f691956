import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { HostExit } from '../pty-host/types.ts';

/**
 * A set-up command that runs in a session's PTY before its agent (a worktree's `.autodev/setup`,
 * PreparedSession.setup): the manager spawns it in the PTY host under the session's id, so its output
 * is the session's output (numbered, stored, shown), waits for its exit, then starts the agent with
 * the next sequence number — or ends the session in `error` when it failed.
 */

/** argv[0] as a path: the PTY host runs a file, so a bare name (`npm`) is looked up on the agent's PATH. */
export function resolveSetupFile(file: string, envPath: string | undefined): string {
  if (file.includes('/')) return file;
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, file);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(`${file} is not on PATH`);
}

/** Why a set-up exit is a failure, in words (null: it succeeded). */
export function setupFailure(label: string, exit: HostExit): string | null {
  if (exit.exit_code === 0 && exit.signal === null) return null;
  const why = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exit_code}`;
  const last = exit.last_lines[exit.last_lines.length - 1]?.trim();
  return `set-up command ${label} failed: ${why}${last ? ` (${last.slice(0, 200)})` : ''}`;
}

/** Omits the provider's API keys: a repository's set-up script has no business with them. */
export function setupEnvironment(
  env: Record<string, string>,
  providerKeys: readonly string[],
): Record<string, string> {
  const keys = new Set(providerKeys);
  return Object.fromEntries(Object.entries(env).filter(([k]) => !keys.has(k)));
}
