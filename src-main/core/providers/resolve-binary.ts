import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The message every part shows for a missing CLI (session error state, doctor, REST errors). */
export function notInstalledMessage(binary: string): string {
  return `${binary} is not installed or not on PATH`;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Find `binary` like execvp would: a name is looked up in each PATH entry; a path (containing a slash,
 * or starting with `~/`) is checked as is. Returns the absolute path or null.
 */
export function findExecutable(
  binary: string,
  searchPath: string,
  home: string = os.homedir(),
): string | null {
  if (binary.length === 0) return null;
  if (binary.startsWith('~/')) return findExecutable(path.join(home, binary.slice(2)), searchPath, home);
  if (binary.includes('/')) {
    const absolute = path.resolve(binary);
    return isExecutableFile(absolute) ? absolute : null;
  }
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir.length === 0 || !path.isAbsolute(dir)) continue; // relative PATH entries depend on cwd: skip
    const candidate = path.join(dir, binary);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}
