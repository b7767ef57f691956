import { type SessionActivity, sessionActivity } from '../../src-shared/activity.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { StateSample } from './autodev-serve.ts';

/**
 * Ground truth next to AutoDev's state, for one session. A scenario marks what the agent is really
 * doing (from the mock model service's events and the test's own view of the screen) and states its
 * expectations; the recorder judges them against the states AutoDev published on its events socket,
 * with the latency from the screen change to AutoDev's state.
 */
export type Truth =
  | 'starting'
  | 'processing'
  | 'waiting'
  | 'permission'
  | 'trust'
  | 'sign_in'
  | 'error'
  | 'exited'
  | 'ready';

export interface TruthMark {
  at: number;
  truth: Truth;
  note: string;
}

export interface CheckResult {
  cli: string;
  scenario: string;
  step: string;
  expected: string;
  /** What AutoDev said: activity, state and rule (at the moment it matched, or at the end). */
  actual: string;
  /** From the screen change (truth) to AutoDev's matching state; null when it never matched. */
  latencyMs: number | null;
  ok: boolean;
  /** Marks an expectation that documents a known gap until another change lands (counted apart). */
  pending?: string;
}

export interface Expectation {
  step: string;
  /** When the truth began (the screen showed it). */
  truthAt: number;
  /** e.g. `needs_you`, `error (banner as reason)`. */
  expected: string;
  accept(s: SessionInfo, a: SessionActivity): boolean;
  /** Max latency (default 1000 ms, the issue's bound). */
  limitMs?: number;
  /** How long to wait for the state before judging (default limit + 4 s, so a late state is measured). */
  waitMs?: number;
  pending?: string;
}

export const LATENCY_LIMIT_MS = 1000;

export class Recorder {
  readonly truths: TruthMark[] = [];
  readonly results: CheckResult[] = [];
  readonly cli: string;
  readonly scenario: string;
  private readonly _samples: () => StateSample[];
  private readonly _subscribe: (listener: (s: StateSample) => void) => () => void;
  private readonly _t0 = Date.now();

  private readonly _extra: () => { at: number; text: string }[];

  constructor(
    cli: string,
    scenario: string,
    samples: () => StateSample[],
    subscribe: (listener: (s: StateSample) => void) => () => void,
    /** More rows for the timeline (the mock model service's events). */
    extra: () => { at: number; text: string }[] = () => [],
  ) {
    this.cli = cli;
    this.scenario = scenario;
    this._samples = samples;
    this._subscribe = subscribe;
    this._extra = extra;
  }

  truth(at: number, truth: Truth, note = ''): void {
    this.truths.push({ at, truth, note });
  }

  /** AutoDev's state in effect at `at` (the last one published at or before it). */
  stateAt(at: number): StateSample | undefined {
    let found: StateSample | undefined;
    for (const s of this._samples()) if (s.at <= at) found = s;
    return found;
  }

  async expect(e: Expectation): Promise<CheckResult> {
    const limit = e.limitMs ?? LATENCY_LIMIT_MS;
    const accepts = (s: StateSample) => e.accept(s.session, sessionActivity(s.session));
    const record = (sample: StateSample | undefined, latencyMs: number | null): CheckResult => {
      const result: CheckResult = {
        cli: this.cli,
        scenario: this.scenario,
        step: e.step,
        expected: e.expected,
        actual: sample ? describe(sample.session) : 'no state',
        latencyMs,
        ok: latencyMs !== null && latencyMs <= limit,
        ...(e.pending ? { pending: e.pending } : {}),
      };
      this.results.push(result);
      return result;
    };
    const current = this.stateAt(e.truthAt);
    if (current && accepts(current)) return record(current, 0);
    const seen = this._samples().find((s) => s.at > e.truthAt && accepts(s));
    if (seen) return record(seen, seen.at - e.truthAt);
    const deadline = e.truthAt + (e.waitMs ?? limit + 4000);
    const matched = await new Promise<StateSample | null>((resolve) => {
      const timer = setTimeout(
        () => {
          off();
          resolve(null);
        },
        Math.max(0, deadline - Date.now()),
      );
      const off = this._subscribe((s) => {
        if (accepts(s)) {
          clearTimeout(timer);
          off();
          resolve(s);
        }
      });
    });
    if (matched) return record(matched, matched.at - e.truthAt);
    const samples = this._samples();
    return record(samples[samples.length - 1], null);
  }

