import { z } from 'zod';
import type { SessionState, StateReason } from './session.ts';
import type { UsageTotals } from './usage.ts';

/**
 * Talking to an agent through the API (issue #15, part 1): send a prompt and get the answer, read the
 * conversation. coder/agentapi's `POST /message` + `GET /messages` is the model.
 *
 *   POST /cli/sessions/{id}/message   {content, timeout_s, queue}  → 200 MessageReply
 *     409 AGENT_BUSY (queue: false and the agent is working, or a message is ahead of it)
 *     409 SESSION_NOT_RUNNING, 409 COMMAND_NOT_SUBMITTED (the agent never took the text)
 *     402 BUDGET_EXCEEDED (a budget with action "stop" was passed)
 *     504 TURN_TIMEOUT with `partial` (a MessageReply of what the agent printed so far; the turn goes on)
 *   GET  /cli/sessions/{id}/messages  → ConversationView
 */

export const SendMessageRequestSchema = z.strictObject({
  content: z
    .string()
    .max(100_000)
    .refine((s) => s.trim().length > 0, { message: 'must not be empty' }),
  /** How long to wait in all: for the agent to be ready, for the answer (default 300). */
  timeout_s: z.number().min(1).max(3600).default(300),
  /** true (default): wait behind a busy agent and earlier messages, in order; false: 409 instead. */
  queue: z.boolean().default(true),
});
export type SendMessageRequest = z.input<typeof SendMessageRequestSchema>;
export type SendMessageOptions = z.output<typeof SendMessageRequestSchema>;

/** Where an answer's text came from: the agent's own record (exact), or the screen difference. */
export type ReplySource = 'record' | 'screen';

/** The tokens and cost of one turn (from the agent's record). */
export type TurnUsage = UsageTotals;

export interface MessageReply {
  /** The agent's answer, without its interface (boxes, spinners, status lines, echoed prompt, input box). */
  reply: string;
  reply_source: ReplySource;
  /** The session state the turn ended in: `waiting_input` (answered, or asking a question — see
   *  state_reason), `error`, or an ended state. */
  state: SessionState;
  state_reason: StateReason;
  turn_id: string;
  started_at: string;
  /** null while the turn goes on (a 504). */
  ended_at: string | null;
  usage?: TurnUsage;
}

/** 504 body: the error plus what the agent had printed so far. */
export interface TurnTimeoutBody {
  error: string;
  error_code: 'TURN_TIMEOUT';
  partial: MessageReply;
}

/** 409 AGENT_BUSY body: why it is busy. */
export interface AgentBusyBody {
  error: string;
  error_code: 'AGENT_BUSY';
  state: SessionState;
  /** API messages waiting for this session (the one refused is not counted). */
  queued: number;
}

export type TurnOrigin = 'api' | 'person';

/** One message of the conversation, agentapi-style (`role`, `content`, `time`) plus its turn. */
export interface ConversationMessage {
  /** Position in the conversation (0, 1, 2…: stable while the session lives). */
  id: number;
  turn_id: string;
  role: 'user' | 'agent';
  content: string;
  time: string;
  /** Typed by a person in the terminal, or sent through the API. */
  origin: TurnOrigin;
  /** The turn is still running (the agent's text so far). */
  partial?: boolean;
}

export interface ConversationView {
  session_id: string;
  conversation_id: string | null;
  /** `record`: the agent's own record; `screen`: turns AutoDev saw on the screen; `none`: neither. */
  source: ReplySource | 'none';
  messages: ConversationMessage[];
}

/** A turn as the events channel reports it (`{kind: 'conversation'}` live events). */
export interface ConversationTurnEvent {
  session_id: string;
  turn_id: string;
  origin: TurnOrigin;
  /** started → progress* (API turns) → ended; `timeout`: the API call gave up (the turn goes on and
   *  `ended` follows); `dropped`: the agent did not take the message (nothing was sent). */
  phase: 'started' | 'progress' | 'timeout' | 'ended' | 'dropped';
  prompt: string | null;
  /** The answer so far (progress, timeout) or the final one (ended). */
  reply: string | null;
  reply_source: ReplySource | null;
  state: SessionState;
  started_at: string | null;
  ended_at: string | null;
  usage?: TurnUsage;
}
