import type { RecordMessage, RecordUsage } from './records/index.ts';
import type { SessionRecordView } from './session-records.ts';

/** One prompt of the record with the answer that followed it. */
export interface RecordTurn {
  /** Index of the record file (a session can have several conversations) and of the prompt in it. */
  file: number;
  index: number;
  user: RecordMessage;
  /** The answer ('' while none was written yet). */
  answer: string;
  answerAt: string | null;
  /** An answer follows and nothing is pending (a later prompt also closes a turn). */
  complete: boolean;
  /** Model calls between this prompt and the next. */
  usage: RecordUsage[];
}

const compact = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Every prompt of the records, in order, with its answer and usage. */
export function recordTurns(view: SessionRecordView): RecordTurn[] {
  const turns: RecordTurn[] = [];
  view.records.forEach((record, file) => {
    const msgs = record.messages;
    const prompts = msgs.map((m, i) => (m.role === 'user' ? i : -1)).filter((i) => i >= 0);
    prompts.forEach((index, n) => {
      const next = prompts[n + 1] ?? msgs.length;
      const answers = msgs.slice(index + 1, next).filter((m) => m.role === 'agent');
      const user = msgs[index]!;
      const from = Date.parse(user.at);
      const until = next < msgs.length ? Date.parse(msgs[next]!.at) : Number.POSITIVE_INFINITY;
      const last = n === prompts.length - 1;
      turns.push({
        file,
        index,
        user,
        answer: answers.map((a) => a.text).join('\n\n'),
        answerAt: answers.length > 0 ? answers[answers.length - 1]!.at : null,
        complete: answers.length > 0 && (!last || record.lastTurnComplete),
        usage: record.usage.filter((u) => {
          const t = Date.parse(u.at);
          return t >= from && t < until;
        }),
      });
    });
  });
  return turns;
}

/**
 * The record's turn for a prompt: the first prompt with the same text (whitespace collapsed) after
 * `after` (the last turn already matched), so a prompt sent twice maps to its own turn.
 */
export function findRecordTurn(
  turns: RecordTurn[],
  prompt: string,
  after: { file: number; index: number } | null,
): RecordTurn | null {
  const wanted = compact(prompt);
  for (const turn of turns) {
    if (after && (turn.file < after.file || (turn.file === after.file && turn.index <= after.index)))
      continue;
    if (compact(turn.user.text) === wanted) return turn;
  }
  return null;
}
