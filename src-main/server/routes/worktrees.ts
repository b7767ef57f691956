import type { z } from 'zod';
import { ID_PATTERN } from '../../../src-shared/ids.ts';
import type { CreateSessionOptions, SessionInfo } from '../../../src-shared/session.ts';
import {
  ChangesQuerySchema,
  CommitRequestSchema,
  InspectQuerySchema,
  MergeRequestSchema,
  RemoveWorktreeQuerySchema,
} from '../../../src-shared/worktrees.ts';
import { GitError, WorktreeError } from '../../core/worktrees/index.ts';
import type { WorktreeService } from '../../core/worktrees/service.ts';
import { HttpError, validationError } from '../http/respond.ts';
import type { RouteContext, RouteDefinition, RouteResult } from '../http/router.ts';
import type { ServerCore } from '../types.ts';

/**
 * Worktrees and their changes over REST (issue 14). Reading needs a read token; every action a control
 * token (the router checks the route's scope before the handler runs).
 *
 *   GET  /cli/sessions/{id}/changes[?path=]      changes against the merge base, with a capped diff
 *   POST /cli/sessions/{id}/changes/commit        {message}
 *   POST /cli/sessions/{id}/changes/merge         {strategy: merge|squash|rebase, message?}
 *   POST /cli/sessions/{id}/changes/discard
 *   GET  /worktrees                              every managed worktree (crashed sessions' included)
 *   GET  /worktrees/inspect?path=                 is this directory in a repository; its branches
 *
 * Refusals answer 409 `{error, error_code: 'CONFLICT', files}` (conflicting files of a merge, the
 * uncommitted files of a dirty checkout or of work that removal would lose).
 */

function service(core: ServerCore): WorktreeService {
  if (!core.worktrees) throw new HttpError(503, 'INTERNAL', 'worktrees are not available in this server');
  return core.worktrees;
}

function sessionId(ctx: RouteContext): string {
  const id = ctx.params['id'] ?? '';
  if (!ID_PATTERN.test(id)) {
    throw new HttpError(400, 'VALIDATION_ERROR', 'id: must match ^[A-Za-z0-9_.:-]{1,128}$', [
      { path: 'id', message: 'must match ^[A-Za-z0-9_.:-]{1,128}$' },
    ]);
  }
  return id;
}

function query<S extends z.ZodType>(schema: S, params: URLSearchParams): z.output<S> {
  const raw: Record<string, string> = {};
  for (const [k, v] of params) raw[k] = v;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, 'query');
  return parsed.data;
}

async function body<S extends z.ZodType>(schema: S, ctx: RouteContext): Promise<z.output<S>> {
  const parsed = schema.safeParse(await ctx.body());
  if (!parsed.success) throw validationError(parsed.error, 'body');
  return parsed.data;
}

/** A worktree refusal as its JSON answer (with `files`); a git failure as a 500 naming the command. */
async function answer(fn: () => Promise<unknown>, status = 200): Promise<RouteResult> {
  try {
    return { status, body: await fn() };
  } catch (error) {
    if (error instanceof WorktreeError) {
      return {
        status: error.status,
        body: {
          error: error.message,
          error_code: error.error_code,
          ...(error.files && error.files.length > 0 ? { files: error.files } : {}),
        },
      };
    }
    if (error instanceof GitError) {
      return { status: 500, body: { error: error.message, error_code: 'INTERNAL' } };
    }
    throw error;
  }
}

export function worktreeRoutes(): RouteDefinition[] {
  return [
    {
      method: 'GET',
      path: '/cli/sessions/:id/changes',
      scope: 'read',
      handler(ctx) {
        const id = sessionId(ctx);
        const q = query(ChangesQuerySchema, ctx.query);
        return answer(() => service(ctx.core).changes(id, q));
      },
    },
    {
      method: 'POST',
      path: '/cli/sessions/:id/changes/commit',
      scope: 'control',
      async handler(ctx) {
        const id = sessionId(ctx);
        const { message } = await body(CommitRequestSchema, ctx);
        return answer(() => service(ctx.core).commit(id, message));
      },
    },
    {
      method: 'POST',
      path: '/cli/sessions/:id/changes/merge',
      scope: 'control',
      async handler(ctx) {
        const id = sessionId(ctx);
        const request = await body(MergeRequestSchema, ctx);
        return answer(() => service(ctx.core).merge(id, request));
      },
    },
    {
      method: 'POST',
      path: '/cli/sessions/:id/changes/discard',
      scope: 'control',
      handler(ctx) {
        const id = sessionId(ctx);
        return answer(() => service(ctx.core).discard(id));
      },
    },
    {
      method: 'GET',
      path: '/worktrees',
      scope: 'read',
      handler(ctx) {
        return answer(async () => ({ worktrees: await service(ctx.core).list() }));
      },
    },
    {
      method: 'GET',
      path: '/worktrees/inspect',
      // Probing the file system is for those who may start sessions.
      scope: 'control',
      handler(ctx) {
        const { path } = query(InspectQuerySchema, ctx.query);
        return answer(() => service(ctx.core).inspect(path));
      },
    },
  ];
}

/** `POST /cli/sessions` with `worktree`: the worktree first, then the session in it. */
export function createSessionInWorktree(
  core: ServerCore,
  options: CreateSessionOptions,
): Promise<SessionInfo> {
  return service(core)
    .createSession(options)
    .catch((error: unknown) => {
      if (error instanceof WorktreeError) throw new HttpError(error.status, error.error_code, error.message);
      throw error;
    });
}

/** `DELETE /cli/sessions/{id}?remove_worktree=true[&force=true]`, or null when no removal was asked. */
export async function endSessionWithWorktree(ctx: RouteContext, id: string): Promise<RouteResult | null> {
  const q = query(RemoveWorktreeQuerySchema, ctx.query);
  const yes = (v: string | undefined) => v === 'true' || v === '1';
  if (!yes(q.remove_worktree)) return null;
  return answer(() => service(ctx.core).endSession(id, { removeWorktree: true, force: yes(q.force) }));
}
