import type {
  ConversationTurnEvent,
  ConversationView,
  MessageReply,
  SendMessageOptions,
} from '../../../src-shared/conversation.ts';
import type { ErrorCode } from '../../../src-shared/errors.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderRegistry } from '../providers/types.ts';
import type { SessionManager } from '../sessions/types.ts';
import { PriceList } from '../usage/pricing.ts';
import { Emitter, type Event } from '../util/event.ts';
import { conversationView } from './conversation-view.ts';
import { findRecordTurn, recordTurns } from './record-turns.ts';
import { readSerializedScreen, type ScreenLines } from './screen-lines.ts';
import { type CompiledReplySpec, compileReplySpec, screenReply } from './screen-reply.ts';
import type { SessionRecords } from './session-records.ts';
import { BUSY_STATES, ENDED_STATES, isInputSent, newTurn, SessionTurns, type Turn } from './turn-log.ts';
import { waitForSession } from './wait-for-session.ts';

/** A refusal with a stable error code (the REST route maps it to its status). */
export class ConversationError extends Error {
  override readonly name = 'ConversationError';
  readonly error_code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(message: string, code: ErrorCode, details: Record<string, unknown> = {}) {
    super(message);
    this.error_code = code;
    this.details = details;
  }
}

export type SendOutcome =
  | { status: 'answered'; reply: MessageReply }
  /** The timeout passed during the turn: what the agent printed so far; the turn goes on. */
  | { status: 'timeout'; partial: MessageReply };

export interface ConversationServiceOptions {
  sessions: SessionManager;
  records: SessionRecords;
  providers: ProviderRegistry;
  /** Ended sessions of earlier runs (their conversation is read from their records). */
  storedSession?: (sessionId: string) => SessionInfo | undefined;
  /** A budget that stops new turns: a refusal message, or null to go ahead. */
  admitTurn?: (session: SessionInfo) => string | null;
  logger?: Logger;
  /** How often an API turn's answer-so-far is published while output flows (default 1000 ms). */
  progressMs?: number;
  /** How long to wait for the agent's record to hold a finished turn before using the screen (1500 ms). */
  recordWaitMs?: number;
  /**
   * A turn ends when the agent is back to waiting (or shows an error) and stays out of work this long
   * (default 500 ms): agents flap busy/idle for a few tens of ms around a turn's edges (a spinner in
   * the title, a redraw), and that must neither end a turn early nor start one.
   */
  endSettleMs?: number;
}

export interface ConversationService {
  /** Send a prompt and wait for the answer (POST /cli/sessions/{id}/message). */
  send(sessionId: string, options: SendMessageOptions): Promise<SendOutcome>;
  /** The conversation as turns (GET /cli/sessions/{id}/messages). */
  messages(sessionId: string): ConversationView;
  /** queued / started / progress / timeout / ended events of every turn (the events channel). */
  readonly onTurn: Event<ConversationTurnEvent>;
  dispose(): void;
}

/** States the agent reported itself (or AutoDev's own input-sent), not inferred from its screen. */
const SIGNAL_SOURCES: ReadonlySet<string> = new Set(['hook', 'osc-status', 'user']);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const EMPTY_SCREEN: ScreenLines = { lines: [], cursorLine: -1 };

export function createConversationService(options: ConversationServiceOptions): ConversationService {
  return new AgentConversations(options);
}

/**
 * Conversations with agents in interactive sessions, through the session manager's public surface only
 * (state events, snapshot(), command()). Every turn is tracked — typed by a person (a line submitted,
 * then the agent busy, then back to waiting) or sent through `send` — and its answer read from the
 * agent's own record when it has one, else from the screen difference (screen-reply.ts).
 */
class AgentConversations implements ConversationService {
  private readonly _o: ConversationServiceOptions;
  private readonly _sessions = new Map<string, SessionTurns>();
  private readonly _specs = new Map<string, CompiledReplySpec>();
  private readonly _questions = new Map<string, RegExp | null>();
  private readonly _onTurn = new Emitter<ConversationTurnEvent>((error) =>
    this._o.logger?.error('conversation listener threw', { error }),
  );
  readonly onTurn = this._onTurn.event;
  private readonly _disposables: { dispose(): void }[];

