import type { ErrorCode } from '../../../src-shared/errors.ts';

/**
 * A refusal or failure of a worktree action, with the stable error code every boundary answers with
 * and, when it is about files (a merge conflict, a dirty checkout, unsaved work), the files.
 */
export class WorktreeError extends Error {
  readonly error_code: ErrorCode;
  readonly files: string[] | undefined;
  /** HTTP status for the REST routes. */
  readonly status: number;
  constructor(message: string, code: ErrorCode, options: { files?: string[]; status?: number } = {}) {
    super(message);
    this.name = 'WorktreeError';
    this.error_code = code;
    this.files = options.files;
    this.status =
      options.status ??
      (code === 'NOT_FOUND' ? 404 : code === 'VALIDATION_ERROR' ? 400 : code === 'CONFLICT' ? 409 : 500);
  }
}

/** `a.txt, b.txt and 3 more`: file lists in messages stay readable. */
export function listFiles(files: readonly string[], max = 5): string {
  if (files.length <= max) return files.join(', ');
  return `${files.slice(0, max).join(', ')} and ${files.length - max} more`;
}
