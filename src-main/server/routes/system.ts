import type { HealthResponse } from '../../../src-shared/rest.ts';
import type { RouteDefinition } from '../http/router.ts';
import type { ServerMetrics } from '../metrics.ts';

const startedAt = Date.now();

export function systemRoutes(metrics: ServerMetrics): RouteDefinition[] {
  return [
    {
      method: 'GET',
      path: '/health',
      scope: null,
      handler(ctx) {
        const persistence = ctx.core.store?.status() ?? {
          ok: false,
          paused_reason: 'persistence not configured',
        };
        const body: HealthResponse = {
          status: persistence.ok ? 'ok' : 'degraded',
          version: ctx.core.version,
          uptime_s: Math.round((Date.now() - startedAt) / 1000),
          sessions: ctx.core.sessions.list().length,
          persistence,
          redis: ctx.core.redisStatus(),
        };
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      scope: 'read',
      async handler(ctx) {
        const text = await metrics.registry.metrics();
        ctx.res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
        ctx.res.end(text);
        return undefined;
      },
    },
    {
      method: 'GET',
      path: '/whoami',
      scope: 'read',
      handler(ctx) {
        const auth = ctx.auth!;
        return {
          status: 200,
          body: {
            user_id: auth.sub,
            scope: auth.scope,
            mode: 'dashboard',
            expires_at: new Date(auth.exp * 1000).toISOString(),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/cli/providers',
      scope: 'read',
      async handler(ctx) {
        return { status: 200, body: await ctx.core.listProviders() };
      },
    },
  ];
}