  constructor(options: ConversationServiceOptions) {
    this._o = options;
    const m = options.sessions;
    this._disposables = [
      m.onDidCreate((s) => this._state(s)),
      m.onDidChangeState(({ session }) => this._onState(session)),
      m.onDidExit((s) => this._onState(s)),
      m.onDidRemove((id) => {
        this._sessions.delete(id);
        this._o.records.forget(id);
      }),
    ];
    for (const s of m.list()) this._state(s);
  }

  dispose(): void {
    for (const d of this._disposables) d.dispose();
    this._onTurn.dispose();
  }

  // ── observing turns ──────────────────────────────────────────────────────────────────────────

  private _state(session: SessionInfo): SessionTurns {
    let st = this._sessions.get(session.session_id);
    if (!st) {
      st = new SessionTurns(session.session_id, session.command_history);
      this._sessions.set(session.session_id, st);
    }
    return st;
  }

  private _onState(session: SessionInfo): void {
    const st = this._state(session);
    this._o.records.capture(session);
    const lines = st.takeNewLines(session.command_history);
    const busy = BUSY_STATES.has(session.state);
    const open = st.open;
    if (open) {
      open.state = session.state;
      open.state_reason = session.state_reason;
      if (isInputSent(session)) open.armed = true;
      if (busy && open.armed) open.seenBusy = true;
    }
    // A person submitted a line: a turn of theirs (an API turn's own line is recorded by command()).
    if (lines.length > 0 && !st.apiActive) {
      if (open && open.origin === 'person') this._end(st, open, session);
      if (!st.open) {
        const turn = newTurn('person', lines.join('\n'), session, st.idleScreen);
        this._open(st, turn);
        // Later busy states are this turn's work. This event's counts when the agent itself (a hook, its
        // status report) says it works on the line; inferred from the screen or title it may be the
        // previous turn's last flap.
        if (busy && SIGNAL_SOURCES.has(session.state_reason.source)) turn.seenBusy = true;
        turn.armed = true;
      }
    } else if (!open && busy) {
      // The agent went on after a question (the person answered a permission prompt): same turn.
      const last = st.turns[st.turns.length - 1];
      if (last?.endedOnQuestion && last.ended_at !== null && !st.apiActive) {
        last.ended_at = null;
        last.settled = false;
        last.endedOnQuestion = false;
        last.seenBusy = true;
        last.armed = true;
        st.open = last;
      }
    }
    const current = st.open;
    if (current && ENDED_STATES.has(session.state)) this._end(st, current, session);
    else if (current && busy) this._cancelEnd(current);
    else if (current?.seenBusy && (session.state === 'waiting_input' || session.state === 'error'))
      this._endSoon(st, current);
    else if (!current && session.state === 'waiting_input' && !st.apiActive) void this._refreshIdle(st);
  }

  /** End the turn once the agent stayed out of work for endSettleMs (a busy state cancels it). */
  private _endSoon(st: SessionTurns, turn: Turn): void {
    this._cancelEnd(turn);
    turn.pendingEnd = setTimeout(() => {
      turn.pendingEnd = undefined;
      const now = this._o.sessions.get(st.sessionId);
      if (st.open !== turn || !now || BUSY_STATES.has(now.state)) return;
      this._end(st, turn, now);
    }, this._o.endSettleMs ?? 500);
  }

  private _cancelEnd(turn: Turn): void {
    if (turn.pendingEnd) clearTimeout(turn.pendingEnd);
    turn.pendingEnd = undefined;
  }

  private _open(st: SessionTurns, turn: Turn): void {
    st.turns.push(turn);
    st.open = turn;
    this._o.logger?.debug('turn started', {
      session_id: st.sessionId,
      turn_id: turn.turn_id,
      origin: turn.origin,
    });
    this._emit(st, turn, 'started');
  }

