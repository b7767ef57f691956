import type { StateSource } from '../../../src-shared/session.ts';
import type { DetectedState, TitleRule } from '../providers/types.ts';
import { type RuleMatch, TITLE_PRIORITY } from './rules.ts';

/**
 * Fusing the evidence into one state (field notes §1.6): OSC title and region rules by priority, then
 * the stability window. The guiding rule is to never claim more than the evidence shows:
 * - busy evidence (a spinner, "esc to interrupt", a busy title) is accepted at once: saying
 *   "processing" is never a false "waiting";
 * - "waiting"/"error" evidence must have settled (screen unchanged for the rule's settle time), unless
 *   it is the verdict we already hold and it still matches (typing at a prompt must not flicker);
 * - after the user submitted input, waiting/error evidence from before the submission is stale: until
 *   the screen (or title) changes we say `running` (unknown), never a leftover "waiting";
 * - an error banner is the agent's last word until the user types again: once they do, the agent is
 *   back at its prompt and that banner no longer decides (a new banner does).
 */

export interface Evidence {
  now: number;
  hasOutput: boolean;
  /** When the rendered text last changed (creation time before any output). */
  lastChangeAt: number;
  matches: readonly RuleMatch[];
  title: string | null;
  titleRule: TitleRule | null;
  titleChangedAt: number | null;
  /** Last submission (command or Enter); null when none yet. */
  inputAt: number | null;
  /** Last keystroke that was not a submission (typing at a prompt); null when none yet. */
  typedAt?: number | null;
  changedSinceInput: boolean;
  stabilityMs: number;
  /** What a stable screen without any matching rule means for this provider. */
  stabilityState: 'waiting_input' | 'running';
  /** The verdict we hold now (for stickiness and leaving `starting`). */
  current: Verdict | null;
}

export interface Verdict {
  state: DetectedState;
  source: StateSource;
  rule: string;
  detail: string;
  authentication_required: boolean;
  auth_prompt: string | null;
}

type Candidate =
  | { kind: 'screen'; priority: number; state: DetectedState; match: RuleMatch }
  | { kind: 'title'; priority: number; state: DetectedState; rule: TitleRule };

const GATED: ReadonlySet<DetectedState> = new Set(['waiting_input', 'error']);

export function decide(e: Evidence): Verdict {
  if (!e.hasOutput) {
    return verdict('starting', 'lifecycle', 'no-output', 'no output from the process yet');
  }
  const quiet = e.now - e.lastChangeAt;
  const awaitingChange = e.inputAt !== null && !e.changedSinceInput;

  const candidates: Candidate[] = e.matches.map((match) => ({
    kind: 'screen' as const,
    priority: match.priority,
    state: match.rule.state,
    match,
  }));
  if (e.titleRule !== null) {
    candidates.push({ kind: 'title', priority: TITLE_PRIORITY, state: e.titleRule.state, rule: e.titleRule });
  }
  candidates.sort((a, b) => b.priority - a.priority);

  for (const c of candidates) {
    if (c.kind === 'title') {
      const stale = e.inputAt !== null && (e.titleChangedAt === null || e.titleChangedAt <= e.inputAt);
      if (GATED.has(c.state) && stale) continue;
      return verdict(c.state, 'osc-title', c.rule.id, `window title ${JSON.stringify(e.title)}`);
    }
    const { match } = c;
    const typedSince = e.typedAt != null && match.since !== undefined && e.typedAt >= match.since;
    if (c.state === 'error' && typedSince) continue;
    if (GATED.has(c.state)) {
      if (awaitingChange) continue;
      const sticky =
        e.current !== null &&
        e.current.source === 'screen-rule' &&
        e.current.rule === match.rule.id &&
        e.current.state === c.state;
      if (!sticky && quiet < match.settleMs) continue;
    }
    const auth = match.rule.auth === true;
    return {
      state: c.state,
      source: 'screen-rule',
      rule: match.rule.id,
      // A rule that names its reason (an error banner) is said as the agent said it.
      detail: match.reason ?? `matched ${JSON.stringify(match.text)} in ${describeRegion(match)}`,
      authentication_required: auth,
      auth_prompt: auth ? match.lines.join('\n') : null,
    };
  }

  if (awaitingChange) {
    return verdict('running', 'user', 'input-sent', 'input sent; waiting for the screen to react');
  }
  if (quiet >= e.stabilityMs) {
    return verdict(
      e.stabilityState,
      'stability',
      'screen-stable',
      `screen unchanged for ${quiet} ms (window ${e.stabilityMs} ms) with no busy indicator`,
    );
  }
  if (e.current === null || e.current.state === 'starting') {
    return verdict('starting', 'stability', 'screen-drawing', 'the agent is still drawing its first screen');
  }
  return verdict('processing', 'stability', 'screen-changing', `screen changed ${quiet} ms ago`);
}

function verdict(state: DetectedState, source: StateSource, rule: string, detail: string): Verdict {
  return { state, source, rule, detail, authentication_required: false, auth_prompt: null };
}

function describeRegion(match: RuleMatch): string {
  const region = match.rule.region;
  switch (region.kind) {
    case 'screen':
      return 'the screen';
    case 'last-lines':
      return `the last ${region.count} lines`;
    case 'above-input-box':
      return 'the block above the input box';
    case 'cursor-line':
      return 'the cursor line';
  }
}

/** Two verdicts are the same event when state, source, rule and auth agree (details may tick). */
export function sameVerdict(a: Verdict, b: Verdict): boolean {
  return (
    a.state === b.state &&
    a.source === b.source &&
    a.rule === b.rule &&
    a.authentication_required === b.authentication_required &&
    a.auth_prompt === b.auth_prompt
  );
}