  /** No published state in [from, to] (including the one in effect at `from`) may be rejected. */
  never(options: {
    step: string;
    from: number;
    to: number;
    expected: string;
    reject(s: SessionInfo, a: SessionActivity): boolean;
    pending?: string;
  }): CheckResult {
    if (options.to <= options.from) {
      // The window closed before it opened (the model answered within AutoDev's reaction grace, so the
      // next truth came first): there is no time to judge, and the state at `from` already belongs
      // to the next step (an early permission hook, say).
      const result: CheckResult = {
        cli: this.cli,
        scenario: this.scenario,
        step: options.step,
        expected: options.expected,
        actual: `no window to judge (it ended ${options.from - options.to} ms before it began)`,
        latencyMs: null,
        ok: true,
      };
      this.results.push(result);
      return result;
    }
    const inWindow = this._samples().filter((s) => s.at > options.from && s.at <= options.to);
    const atStart = this.stateAt(options.from);
    const candidates = atStart ? [atStart, ...inWindow] : inWindow;
    const bad = candidates.find((s) => options.reject(s.session, sessionActivity(s.session)));
    const result: CheckResult = {
      cli: this.cli,
      scenario: this.scenario,
      step: options.step,
      expected: options.expected,
      actual: bad
        ? `${describe(bad.session)} at +${bad.at - options.from} ms`
        : `${candidates.length} states, none rejected (${[...new Set(candidates.map((s) => s.session.state))].join(', ')})`,
      latencyMs: null,
      ok: bad === undefined,
      ...(options.pending ? { pending: options.pending } : {}),
    };
    this.results.push(result);
    return result;
  }

  /** Truth marks and AutoDev's states, merged by time (for failure output and the bench log). */
  timeline(): string {
    type Row = { at: number; text: string };
    const rows: Row[] = [
      ...this.truths.map((m) => ({ at: m.at, text: `TRUTH   ${m.truth}${m.note ? ` — ${m.note}` : ''}` })),
      ...this._samples().map((s) => ({ at: s.at, text: `AUTODEV ${describe(s.session)}` })),
      ...this._extra(),
    ].sort((a, b) => a.at - b.at);
    return rows.map((r) => `${`+${r.at - this._t0}`.padStart(7)} ms  ${r.text}`).join('\n');
  }
}

export function describe(s: SessionInfo): string {
  const a = sessionActivity(s);
  const rule = s.state_reason?.rule ? ` ${s.state_reason.rule}` : '';
  const detail = s.state_reason?.detail ? ` "${truncate(s.state_reason.detail, 90)}"` : '';
  const auth = s.authentication_required ? ` auth=${JSON.stringify(truncate(s.auth_prompt ?? '', 60))}` : '';
  return `${a.activity}/${s.state} [${s.state_reason?.source ?? '?'}${rule}]${detail}${auth}`;
}

function truncate(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

/** The per-CLI table of the report: scenario, step, expected, AutoDev's state, latency. */
export function formatTable(results: readonly CheckResult[]): string {
  const header = ['cli', 'scenario', 'step', 'expected', 'AutoDev', 'latency', 'ok'];
  const rows = results.map((r) => [
    r.cli,
    r.scenario,
    r.step,
    r.expected,
    truncate(r.actual, 70),
    r.latencyMs === null ? '—' : `${r.latencyMs} ms`,
    r.pending ? `pending: ${r.pending}` : r.ok ? 'yes' : 'NO',
  ]);
  return [header, ...rows].map((cols) => `| ${cols.join(' | ')} |`).join('\n');
}
