import type { ConversationMessage, ConversationView } from '../../../src-shared/conversation.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { findRecordTurn, recordTurns } from './record-turns.ts';
import type { SessionRecordView } from './session-records.ts';
import type { Turn } from './turn-log.ts';

/**
 * The conversation as messages (GET /cli/sessions/{id}/messages). From the agent's record when it has
 * one: every turn, typed in the terminal or sent through the API; the turns AutoDev tracked lend their
 * ids and origins (matched by prompt text, in order). Otherwise the tracked turns themselves, with the
 * answers read off the screen.
 */
export function conversationView(
  session: SessionInfo,
  tracked: readonly Turn[],
  view: SessionRecordView | null,
): ConversationView {
  const sessionId = session.session_id;
  const messages: ConversationMessage[] = [];
  const push = (m: Omit<ConversationMessage, 'id'>) => messages.push({ id: messages.length, ...m });
  if (view?.records.some((r) => r.messages.length > 0)) {
    // The record has every turn, typed or sent; tracked turns lend their ids and origins.
    let cursor: { file: number; index: number } | null = null;
    const byRecord = new Map<string, Turn>();
    const turns = recordTurns(view);
    for (const turn of tracked) {
      if (turn.prompt === null) continue;
      const found = findRecordTurn(turns, turn.prompt, cursor);
      if (!found) continue;
      cursor = { file: found.file, index: found.index };
      byRecord.set(`${found.file}:${found.index}`, turn);
    }
    for (const rt of turns) {
      const own = byRecord.get(`${rt.file}:${rt.index}`);
      const turnId = own?.turn_id ?? `record:${rt.user.id}`;
      const origin = own?.origin ?? 'person';
      push({ turn_id: turnId, role: 'user', content: rt.user.text, time: rt.user.at, origin });
      if (rt.answer.length > 0 || !rt.complete)
        push({
          turn_id: turnId,
          role: 'agent',
          content: rt.answer,
          time: rt.answerAt ?? rt.user.at,
          origin,
          ...(rt.complete ? {} : { partial: true }),
        });
    }
    return { session_id: sessionId, conversation_id: view.conversation_id, source: 'record', messages };
  }
  for (const turn of tracked) {
    push({
      turn_id: turn.turn_id,
      role: 'user',
      content: turn.prompt ?? '',
      time: turn.started_at,
      origin: turn.origin,
    });
    if (turn.settled || turn.reply !== null)
      push({
        turn_id: turn.turn_id,
        role: 'agent',
        content: turn.reply ?? '',
        time: turn.ended_at ?? turn.started_at,
        origin: turn.origin,
        ...(turn.settled ? {} : { partial: true }),
      });
  }
  return {
    session_id: sessionId,
    conversation_id: session.conversation_id ?? null,
    source: tracked.length > 0 ? 'screen' : 'none',
    messages,
  };
}
