import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * The PATH a user's terminal has. Apps started from a desktop inherit a minimal PATH without what the
 * user's profile adds (nvm, ~/.local/bin, Homebrew…), so `claude` or `node` is "not found" although it
 * works in their terminal (stravu/crystal#27, winfunc/opcode#65). We ask the user's shell once, as an
 * interactive login shell, and cache the answer.
 *
 * rc files may print banners, set titles or fail noisily, so the PATH is framed by sentinels and only
 * the text between them is used. A shell that hangs (a prompt in .bashrc…) is killed after the timeout
 * and we fall back to this process's PATH.
 */

const START = '__AUTODEV_PATH_START__';
const END = '__AUTODEV_PATH_END__';

export interface LoginPathOptions {
  env?: NodeJS.ProcessEnv;
  /** Shell to ask; defaults to env.SHELL, then /bin/bash. */
  shell?: string;
  timeoutMs?: number;
}

export interface LoginPathResult {
  /** Login-shell PATH entries first, then the process PATH entries it lacked. */
  path: string;
  /** Where the first part came from. */
  source: 'login-shell' | 'process';
  /** Why the login shell was not used (timeout, exit status, no sentinel…). */
  error: string | null;
}

const cache = new Map<string, Promise<LoginPathResult>>();

/** Forget cached answers (tests; a settings change of the user's shell). */
export function clearLoginPathCache(): void {
  cache.clear();
}

export function mergePaths(first: string, second: string): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of [...first.split(path.delimiter), ...second.split(path.delimiter)]) {
    if (entry.length === 0 || seen.has(entry)) continue;
    seen.add(entry);
    out.push(entry);
  }
  return out.join(path.delimiter);
}

/** Cached per (shell, HOME, process PATH). */
export function loginShellPath(options: LoginPathOptions = {}): Promise<LoginPathResult> {
  const env = options.env ?? process.env;
  const shell = options.shell ?? (env.SHELL && env.SHELL.length > 0 ? env.SHELL : '/bin/bash');
  const key = JSON.stringify([shell, env.HOME ?? '', env.PATH ?? '']);
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = queryLoginShell(shell, env, options.timeoutMs ?? 5000);
    cache.set(key, pending);
  }
  return pending;
}

function queryLoginShell(shell: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<LoginPathResult> {
  const processPath = env.PATH ?? '';
  const fallback = (error: string): LoginPathResult => ({ path: processPath, source: 'process', error });
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(shell, ['-lic', `printf '%s' "${START}\${PATH}${END}"`], {
        env: { ...env, TERM: 'dumb' },
        stdio: ['ignore', 'pipe', 'ignore'],
        // Own process group, so a timeout kills whatever the rc files started too.
        detached: true,
      });
    } catch (error) {
      resolve(fallback(`cannot start ${shell}: ${String(error)}`));
      return;
    }
    let out = '';
    let settled = false;
    const finish = (result: LoginPathResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      finish(fallback(`${shell} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (out.length < 1_000_000) out += chunk;
    });
    child.on('error', (error) => finish(fallback(`cannot start ${shell}: ${error.message}`)));
    child.on('close', (code) => {
      const start = out.lastIndexOf(START);
      const end = start >= 0 ? out.indexOf(END, start) : -1;
      if (start < 0 || end < 0) {
        finish(fallback(`${shell} exited with ${code} without printing PATH`));
        return;
      }
      const loginPath = out.slice(start + START.length, end).trim();
      if (loginPath.length === 0) {
        finish(fallback(`${shell} printed an empty PATH`));
        return;
      }
      finish({ path: mergePaths(loginPath, processPath), source: 'login-shell', error: null });
    });
  });
}
