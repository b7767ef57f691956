import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenScope } from '../../../src-shared/ws-protocol.ts';
import type { TokenClaims } from '../auth/tokens.ts';
import type { ServerCore } from '../types.ts';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters, already checked against ID_PATTERN when named `id`. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The verified token (null only on public routes). */
  auth: TokenClaims | null;
  core: ServerCore;
  /** Parsed JSON body (≤ 1 MiB, application/json only). */
  body(): Promise<unknown>;
  /** `ws://host:port` as the client reached us (Host already allow-listed). */
  wsBase: string;
}

/** What a handler returns: a JSON reply, or `undefined` when it wrote the response itself. */
export type RouteResult = { status: number; body: unknown; headers?: Record<string, string> } | undefined;

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** `/cli/sessions/:id/history`: `:name` segments become params. */
  path: string;
  /** Scope required; `null` means public (only /health). */
  scope: TokenScope | null;
  handler(ctx: RouteContext): Promise<RouteResult> | RouteResult;
}

/** A module that contributes routes (the task runner hands over one of these). */
export type RouteModule = (core: ServerCore) => RouteDefinition[];

interface CompiledRoute extends RouteDefinition {
  regex: RegExp;
  names: string[];
}

export class Router {
  private readonly _routes: CompiledRoute[] = [];

  add(route: RouteDefinition): void {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        // Capture anything but a slash; ids are validated against ID_PATTERN by the server.
        return '([^/]+)';
      })
      .join('/');
    this._routes.push({ ...route, regex: new RegExp(`^${source}$`), names });
  }

  /** The matching route, 'method' when the path exists under another method, or null. */
  match(
    method: string,
    pathname: string,
  ): { route: CompiledRoute; params: Record<string, string> } | 'method' | null {
    let pathMatched = false;
    for (const route of this._routes) {
      const m = route.regex.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = safeDecode(m[i + 1] ?? '');
      });
      return { route, params };
    }
    return pathMatched ? 'method' : null;
  }

  /** Whether the path belongs to the API (so unknown API paths get JSON 404, not the SPA). */
  isApiPath(pathname: string): boolean {
    return (
      this._routes.some((r) => r.regex.test(pathname)) ||
      /^\/(cli|metrics|health|whoami|tasks|worktrees|usage)(\/|$)/.test(pathname)
    );
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
