import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ID_PATTERN } from '../../../src-shared/ids.ts';
import {
  type CreateSessionResponse,
  HistoryQuerySchema,
  type Page,
  SearchQuerySchema,
  SessionListQuerySchema,
} from '../../../src-shared/rest.ts';
import {
  CreateSessionRequestSchema,
  FINAL_STATES,
  type SessionDiagnostics,
  type SessionInfo,
} from '../../../src-shared/session.ts';
import { HttpError, validationError } from '../http/respond.ts';
import type { RouteContext, RouteDefinition } from '../http/router.ts';
import type { ServerCore } from '../types.ts';
import { createSessionInWorktree, endSessionWithWorktree } from './worktrees.ts';

const RenameSchema = z.object({ name: z.string().trim().min(1).max(200) });
const ExportQuerySchema = z.object({ format: z.enum(['json', 'text']).default('json') });

function parseQuery<S extends z.ZodType>(schema: S, query: URLSearchParams): z.output<S> {
  const raw: Record<string, string> = {};
  for (const [k, v] of query) raw[k] = v;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, 'query');
  return parsed.data;
}

function sessionIdParam(ctx: RouteContext): string {
  const id = ctx.params['id'] ?? '';
  if (!ID_PATTERN.test(id)) {
    throw new HttpError(400, 'VALIDATION_ERROR', 'id: must match ^[A-Za-z0-9_.:-]{1,128}$', [
      { path: 'id', message: 'must match ^[A-Za-z0-9_.:-]{1,128}$' },
    ]);
  }
  return id;
}

/** Live session from the manager, else the stored record of an ended one. */
function findSession(core: ServerCore, id: string): SessionInfo {
  const session = core.sessions.get(id) ?? core.store?.getSession(id);
  if (!session) throw new HttpError(404, 'NOT_FOUND', `session ${id} not found`);
  return session;
}

function requireStore(core: ServerCore): NonNullable<ServerCore['store']> {
  if (!core.store)
    throw new HttpError(503, 'PERSISTENCE_PAUSED', 'persistence is not available in this server');
  return core.store;
}

function matchesStatus(session: SessionInfo, status: string | undefined): boolean {
  if (!status) return true;
  if (status === 'active') return !FINAL_STATES.has(session.state);
  if (status === 'ended') return FINAL_STATES.has(session.state);
  return session.state === status;
}

