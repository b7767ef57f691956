import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZodError } from 'zod';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '../../../src-shared/errors.ts';
import { ID_PATTERN } from '../../../src-shared/ids.ts';
import { TaskListQuerySchema } from '../../../src-shared/rest.ts';
import { SubmitTaskBodySchema, type SubmitTaskOptions } from '../../../src-shared/tasks.ts';
import { RateLimitError, TaskError } from '../../core/tasks/errors.ts';
import type { TaskService } from '../../core/tasks/task-service.ts';
import type { RouteDefinition, RouteModule } from '../http/router.ts';

/**
 * REST handlers for tasks, written against plain node:http so they do not depend on the server's
 * router: each handler is `(req, res, params)`, and the little the routes need from the server (auth
 * scope, caller identity, JSON in and out) comes through `TaskRouteHelpers`. `tasksRouteModule`
 * adapts them to the server's RouteModule shape.
 *
 *   POST /tasks                 control  one task or {tasks:[…]}; async → 202, sync → 200 when final
 *                                        within the wait, else 202 with the ids; 429 + Retry-After
 *   GET  /tasks                 read     ?state&cli_tool&user_id&limit&offset → Page<TaskInfo>
 *   GET  /tasks/metrics         read     counts, success rate, p50/p95/p99, tokens, cost
 *   GET  /tasks/:id             read     { task, history, outputs } (?output_limit, default 1000); the
 *                                        task says which executor ran it (`cli`, or `api` when the CLI
 *                                        is missing) and why it is in its state (`state_reason`)
 *   POST /tasks/:id/cancel      control  { task }  (cancel waits until the process group is gone)
 *   POST /tasks/:id/pause       control  { task }
 *   POST /tasks/:id/resume      control  { task }
 */
export interface TaskRouteHelpers {
  /** The caller's identity (token subject). When non-null it replaces any `user_id` in the body, so
   *  nobody can spend another user's rate limit or dodge their own. */
  userId(req: IncomingMessage): string | null;
  /** Parsed JSON body (the server enforces size and content type); throws on bad JSON. */
  readJson(req: IncomingMessage): Promise<unknown>;
  sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void;
}

export type TaskHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
) => Promise<void>;

export interface TaskRoute {
  method: 'GET' | 'POST';
  /** `:id` segments are params; the handler checks them against ID_PATTERN itself as well. */
  path: string;
  /** The token scope the server must require before calling the handler. */
  scope: 'read' | 'control';
  handler: TaskHandler;
}

export interface TaskRouteOptions {
  /** Upper bound on a sync request's wait (ms); the service has its own cap too. Default 120 000. */
  maxSyncWaitMs?: number;
}

export function createTaskRoutes(
  service: TaskService,
  helpers: TaskRouteHelpers,
  options: TaskRouteOptions = {},
): TaskRoute[] {
  const maxWait = options.maxSyncWaitMs ?? 120_000;
  const guard =
    (fn: TaskHandler): TaskHandler =>
    async (req, res, params) => {
      try {
        if (params.id !== undefined && !ID_PATTERN.test(params.id)) {
          sendError(helpers, res, 400, 'VALIDATION_ERROR', 'invalid task id');
          return;
        }
        await fn(req, res, params);
      } catch (error) {
        replyWithError(helpers, res, error);
      }
    };

  const submit: TaskHandler = async (req, res) => {
    const body = SubmitTaskBodySchema.parse(await helpers.readJson(req));
    const caller = helpers.userId(req);
    const requests: SubmitTaskOptions[] = ('tasks' in body ? body.tasks : [body]).map((t) =>
      caller ? { ...t, user_id: caller } : t,
    );
    const waitParam = new URL(req.url ?? '/', 'http://x').searchParams.get('wait_ms');
    const waitMs = Math.min(maxWait, waitParam ? Math.max(0, Number(waitParam) || 0) : maxWait);
    const result = await service.submit(requests, { waitMs });
    const sync = requests.some((r) => r.mode === 'sync');
    const status = sync && result.completed ? 200 : 202;
    if ('tasks' in body) {
      helpers.sendJson(res, status, { tasks: result.tasks, completed: result.completed });
    } else {
      const task = result.tasks[0]!;
      helpers.sendJson(res, status, { task_id: task.task_id, task, completed: result.completed });
    }
  };

  const list: TaskHandler = async (req, res) => {
    const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
    helpers.sendJson(res, 200, await service.list(TaskListQuerySchema.parse(query)));
  };

  const detail: TaskHandler = async (req, res, params) => {
    const raw = new URL(req.url ?? '/', 'http://x').searchParams.get('output_limit');
    const outputLimit = Math.min(10_000, Math.max(0, Number(raw ?? 1000) || 0));
    helpers.sendJson(res, 200, await service.getDetail(params.id!, { outputLimit }));
  };

  const control =
    (action: 'cancel' | 'pause' | 'resume'): TaskHandler =>
    async (_req, res, params) => {
      const id = params.id!;
      const task =
        action === 'cancel'
          ? await service.cancel(id)
          : action === 'pause'
            ? await service.pause(id)
            : await service.resume(id);
      helpers.sendJson(res, 200, { task });
    };

  const metrics: TaskHandler = async (_req, res) => {
    helpers.sendJson(res, 200, service.getMetrics());
  };

  return [
    { method: 'POST', path: '/tasks', scope: 'control', handler: guard(submit) },
    { method: 'GET', path: '/tasks', scope: 'read', handler: guard(list) },
    // Before /tasks/:id so "metrics" is never taken for an id.
    { method: 'GET', path: '/tasks/metrics', scope: 'read', handler: guard(metrics) },
    { method: 'GET', path: '/tasks/:id', scope: 'read', handler: guard(detail) },
    { method: 'POST', path: '/tasks/:id/cancel', scope: 'control', handler: guard(control('cancel')) },
    { method: 'POST', path: '/tasks/:id/pause', scope: 'control', handler: guard(control('pause')) },
    { method: 'POST', path: '/tasks/:id/resume', scope: 'control', handler: guard(control('resume')) },
  ];
}

