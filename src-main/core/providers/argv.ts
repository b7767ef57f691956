import type { ProviderDefinition } from './types.ts';

/**
 * Command lines for a provider, as argv arrays (never shell strings: nothing is ever re-parsed by a
 * shell, so a prompt cannot inject flags or commands). argv[0] is the executable to spawn:
 * `binaryPath` when given (from resolveBinary), else the provider's `binary`.
 */

export interface ArgvOptions {
  fullAccess: boolean;
  /** Resolved executable path; defaults to `def.binary`. */
  binaryPath?: string;
}

/** Interactive session: `binary ...interactive_args [...full_access_args]`. */
export function buildArgv(def: ProviderDefinition, options: ArgvOptions): string[] {
  return [
    options.binaryPath ?? def.binary,
    ...def.interactive_args,
    ...(options.fullAccess ? def.full_access_args : []),
  ];
}

export class OneShotUnsupportedError extends Error {
  constructor(providerId: string) {
    super(`${providerId} has no one-shot (print) mode`);
    this.name = 'OneShotUnsupportedError';
  }
}

/**
 * One-shot (print) run: `binary ...one_shot.args [...one_shot.full_access_args]` plus the prompt:
 * - via `arg`: last argument, after `--` when it starts with `-` (so it cannot be read as a flag);
 * - via `flag`: right after the binary as `flag prompt` (gemini `-p <prompt> -o stream-json`); a prompt
 *   starting with `-` gets a leading space, which parsers do not take as a flag and models ignore;
 * - via `stdin`: not in argv; write oneShotStdin() to the process's stdin.
 */
export function buildOneShotArgv(def: ProviderDefinition, prompt: string, options: ArgvOptions): string[] {
  const spec = def.one_shot;
  if (spec === null) throw new OneShotUnsupportedError(def.id);
  const argv = [options.binaryPath ?? def.binary];
  const rest = [...spec.args, ...(options.fullAccess ? spec.full_access_args : [])];
  switch (spec.prompt.via) {
    case 'arg':
      argv.push(...rest, ...(prompt.startsWith('-') ? ['--', prompt] : [prompt]));
      break;
    case 'flag':
      argv.push(spec.prompt.flag, prompt.startsWith('-') ? ` ${prompt}` : prompt, ...rest);
      break;
    case 'stdin':
      argv.push(...rest);
      break;
  }
  return argv;
}

/** What to write to a one-shot process's stdin (then close it), or null when the prompt is in argv. */
export function oneShotStdin(def: ProviderDefinition, prompt: string): string | null {
  return def.one_shot?.prompt.via === 'stdin' ? prompt : null;
}
