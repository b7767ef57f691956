import { randomUUID } from 'node:crypto';
import type { ReplySource, TurnOrigin, TurnUsage } from '../../../src-shared/conversation.ts';
import type { SessionInfo, SessionState, StateReason } from '../../../src-shared/session.ts';
import type { ScreenLines } from './screen-lines.ts';

/** One turn AutoDev saw: a prompt (typed by a person or sent through the API) and the answer. */
export interface Turn {
  turn_id: string;
  origin: TurnOrigin;
  /** The prompt; null when a person's turn started without a line AutoDev saw submitted. */
  prompt: string | null;
  started_at: string;
  ended_at: string | null;
  state: SessionState;
  state_reason: StateReason;
  reply: string | null;
  reply_source: ReplySource | null;
  usage?: TurnUsage;
  /** The screen before the prompt (the screen difference starts from it). */
  baseline: ScreenLines | null;
  /** The last screen read during the turn (the answer of an agent that exited mid-turn). */
  lastScreen?: ScreenLines;
  /** The agent was seen working since the turn opened (a waiting state before that is stale). */
  seenBusy: boolean;
  /**
   * Busy states count from now on. The event that shows a person's new line, or anything before an API
   * turn's prompt was taken, can carry a stale flap of the previous turn (a spinner title, a screen
   * redraw) that must not count as this turn's work; AutoDev's own "input sent" always does.
   */
  armed: boolean;
  /** It ended on a question (permission, trust…): if the agent goes on, the turn goes on. */
  endedOnQuestion: boolean;
  /** An end seen but not yet final: it becomes final when the agent stays out of work for a moment. */
  pendingEnd?: NodeJS.Timeout;
  /** The turn ended and its answer was read (until then the reply is the answer so far). */
  settled: boolean;
  /** Resolves when the turn ends (reply computed). */
  done: Promise<void>;
  resolveDone: () => void;
}

export const BUSY_STATES: ReadonlySet<SessionState> = new Set(['running', 'processing']);
/** The state AutoDev sets itself when input was just submitted (fusion's `input-sent`). */
export function isInputSent(session: SessionInfo): boolean {
  return session.state_reason.source === 'user' && session.state_reason.rule === 'input-sent';
}

export const ENDED_STATES: ReadonlySet<SessionState> = new Set(['completed', 'terminated']);

export function newTurn(
  origin: TurnOrigin,
  prompt: string | null,
  session: SessionInfo,
  baseline: ScreenLines | null,
): Turn {
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  return {
    turn_id: randomUUID(),
    origin,
    prompt,
    started_at: new Date().toISOString(),
    ended_at: null,
    state: session.state,
    state_reason: session.state_reason,
    reply: null,
    reply_source: null,
    baseline,
    seenBusy: isInputSent(session),
    armed: false,
    endedOnQuestion: false,
    settled: false,
    done,
    resolveDone,
  };
}

/** Per-session conversation bookkeeping. */
export class SessionTurns {
  readonly sessionId: string;
  readonly turns: Turn[] = [];
  open: Turn | null = null;
  /** The last screen at rest (waiting for input): the baseline of a turn a person starts. */
  idleScreen: ScreenLines | null = null;
  /** API messages waiting for their turn (not yet submitted). */
  queued = 0;
  /** An API message is being submitted or answered: lines submitted now are its own. */
  apiActive = false;
  /** The FIFO of API messages. */
  chain: Promise<void> = Promise.resolve();
  /** The last record turn matched to a turn (a prompt sent twice maps to its own turn). */
  recordCursor: { file: number; index: number } | null = null;
  private _history: string[] = [];

  constructor(sessionId: string, history: string[]) {
    this.sessionId = sessionId;
    this._history = [...history];
  }

  /** Lines submitted since the last call (SessionInfo.command_history keeps the last 100). */
  takeNewLines(history: string[]): string[] {
    const old = this._history;
    this._history = [...history];
    if (history.length === 0) return [];
    if (history.length >= old.length && old.every((line, i) => history[i] === line))
      return history.slice(old.length);
    // The history is capped and shifted: find where the old tail ends in the new list.
    for (let k = Math.min(3, old.length); k >= 1; k--) {
      const tail = old.slice(-k);
      for (let i = history.length - k; i >= 0; i--) {
        if (tail.every((line, j) => history[i + j] === line)) return history.slice(i + k);
      }
    }
    return history;
  }
}
