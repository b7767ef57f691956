import { execFile, spawn } from 'node:child_process';

/**
 * Git plumbing for worktrees: every call is `execFile('git', argv)` — never a shell string — in a
 * given directory, with an environment that cannot prompt, page, open an editor or be redirected to
 * another repository by a stray GIT_DIR in AutoDev's own environment.
 */

export interface GitOptions {
  cwd: string;
  /** Extra environment (GIT_INDEX_FILE for the snapshot index). */
  env?: Record<string, string>;
  /** Default 60 s (hooks of a commit may take a while); read commands pass less. */
  timeoutMs?: number;
  /** Default 32 MiB of stdout. */
  maxBuffer?: number;
  /** Read-only commands take no optional locks, so `status`/`diff` never rewrite the agent's index
   *  (which would also wake the watcher that triggered them). */
  readOnly?: boolean;
  /** Exit codes that are answers rather than failures (merge-tree: 1 = conflicts). */
  okCodes?: number[];
  input?: string;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class GitError extends Error {
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(args: readonly string[], exitCode: number | null, stderr: string, message?: string) {
    const firstLines = stderr.trim().split('\n').slice(0, 6).join(' | ');
    super(
      message ?? `git ${args[0] ?? ''} failed${exitCode !== null ? ` (${exitCode})` : ''}: ${firstLines}`,
    );
    this.name = 'GitError';
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Environment variables that would point git elsewhere or change its output format. */
const DROPPED =
  /^GIT_(?!CONFIG_GLOBAL$|CONFIG_SYSTEM$|CONFIG_NOSYSTEM$|AUTHOR_|COMMITTER_|SSH_COMMAND$|SSH$)/;

/**
 * Options before the subcommand: stable, unquoted, colourless output whatever the user's config says,
 * and no fsmonitor: a repository's config could name any program as its fsmonitor, and AutoDev runs
 * `status`/`add` on every debounced change — those must never execute something from a repository.
 */
const GLOBAL_ARGS = [
  '-c',
  'core.quotePath=false',
  '-c',
  'color.ui=false',
  '-c',
  'advice.detachedHead=false',
  '-c',
  'core.fsmonitor=false',
];

export type Git = (args: string[], options: GitOptions) => Promise<GitResult>;

export function gitEnvironment(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && !DROPPED.test(key)) env[key] = value;
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_EDITOR: 'true',
    GIT_SEQUENCE_EDITOR: 'true',
    GIT_MERGE_AUTOEDIT: 'no',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    LC_ALL: 'C',
    LANGUAGE: 'C',
  };
}

/** A git runner bound to an environment (the core's env, filtered). */
export function createGit(source: NodeJS.ProcessEnv = process.env, binary = 'git'): Git {
  const base = gitEnvironment(source);
  return (args, options) =>
    new Promise<GitResult>((resolve, reject) => {
      const env = { ...base, ...options.env, ...(options.readOnly ? { GIT_OPTIONAL_LOCKS: '0' } : {}) };
      const child = execFile(
        binary,
        [...GLOBAL_ARGS, ...args],
        {
          cwd: options.cwd,
          env,
          timeout: options.timeoutMs ?? 60_000,
          maxBuffer: options.maxBuffer ?? 32 * 1024 * 1024,
          encoding: 'utf8',
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          const code =
            error && typeof (error as { code?: unknown }).code === 'number'
              ? ((error as { code: number }).code as number)
              : error
                ? null
                : 0;
          if (code !== null && (code === 0 || options.okCodes?.includes(code))) {
            resolve({ stdout, stderr, code });
            return;
          }
          const killed = (error as { killed?: boolean } | null)?.killed;
          reject(
            new GitError(
              args,
              code,
              stderr || (error as Error | null)?.message || '',
              killed ? `git ${args[0]} timed out or was stopped` : undefined,
            ),
          );
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
}

/**
 * Runs git and keeps at most `maxBytes` of its stdout, stopping it past that: a diff of a huge
 * generated file must not be read whole into memory. `capped` tells whether output was cut.
 */
export function gitCapped(
  source: NodeJS.ProcessEnv,
  args: string[],
  options: { cwd: string; maxBytes: number; timeoutMs?: number; env?: Record<string, string> },
): Promise<{ stdout: string; capped: boolean }> {
  const env = { ...gitEnvironment(source), ...options.env, GIT_OPTIONAL_LOCKS: '0' };
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...GLOBAL_ARGS, ...args], {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let capped = false;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (capped) return;
      const room = options.maxBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        size = options.maxBytes;
        capped = true;
        child.kill('SIGTERM');
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8192);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!capped && code !== 0) {
        reject(new GitError(args, code, stderr));
        return;
      }
      // Cut at the last complete line so a multi-byte character or a hunk line is never split.
      let text = Buffer.concat(chunks).toString('utf8');
      if (capped) text = text.slice(0, text.lastIndexOf('\n') + 1);
      resolve({ stdout: text, capped });
    });
  });
}

/** `-c user.name=… -c user.email=…` when the repository has no identity, so AutoDev's own commits
 *  (merge, squash, the user's commit button) work on a machine where git was never configured. */
export async function identityArgs(git: Git, cwd: string): Promise<string[]> {
  try {
    await git(['var', 'GIT_COMMITTER_IDENT'], { cwd, readOnly: true, timeoutMs: 10_000 });
    await git(['var', 'GIT_AUTHOR_IDENT'], { cwd, readOnly: true, timeoutMs: 10_000 });
    return [];
  } catch {
    return ['-c', 'user.name=AutoDev', '-c', 'user.email=autodev@localhost'];
  }
}

/** NUL-separated fields of a `-z` output, without the empty tail. */
export function splitZ(output: string): string[] {
  const parts = output.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}
