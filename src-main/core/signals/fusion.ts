import type { Detection } from '../state/types.ts';
import type { ActiveSignal } from './interpret.ts';

/**
 * The agent's own signal against the screen (field notes §1.6: hook/structured → OSC title → region
 * patterns → stability). A fresh signal wins, because the agent knows its state and the screen is a
 * guess; but a signal only says what was true when it was sent, so it yields when:
 * - it expired (its TTL: processing 60 s by default — a long tool run without hooks falls back to the
 *   spinner on screen; waiting/error 10 min);
 * - it said "waiting"/"error" and the user typed since (the agent is about to work; a missed hook must
 *   not keep a stale "needs you" — field notes §1.4: a missing hook is not "done");
 * - the screen decided something newer that the signal cannot have known about: an explicit dialog,
 *   error or auth banner (rule priority >= 70) after a "working" signal, or an error/auth banner
 *   (priority >= 80) after a "waiting" signal. Weak evidence (a prompt marker, a title, the stability
 *   window) never overrides a fresh signal: an idle title while hooks say "working" is the classic
 *   false "needs you" (stablyai/orca#7819).
 */
export interface FusionContext {
  now: number;
  /** Last user input (any key), or null. */
  inputAt: number | null;
  /** Priority of a screen rule by id (null: not a screen rule of this provider). */
  screenPriority(ruleId: string): number | null;
}

export function signalStillHolds(signal: ActiveSignal, ctx: FusionContext): boolean {
  if (ctx.now >= signal.expiresAt) return false;
  const gated = signal.state === 'waiting_input' || signal.state === 'error';
  return !(gated && ctx.inputAt !== null && ctx.inputAt >= signal.at);
}

export function fuse(screen: Detection, signal: ActiveSignal | null, ctx: FusionContext): Detection {
  if (signal === null || !signalStillHolds(signal, ctx)) return screen;
  if (screen.reason.source === 'screen-rule' && screen.reason.rule !== undefined) {
    const seenAt = Date.parse(screen.reason.at);
    const priority = ctx.screenPriority(screen.reason.rule) ?? 0;
    const threshold = signal.state === 'processing' || signal.state === 'running' ? 70 : 80;
    if (seenAt > signal.at && (priority >= threshold || screen.authentication_required)) return screen;
  }
  return {
    state: signal.state,
    authentication_required: signal.authentication_required,
    auth_prompt: signal.auth_prompt,
    reason: {
      source: signal.provenance,
      rule: signal.rule,
      detail: signal.detail,
      at: new Date(signal.at).toISOString(),
    },
  };
}

export function sameDetection(a: Detection, b: Detection): boolean {
  return (
    a.state === b.state &&
    a.reason.source === b.reason.source &&
    a.reason.rule === b.reason.rule &&
    a.authentication_required === b.authentication_required &&
    a.auth_prompt === b.auth_prompt
  );
}
