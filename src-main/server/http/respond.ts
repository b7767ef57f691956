import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodError } from 'zod';
import type { ErrorBody, ErrorCode } from '../../../src-shared/errors.ts';

/** An error a route throws to answer `{error, error_code}` with a status. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: ErrorBody['details'];
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    details?: ErrorBody['details'],
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

/** Validation failure naming each field and why: `limit: Too big: expected number to be <=500`. */
export function validationError(error: ZodError, where: 'body' | 'query' | 'path'): HttpError {
  const details = error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : where,
    message: issue.message,
  }));
  const summary = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  return new HttpError(400, 'VALIDATION_ERROR', `invalid ${where}: ${summary}`, details);
}

/**
 * Headers on every response. The CSP allows only same-origin scripts (no inline script, no eval),
 * styles may be inline (xterm.js injects <style> elements), no framing, no referrer.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Clipboard for this origin only: the dashboard's paste (the phone key row reads the clipboard on a
  // tap, with the browser's own prompt); `clipboard-read=()` made Ctrl+Shift+V fail silently.
  'Permissions-Policy':
    'camera=(), microphone=(), geolocation=(), clipboard-read=(self), clipboard-write=(self)',
};

export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  const body: ErrorBody = { error: error.message, error_code: error.code };
  if (error.details) body.details = error.details;
  sendJson(res, error.status, body, error.headers);
}

/** Maximum JSON body we read (session create with a long initial prompt fits). */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'VALIDATION_ERROR', `body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  // Only JSON: a cross-site form (urlencoded / multipart / text/plain) can never reach a handler.
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'VALIDATION_ERROR', 'body must be application/json');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'MALFORMED_MESSAGE', 'body is not valid JSON');
  }
}
