import { execFile } from 'node:child_process';
import type { ProviderDefinition } from './types.ts';

export interface ProviderVersion {
  provider_id: string;
  /** First non-empty line of the output, e.g. `1.0.113 (Claude Code)`. */
  version: string | null;
  error: string | null;
}

/** Run `path ...version_args` (for `autodev doctor`). Never throws; a hung CLI is killed at the timeout. */
export function providerVersion(
  def: ProviderDefinition,
  binaryPath: string,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ProviderVersion> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    execFile(
      binaryPath,
      def.version_args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024, env: options.env ?? process.env },
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
