import { execFile } from 'node:child_process';
import { loginShellPath } from './login-path.ts';
import type { ProviderDefinition } from './types.ts';

export interface ProviderVersion {
  provider_id: string;
  /** First non-empty line of the output, e.g. `1.0.113 (Claude Code)`. */
  version: string | null;
  error: string | null;
}

/** The little a `--version` run needs: no API keys or other secrets from the app's environment. */
const BASIC_ENV = ['HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TMPDIR', 'SHELL'];

async function versionEnv(): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { TERM: 'dumb', NO_COLOR: '1' };
  for (const key of BASIC_ENV) if (process.env[key] !== undefined) env[key] = process.env[key];
  // Many CLIs are `#!/usr/bin/env node` scripts: they need the user's PATH, not the GUI app's.
  env.PATH = (await loginShellPath({ env: process.env })).path;
  return env;
}

/**
 * Run `path ...version_args` (for `autodev doctor`). Never throws; a hung CLI is killed at the timeout.
 * Default env: the basics plus the login-shell PATH (no secrets).
 */
export async function providerVersion(
  def: ProviderDefinition,
  binaryPath: string,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ProviderVersion> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const env = options.env ?? (await versionEnv());
  return new Promise((resolve) => {
    execFile(
      binaryPath,
      def.version_args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024, env },
      (error, stdout, stderr) => {
        const firstLine = `${stdout}\n${stderr}`
          .split('\n')
          .map((l) => l.trim())
          .find((l) => l.length > 0);
        if (error) {
          const killed = (error as { killed?: boolean }).killed === true;
          resolve({
            provider_id: def.id,
            version: null,
            error: killed
              ? `${def.binary} ${def.version_args.join(' ')} did not finish within ${timeoutMs} ms`
              : `${def.binary} ${def.version_args.join(' ')} failed: ${firstLine ?? error.message}`,
          });
          return;
        }
        resolve({
          provider_id: def.id,
          version: firstLine ?? null,
          error: firstLine ? null : 'no version output',
        });
      },
    );
  });
}