  private async _refreshIdle(st: SessionTurns): Promise<void> {
    const screen = await this._screen(st.sessionId);
    if (screen && !st.open) st.idleScreen = screen;
  }

  /** Close the turn: read its answer (record, else screen), then announce it. */
  private _end(st: SessionTurns, turn: Turn, session: SessionInfo): void {
    this._cancelEnd(turn);
    if (st.open === turn) st.open = null;
    turn.ended_at = new Date().toISOString();
    this._o.logger?.debug('turn ended', {
      session_id: st.sessionId,
      turn_id: turn.turn_id,
      origin: turn.origin,
      state: session.state,
      rule: session.state_reason.rule,
    });
    turn.state = session.state;
    turn.state_reason = session.state_reason;
    turn.endedOnQuestion = session.state === 'waiting_input' && this._isQuestion(session);
    void this._answer(st, turn, session, true)
      .catch((error) => this._o.logger?.warn('reading the answer failed', { error }))
      .finally(() => {
        if (turn.ended_at === null) return; // reopened meanwhile
        turn.settled = true;
        turn.resolveDone();
        this._emit(st, turn, 'ended');
      });
  }

  /**
   * Fills in the turn's answer: from the record when it holds this prompt's finished turn (waiting up
   * to recordWaitMs for the agent to write it), else the screen difference. `final` also makes the
   * screen at the end the next turn's baseline.
   */
  private async _answer(st: SessionTurns, turn: Turn, session: SessionInfo, final: boolean): Promise<void> {
    const fromRecord =
      final && turn.prompt !== null && !turn.endedOnQuestion && this._o.records.hasRecord(session)
        ? await this._recordAnswer(st, turn, session)
        : false;
    const screen = final || !fromRecord ? await this._screen(st.sessionId) : null;
    if (screen) turn.lastScreen = screen;
    if (final && screen && session.state === 'waiting_input') st.idleScreen = screen;
    if (fromRecord) return;
    // The answer so far must never overwrite the final one read meanwhile.
    if (!final && turn.ended_at !== null) return;
    turn.reply = screenReply({
      before: turn.baseline ?? EMPTY_SCREEN,
      // An exited agent's screen may be gone: the last one seen during the turn stands in.
      after: screen ?? turn.lastScreen ?? turn.baseline ?? EMPTY_SCREEN,
      prompt: turn.prompt,
      spec: this._spec(session.cli_tool),
    });
    turn.reply_source = 'screen';
  }

  private _recordHasAnswer(st: SessionTurns, turn: Turn, session: SessionInfo): boolean {
    if (turn.prompt === null || !this._o.records.hasRecord(session)) return false;
    const view = this._o.records.read(session);
    return (
      view !== null && findRecordTurn(recordTurns(view), turn.prompt, st.recordCursor)?.complete === true
    );
  }

  private async _recordAnswer(st: SessionTurns, turn: Turn, session: SessionInfo): Promise<boolean> {
    const deadline = Date.now() + (this._o.recordWaitMs ?? 1500);
    for (;;) {
      const view = this._o.records.read(this._o.sessions.get(session.session_id) ?? session);
      if (view) {
        const found = findRecordTurn(recordTurns(view), turn.prompt ?? '', st.recordCursor);
        if (found?.complete) {
          st.recordCursor = { file: found.file, index: found.index };
          turn.reply = found.answer;
          turn.reply_source = 'record';
          const prices = new PriceList(this._o.providers.get(session.cli_tool)?.prices);
          if (found.usage.length > 0) turn.usage = prices.total(found.usage);
          return true;
        }
      }
      if (Date.now() >= deadline) return false;
      await sleep(100);
    }
  }

  private async _screen(sessionId: string): Promise<ScreenLines | null> {
    try {
      return await readSerializedScreen(await this._o.sessions.snapshot(sessionId));
    } catch {
      return null;
    }
  }

  private _spec(cliTool: string): CompiledReplySpec {
    let spec = this._specs.get(cliTool);
    if (!spec) {
      spec = compileReplySpec(this._o.providers.get(cliTool)?.conversation?.screen);
      this._specs.set(cliTool, spec);
    }
    return spec;
  }

