/** A failed API call with the server's stable `error_code` (see src-shared/errors.ts). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: { path: string; message: string }[] | undefined;
  /** Files a refusal is about (a merge conflict's, a dirty checkout's). */
  readonly files: string[] | undefined;

  constructor(
    message: string,
    code: string,
    status = 0,
    details?: { path: string; message: string }[],
    files?: string[],
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
    this.files = files;
  }
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && (error.code === 'UNAUTHORIZED' || error.status === 401);
}

/** Text for the user: the server's message plus which fields failed validation. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.details?.map((d) => `${d.path}: ${d.message}`).join('; ');
    return fields ? `${error.message} (${fields})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