export function sessionRoutes(): RouteDefinition[] {
  return [
    {
      method: 'POST',
      path: '/cli/sessions',
      scope: 'control',
      async handler(ctx) {
        const parsed = CreateSessionRequestSchema.safeParse(await ctx.body());
        if (!parsed.success) throw validationError(parsed.error, 'body');
        const options = parsed.data;
        if (!ctx.core.hasProvider(options.cli_tool)) {
          throw new HttpError(400, 'PROVIDER_UNKNOWN', `cli_tool: unknown provider "${options.cli_tool}"`, [
            { path: 'cli_tool', message: 'unknown provider' },
          ]);
        }
        if (options.working_directory !== undefined) {
          const dir = options.working_directory;
          let ok = false;
          try {
            ok = path.isAbsolute(dir) && statSync(dir).isDirectory();
          } catch {}
          if (!ok) {
            throw new HttpError(
              400,
              'VALIDATION_ERROR',
              'working_directory: must be an existing absolute directory',
              [{ path: 'working_directory', message: 'must be an existing absolute directory' }],
            );
          }
        }
        const session = options.worktree
          ? await createSessionInWorktree(ctx.core, options)
          : await ctx.core.sessions.create(options);
        const body: CreateSessionResponse = {
          session_id: session.session_id,
          status: session.state,
          websocket_url: `${ctx.wsBase}/cli/session/${session.session_id}/ws`,
          created_at: session.created_at,
          session,
        };
        return { status: 201, body };
      },
    },
    {
      method: 'GET',
      path: '/cli/sessions',
      scope: 'read',
      handler(ctx) {
        const query = parseQuery(SessionListQuerySchema, ctx.query);
        const live = ctx.core.sessions.list();
        const liveIds = new Set(live.map((s) => s.session_id));
        // Ended sessions of this and earlier runs come from the store; the manager is authoritative for live ones.
        const stored = ctx.core.store
          ? ctx.core.store
              .listSessions({ ...query, limit: 500, offset: 0 })
              .items.filter((s) => !liveIds.has(s.session_id))
          : [];
        const all = [...live, ...stored]
          .filter((s) => matchesStatus(s, query.status))
          .filter((s) => !query.cli_tool || s.cli_tool === query.cli_tool)
          .filter((s) => !query.user_id || s.user_id === query.user_id)
          .filter((s) => !query.since || s.created_at >= query.since)
          .filter((s) => !query.until || s.created_at <= query.until)
          .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
        const page: Page<SessionInfo> = {
          items: all.slice(query.offset, query.offset + query.limit),
          total: all.length,
          limit: query.limit,
          offset: query.offset,
        };
        return { status: 200, body: page };
      },
    },
    {
      method: 'GET',
      path: '/cli/sessions/:id',
      scope: 'read',
      handler(ctx) {
        return { status: 200, body: findSession(ctx.core, sessionIdParam(ctx)) };
      },
    },
    {
      method: 'DELETE',
      path: '/cli/sessions/:id',
      scope: 'control',
      async handler(ctx) {
        const id = sessionIdParam(ctx);
        const session = findSession(ctx.core, id);
        // ?remove_worktree=true: also its worktree and branch (refused with unsaved work unless force).
        const withWorktree = await endSessionWithWorktree(ctx, id);
        if (withWorktree) return withWorktree;
        if (ctx.core.sessions.get(id) && !FINAL_STATES.has(session.state)) {
          await ctx.core.sessions.terminate(id, 'terminated via REST');
        }
        const after = findSession(ctx.core, id);
        return { status: 200, body: { session_id: id, status: after.state, session: after } };
      },
    },
    {
      // A new session continuing an ended one's agent conversation (claude --resume, codex resume…).
      method: 'POST',
      path: '/cli/sessions/:id/resume',
      scope: 'control',
      async handler(ctx) {
        const id = sessionIdParam(ctx);
        findSession(ctx.core, id);
        if (!ctx.core.resumeSession)
          throw new HttpError(501, 'INTERNAL', 'this server cannot resume sessions');
        const session = await ctx.core.resumeSession(id, ctx.auth?.sub);
        const body: CreateSessionResponse = {
          session_id: session.session_id,
          status: session.state,
          websocket_url: `${ctx.wsBase}/cli/session/${session.session_id}/ws`,
          created_at: session.created_at,
          session,
        };
        return { status: 201, body };
      },
    },
    {
      method: 'PATCH',
      path: '/cli/sessions/:id',
      scope: 'control',
      async handler(ctx) {
        const id = sessionIdParam(ctx);
        const parsed = RenameSchema.safeParse(await ctx.body());
        if (!parsed.success) throw validationError(parsed.error, 'body');
        if (!ctx.core.sessions.get(id)) {
          findSession(ctx.core, id);
          throw new HttpError(
            409,
            'SESSION_NOT_RUNNING',
            'only sessions of the running server can be renamed',
          );
        }
        return { status: 200, body: ctx.core.sessions.rename(id, parsed.data.name) };
      },
    },
    {
      method: 'GET',
      path: '/cli/sessions/:id/history',
      scope: 'read',
      handler(ctx) {
        const id = sessionIdParam(ctx);
        const query = parseQuery(HistoryQuerySchema, ctx.query);
        findSession(ctx.core, id);
        return { status: 200, body: requireStore(ctx.core).history(id, query) };
      },
    },
    {
      method: 'GET',
      path: '/cli/sessions/:id/diagnostics',
      scope: 'read',
      handler(ctx) {
        const id = sessionIdParam(ctx);
        const recovery = ctx.core.recoveryReport(id);
        if (ctx.core.sessions.get(id)) {
          const diagnostics: SessionDiagnostics = ctx.core.sessions.diagnostics(id);
          return { status: 200, body: { ...diagnostics, recovery } };
        }
        // An ended session of an earlier run: what the store remembers, no live figures.
        const session = findSession(ctx.core, id);
        const body = {
          session,
          resource_usage: null,
          limits: {
            idle_timeout_s: ctx.core.sessions.limits.idle_timeout_s,
            max_run_time_s: ctx.core.sessions.limits.max_run_time_s,
            max_memory_mb: ctx.core.sessions.limits.max_memory_mb,
            max_cpu_percent: ctx.core.sessions.limits.max_cpu_percent,
            max_fds: ctx.core.sessions.limits.max_fds,
          },
          output: { buffered_chunks: 0, buffered_bytes: 0, paused: false, total_bytes: 0 },
          recent_errors: [],
          recovery,
        };
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      path: '/cli/sessions/:id/export',
      scope: 'read',
      handler(ctx) {
        const id = sessionIdParam(ctx);
        const { format } = parseQuery(ExportQuerySchema, ctx.query);
        findSession(ctx.core, id);
        const text = requireStore(ctx.core).exportSession(id, format);
        ctx.res.writeHead(200, {
          'Content-Type': format === 'json' ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
          'Content-Disposition': `attachment; filename="${id}.${format === 'json' ? 'json' : 'txt'}"`,
          'Cache-Control': 'no-store',
        });
        ctx.res.end(text);
        return undefined;
      },
    },
    {
      method: 'GET',
      path: '/cli/search',
      scope: 'read',
      handler(ctx) {
        const query = parseQuery(SearchQuerySchema, ctx.query);
        return { status: 200, body: requireStore(ctx.core).search(query) };
      },
    },
  ];
}
