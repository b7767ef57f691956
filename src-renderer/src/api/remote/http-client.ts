import { ApiError } from '../api-error.ts';

/**
 * Authenticated JSON over fetch: the bearer token in a header (never a URL), no cookies, no cache.
 * Server errors become ApiError with the server's code and message; 401 is reported once.
 */
export class HttpClient {
  private readonly _base: string;
  private readonly _token: string;
  private readonly _fetch: typeof fetch;
  private readonly _onUnauthorized: (message: string) => void;

  constructor(
    base: string,
    token: string,
    fetchImpl: typeof fetch,
    onUnauthorized: (message: string) => void,
  ) {
    this._base = base;
    this._token = token;
    this._fetch = fetchImpl;
    this._onUnauthorized = onUnauthorized;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.raw(method, path, body);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this._token}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await this._fetch(`${this._base}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        // Never send or store cookies: the bearer token is the only credential.
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(`Cannot reach the AutoDev server (${(error as Error).message})`, 'NETWORK', 0);
    }
    if (response.ok) return response;
    let message = `${response.status} ${response.statusText}`;
    let code =
      response.status === 401 ? 'UNAUTHORIZED' : response.status === 403 ? 'FORBIDDEN' : 'HTTP_ERROR';
    let details: { path: string; message: string }[] | undefined;
    let files: string[] | undefined;
    try {
      const err = (await response.json()) as {
        error?: string;
        error_code?: string;
        details?: typeof details;
        files?: string[];
      };
      if (err.error) message = err.error;
      if (err.error_code) code = err.error_code;
      details = err.details;
      if (Array.isArray(err.files)) files = err.files;
    } catch {
      // Not JSON: keep the status line.
    }
    if (response.status === 401) this._onUnauthorized(message);
    throw new ApiError(message, code, response.status, details, files);
  }
}
