import type { AgentBusyBody, TurnTimeoutBody } from '../../../src-shared/conversation.ts';
import { SendMessageRequestSchema } from '../../../src-shared/conversation.ts';
import { ID_PATTERN } from '../../../src-shared/ids.ts';
import { UsageQuerySchema } from '../../../src-shared/usage.ts';
import { ConversationError } from '../../core/conversation/index.ts';
import { statusForCode } from '../http/core-errors.ts';
import { HttpError, validationError } from '../http/respond.ts';
import type { RouteContext, RouteDefinition, RouteModule } from '../http/router.ts';

/**
 * Talking to agents and what it costs (issue #15):
 *
 *   POST /cli/sessions/:id/message   control  {content, timeout_s = 300, queue = true}
 *        200 {reply, reply_source, state, state_reason, turn_id, started_at, ended_at, usage?}
 *        409 AGENT_BUSY {state, queued} (queue: false) · 409 SESSION_NOT_RUNNING · 409 COMMAND_NOT_SUBMITTED
 *        402 BUDGET_EXCEEDED · 504 TURN_TIMEOUT {partial: what the agent printed so far; the turn goes on}
 *   GET  /cli/sessions/:id/messages  read     {session_id, conversation_id, source, messages}
 *   GET  /cli/sessions/:id/usage     read     tokens and cost per model and day (404 when none)
 *   GET  /usage                      read     ?days&cli_tool&limit: per provider, per day, per session, budgets
 */
export function conversationRoutes(): RouteModule {
  return (core) => {
    const conversations = core.conversations;
    const routes: RouteDefinition[] = [];
    if (conversations) {
      routes.push(
        {
          method: 'POST',
          path: '/cli/sessions/:id/message',
          scope: 'control',
          async handler(ctx) {
            const id = sessionId(ctx);
            const parsed = SendMessageRequestSchema.safeParse(await ctx.body());
            if (!parsed.success) throw validationError(parsed.error, 'body');
            try {
              const out = await conversations.send(id, parsed.data);
              if (out.status === 'answered') return { status: 200, body: out.reply };
              const body: TurnTimeoutBody = {
                error: `the agent did not finish within ${parsed.data.timeout_s} s; its turn goes on (GET /cli/sessions/${id}/messages, or the events channel, has the rest)`,
                error_code: 'TURN_TIMEOUT',
                partial: out.partial,
              };
              return { status: 504, body };
            } catch (error) {
              if (error instanceof ConversationError && error.error_code === 'AGENT_BUSY') {
                const body: AgentBusyBody = {
                  error: error.message,
                  error_code: 'AGENT_BUSY',
                  state: error.details.state as AgentBusyBody['state'],
                  queued: Number(error.details.queued ?? 0),
                };
                return { status: 409, body };
              }
              throw conversationHttpError(error);
            }
          },
        },
        {
          method: 'GET',
          path: '/cli/sessions/:id/messages',
          scope: 'read',
          handler(ctx) {
            try {
              return { status: 200, body: conversations.messages(sessionId(ctx)) };
            } catch (error) {
              throw conversationHttpError(error);
            }
          },
        },
      );
    }
    const usage = core.usage;
    if (usage) {
      routes.push(
        {
          method: 'GET',
          path: '/cli/sessions/:id/usage',
          scope: 'read',
          handler(ctx) {
            const id = sessionId(ctx);
            const found = usage.session(id);
            if (!found) throw new HttpError(404, 'NOT_FOUND', `no usage recorded for session ${id}`);
            return { status: 200, body: found };
          },
        },
        {
          method: 'GET',
          path: '/usage',
          scope: 'read',
          handler(ctx) {
            const raw: Record<string, string> = {};
            for (const [k, v] of ctx.query) raw[k] = v;
            const parsed = UsageQuerySchema.safeParse(raw);
            if (!parsed.success) throw validationError(parsed.error, 'query');
            return { status: 200, body: usage.report(parsed.data) };
          },
        },
      );
    }
    return routes;
  };
}

function sessionId(ctx: RouteContext): string {
  const id = ctx.params.id ?? '';
  if (!ID_PATTERN.test(id))
    throw new HttpError(400, 'VALIDATION_ERROR', 'id: must match ^[A-Za-z0-9_.:-]{1,128}$', [
      { path: 'id', message: 'must match ^[A-Za-z0-9_.:-]{1,128}$' },
    ]);
  return id;
}

/** A conversation refusal as the HTTP error of its code (other errors pass through). */
function conversationHttpError(error: unknown): unknown {
  if (!(error instanceof ConversationError)) return error;
  return new HttpError(statusForCode(error.error_code), error.error_code, error.message);
}