  private _isQuestion(session: SessionInfo): boolean {
    if (session.authentication_required) return true;
    let re = this._questions.get(session.cli_tool);
    if (re === undefined) {
      const source = this._o.providers.get(session.cli_tool)?.conversation?.question_rules;
      re = source ? new RegExp(source, 'i') : null;
      this._questions.set(session.cli_tool, re);
    }
    const rule = session.state_reason.rule ?? '';
    return re?.test(rule) === true;
  }

  /** Ready for a prompt: at its idle prompt (not a question), or showing a failed turn's error. */
  private _ready(session: SessionInfo): boolean {
    if (session.ended_at !== null || ENDED_STATES.has(session.state)) return false;
    if (session.authentication_required) return false;
    if (session.state === 'error') return true;
    return session.state === 'waiting_input' && !this._isQuestion(session);
  }

  private _emit(st: SessionTurns, turn: Turn, phase: ConversationTurnEvent['phase']): void {
    this._onTurn.fire({
      session_id: st.sessionId,
      turn_id: turn.turn_id,
      origin: turn.origin,
      phase,
      prompt: turn.prompt,
      reply: turn.reply,
      reply_source: turn.reply_source,
      state: turn.state,
      started_at: turn.started_at,
      ended_at: turn.ended_at,
      ...(turn.usage ? { usage: turn.usage } : {}),
    });
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────────────

  async send(sessionId: string, options: SendMessageOptions): Promise<SendOutcome> {
    const session = this._o.sessions.get(sessionId);
    if (!session) {
      if (this._o.storedSession?.(sessionId))
        throw new ConversationError(`session ${sessionId} has ended`, 'SESSION_NOT_RUNNING');
      throw new ConversationError(`session ${sessionId} not found`, 'NOT_FOUND');
    }
    if (session.ended_at !== null || ENDED_STATES.has(session.state))
      throw new ConversationError(
        `session ${sessionId} is not running (${session.state})`,
        'SESSION_NOT_RUNNING',
      );
    const refusal = this._o.admitTurn?.(session);
    if (refusal) throw new ConversationError(refusal, 'BUDGET_EXCEEDED');
    const st = this._state(session);
    if (!options.queue && (st.queued > 0 || st.apiActive || st.open !== null || !this._ready(session))) {
      const why =
        st.queued > 0 || st.apiActive
          ? `${st.queued + (st.apiActive ? 1 : 0)} message(s) ahead of this one`
          : st.open !== null
            ? 'the agent is answering a turn'
            : `the agent is not ready (${session.state}${session.authentication_required ? ', sign-in required' : ''})`;
      throw new ConversationError(`agent busy: ${why}`, 'AGENT_BUSY', {
        state: session.state,
        queued: st.queued,
      });
    }
    const deadline = Date.now() + options.timeout_s * 1000;
    // In order: each message waits for the one before it to be answered (or to give up).
    st.queued++;
    const previous = st.chain;
    let release!: () => void;
    st.chain = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await previous;
    } finally {
      st.queued--;
    }
    try {
      return await this._sendNow(st, sessionId, options.content, deadline);
    } finally {
      release();
    }
  }