function sendError(
  helpers: TaskRouteHelpers,
  res: ServerResponse,
  status: number,
  code: ErrorBody['error_code'],
  message: string,
  extra: { details?: ErrorBody['details']; headers?: Record<string, string>; retry_after_s?: number } = {},
): void {
  const body: ErrorBody & { retry_after_s?: number } = { error: message, error_code: code };
  if (extra.details) body.details = extra.details;
  if (extra.retry_after_s !== undefined) body.retry_after_s = extra.retry_after_s;
  helpers.sendJson(res, status, body, extra.headers);
}

/** Typed errors → their status and stable code; anything else is a 500 without internals. */
export function replyWithError(helpers: TaskRouteHelpers, res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (error instanceof ZodError) {
    sendError(helpers, res, 400, 'VALIDATION_ERROR', 'invalid request', {
      details: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  } else if (error instanceof RateLimitError) {
    sendError(helpers, res, 429, error.code, error.message, {
      headers: { 'Retry-After': String(error.retry_after_s) },
      retry_after_s: error.retry_after_s,
    });
  } else if (error instanceof TaskError || isStatusError(error)) {
    sendError(helpers, res, error.status, error.code, error.message);
  } else if (error instanceof SyntaxError) {
    sendError(helpers, res, 400, 'VALIDATION_ERROR', 'body is not valid JSON');
  } else {
    sendError(helpers, res, 500, 'INTERNAL', 'internal error');
  }
}

/** The server's own HttpError (body too large, wrong content type…) and the like, by shape. */
function isStatusError(error: unknown): error is { status: number; code: ErrorCode; message: string } {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { status?: unknown; code?: unknown };
  return (
    typeof e.status === 'number' &&
    e.status >= 400 &&
    e.status < 600 &&
    (ERROR_CODES as readonly unknown[]).includes(e.code)
  );
}

/**
 * The routes in the server's RouteModule shape (src-main/server/http/router.ts): the router has already
 * checked the token scope; the caller's identity is the token subject.
 */
export function tasksRouteModule(service: TaskService, options: TaskRouteOptions = {}): RouteModule {
  return () => {
    const bodies = new WeakMap<IncomingMessage, () => Promise<unknown>>();
    const subjects = new WeakMap<IncomingMessage, string | null>();
    const helpers: TaskRouteHelpers = {
      userId: (req) => subjects.get(req) ?? null,
      readJson: (req) => bodies.get(req)?.() ?? Promise.resolve(undefined),
      sendJson(res, status, body, headers) {
        res.writeHead(status, {
          'Content-Type': 'application/json; charset=utf-8',
          'Cache-Control': 'no-store',
          ...headers,
        });
        res.end(JSON.stringify(body));
      },
    };
    return createTaskRoutes(service, helpers, options).map(
      (route): RouteDefinition => ({
        method: route.method,
        path: route.path,
        scope: route.scope,
        async handler(ctx) {
          bodies.set(ctx.req, () => ctx.body());
          subjects.set(ctx.req, ctx.auth?.sub ?? null);
          await route.handler(ctx.req, ctx.res, ctx.params);
          return undefined;
        },
      }),
    );
  };
}
