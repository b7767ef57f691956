import type { SubmitStrategy } from '../providers/types.ts';
import type { ScreenStateDetector } from '../state/types.ts';
import type { SubmitOutcome } from './types.ts';

/** What a submission needs from its session: the PTY, the mirror, and whether someone else typed. */
export interface SubmitTarget {
  /** Straight to the PTY (the session holds other writes back while a submission types). */
  write(data: string): void;
  readonly detector: ScreenStateDetector;
  /** Count of writes from other sources so far (keystrokes): a user typing takes over. */
  readonly otherWrites: number;
  /** Tell the detector a submission happened (stale "waiting" must not stick). */
  noteSubmitted(): void;
  readonly ended: boolean;
}

const POLL_MS = 25;
const BUSY_STATES = new Set(['processing', 'running']);

/** The text as it can appear on screen: the tail of its last non-empty line, whitespace collapsed. */
export function probeOf(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\s+/g, ' ').trim());
  const last = lines.filter((l) => l.length > 0).pop() ?? '';
  return last.slice(-24);
}

const normalise = (screen: string) => screen.replace(/\s+/g, ' ');

/**
 * Types or pastes `text`, presses Enter and confirms on the mirror that the agent took it:
 * 1. the text goes in; we wait (bounded, non-fatal) until the input region shows it — or changed, for
 *    agents that fold a paste into "[Pasted text +N lines]";
 * 2. Enter, `enter_delay_ms` after the text;
 * 3. taken = the input region changed since Enter was pressed and no longer shows the text, or the
 *    agent went busy. Otherwise Enter once more (only ≥ timeout later, as agentapi does: an agent slow
 *    to react must not get two Enters), unless a person typed meanwhile (then they are driving).
 * Never silent: the outcome says what was seen.
 */
export async function submitConfirmed(
  target: SubmitTarget,
  text: string,
  strategy: SubmitStrategy,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<SubmitOutcome> {
  const body = strategy.mode === 'paste' ? text.replace(/\x1b\[20[01]~/g, '') : text;
  const payload = strategy.mode === 'paste' && body.length > 0 ? `\x1b[200~${body}\x1b[201~` : body;
  const region = () => normalise(target.detector.regionText(strategy.input_region));
  if (!strategy.confirm) {
    if (payload) target.write(payload);
    if (strategy.enter_delay_ms > 0) await sleep(strategy.enter_delay_ms);
    if (target.ended) return { ok: false, attempts: 0, detail: 'the session ended before Enter' };
    target.write('\r');
    target.noteSubmitted();
    return { ok: true, attempts: 1, detail: 'sent (this provider draws no input line to confirm on)' };
  }

  const probe = normalise(probeOf(body));
  const before = region();
  if (payload) target.write(payload);
  const textedAt = Date.now();
  // 1. The text is seen (non-fatal: some agents fold pastes, some draw nothing until Enter).
  let seen = probe.length === 0;
  if (!seen) {
    seen = await waitFor(
      () => region().includes(probe),
      strategy.timeout_ms,
      () => target.ended,
      sleep,
    );
    if (!seen && region() !== before) seen = true; // folded into a placeholder
  }
  const wait = textedAt + strategy.enter_delay_ms - Date.now();
  if (wait > 0) await sleep(wait);

  const typedBefore = target.otherWrites;
  for (let attempt = 1; attempt <= 2; attempt++) {
    if (target.ended) return { ok: false, attempts: attempt - 1, detail: 'the session ended before Enter' };
    const atEnter = region();
    target.write('\r');
    target.noteSubmitted();
    const taken = await waitFor(
      () => {
        const now = region();
        if (now !== atEnter && (probe.length === 0 || !now.includes(probe))) return true;
        return BUSY_STATES.has(target.detector.evaluate().state) && now !== atEnter;
      },
      strategy.timeout_ms,
      () => target.ended,
      sleep,
    );
    if (taken)
      return {
        ok: true,
        attempts: attempt,
        detail: attempt === 1 ? 'submitted' : 'submitted after a second Enter',
      };
    if (target.otherWrites !== typedBefore)
      return {
        ok: false,
        attempts: attempt,
        detail: 'not confirmed: someone typed into the session meanwhile',
      };
  }
  return {
    ok: false,
    attempts: 2,
    detail: seen
      ? `the text stayed in the input after Enter twice (${strategy.timeout_ms} ms each)`
      : 'the text never appeared in the input and Enter changed nothing',
  };
}

async function waitFor(
  done: () => boolean,
  timeoutMs: number,
  aborted: () => boolean,
  sleep: (ms: number) => Promise<void>,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (aborted()) return false;
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