  /** This message's turn: wait until ready, submit, wait for the end (or the deadline). */
  private async _sendNow(
    st: SessionTurns,
    sessionId: string,
    content: string,
    deadline: number,
  ): Promise<SendOutcome> {
    const ready = await waitForSession(
      this._o.sessions,
      sessionId,
      deadline,
      (s) => this._ready(s) && st.open === null,
    );
    if (!ready.ok) {
      const now = ready.session;
      if (!now || ENDED_STATES.has(now.state) || now.ended_at !== null)
        throw new ConversationError(
          `session ${sessionId} ended before the message was sent`,
          'SESSION_NOT_RUNNING',
        );
      throw new ConversationError(
        `the agent was not ready within the timeout (${now.state}: ${now.state_reason.detail}); the message was not sent`,
        'TURN_TIMEOUT',
        { sent: false, state: now.state },
      );
    }
    const session = ready.session;
    const refusal = this._o.admitTurn?.(session);
    if (refusal) throw new ConversationError(refusal, 'BUDGET_EXCEEDED');
    st.apiActive = true;
    try {
      const baseline = (await this._screen(sessionId)) ?? st.idleScreen;
      const turn = newTurn('api', content, session, baseline);
      turn.seenBusy = false;
      this._open(st, turn);
      let outcome: Awaited<ReturnType<SessionManager['command']>>;
      try {
        outcome = await this._o.sessions.command(sessionId, content);
      } catch (error) {
        this._drop(st, turn);
        throw error;
      }
      if (!outcome.ok) {
        this._drop(st, turn);
        throw new ConversationError(
          `the agent did not take the message: ${outcome.detail}`,
          'COMMAND_NOT_SUBMITTED',
        );
      }
      // The agent took it: from now on its busy states are this turn's (and it may be working already).
      turn.armed = true;
      const now = this._o.sessions.get(sessionId);
      if (now && BUSY_STATES.has(now.state)) turn.seenBusy = true;
      return await this._awaitAnswer(st, turn, deadline);
    } finally {
      st.apiActive = false;
    }
  }

  private _drop(st: SessionTurns, turn: Turn): void {
    const i = st.turns.indexOf(turn);
    if (i >= 0) st.turns.splice(i, 1);
    if (st.open === turn) st.open = null;
    this._emit(st, turn, 'dropped');
  }

  private async _awaitAnswer(st: SessionTurns, turn: Turn, deadline: number): Promise<SendOutcome> {
    const progressMs = this._o.progressMs ?? 1000;
    let lastSeq = -1;
    let lastReply: string | null = null;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const ended = await Promise.race([
        turn.done.then(() => true),
        sleep(Math.min(progressMs, left)).then(() => false),
      ]);
      if (ended && turn.ended_at !== null) return { status: 'answered', reply: this._reply(turn) };
      const session = this._o.sessions.get(st.sessionId);
      if (!session || turn.ended_at !== null) continue;
      // An end the state events did not show (its busy part came before the prompt was confirmed):
      // the agent is out of work and its record holds this turn, finished.
      if (!BUSY_STATES.has(session.state) && !turn.pendingEnd && this._recordHasAnswer(st, turn, session)) {
        this._end(st, turn, session);
        continue;
      }
      // Progress: the answer so far, when the agent printed something new.
      if (session.last_seq !== lastSeq) {
        lastSeq = session.last_seq;
        await this._answer(st, turn, session, false);
        if (turn.ended_at === null && turn.reply && turn.reply !== lastReply) {
          lastReply = turn.reply;
          this._emit(st, turn, 'progress');
        }
      }
    }
    // Out of time: what the agent printed so far; the turn stays open and ends on its own later.
    const session = this._o.sessions.get(st.sessionId);
    if (session && turn.ended_at === null) await this._answer(st, turn, session, false);
    if (turn.ended_at !== null) {
      await turn.done;
      return { status: 'answered', reply: this._reply(turn) };
    }
    this._emit(st, turn, 'timeout');
    return { status: 'timeout', partial: this._reply(turn) };
  }

  private _reply(turn: Turn): MessageReply {
    return {
      reply: turn.reply ?? '',
      reply_source: turn.reply_source ?? 'screen',
      state: turn.state,
      state_reason: turn.state_reason,
      turn_id: turn.turn_id,
      started_at: turn.started_at,
      ended_at: turn.ended_at,
      ...(turn.usage ? { usage: turn.usage } : {}),
    };
  }

  // ── the conversation ─────────────────────────────────────────────────────────────────────────

  messages(sessionId: string): ConversationView {
    const session = this._o.sessions.get(sessionId) ?? this._o.storedSession?.(sessionId);
    if (!session) throw new ConversationError(`session ${sessionId} not found`, 'NOT_FOUND');
    const tracked = this._sessions.get(sessionId)?.turns ?? [];
    const view = this._o.records.hasRecord(session) ? this._o.records.read(session) : null;
    return conversationView(session, tracked, view);
  }
}
