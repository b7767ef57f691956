import type {
  DetectedState,
  ProviderDefinition,
  ScreenRegion,
  ScreenRule,
  TitleRule,
} from '../providers/types.ts';
import { regionLines } from './regions.ts';

/** Default priorities (field notes §1.3: auth before error before prompt before busy). */
export function defaultPriority(rule: Pick<ScreenRule, 'auth' | 'state'>): number {
  if (rule.auth) return 90;
  switch (rule.state) {
    case 'error':
      return 80;
    case 'waiting_input':
      return 70;
    case 'processing':
      return 60;
    default:
      return 40;
  }
}

/** The OSC title outranks busy indicators and weak prompt markers, not explicit dialogs or auth/errors. */
export const TITLE_PRIORITY = 65;

export interface CompiledScreenRule {
  rule: ScreenRule;
  regex: RegExp;
  priority: number;
  settleMs: number;
  regionKey: string;
}

export interface CompiledTitleRule {
  rule: TitleRule;
  regex: RegExp;
}

export interface RuleMatch {
  rule: ScreenRule;
  priority: number;
  settleMs: number;
  /** The region lines the match spans, trimmed (becomes auth_prompt for auth rules). */
  lines: string[];
  /** The matched text (or its `reason` group), shortened, for state_reason.detail. */
  text: string;
  /** The rule's `(?<reason>…)` group, on one line: said as it is (an error banner is its own reason). */
  reason?: string;
  /** When this match (same rule, same text) was first seen; set by the detector. */
  since?: number;
}

function compile(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, 'imu');
  } catch {
    return null; // the config schema rejects these; bundled rules are tested to compile
  }
}

export function compileScreenRules(def: ProviderDefinition): CompiledScreenRule[] {
  const out: CompiledScreenRule[] = [];
  for (const rule of def.screen_rules) {
    const regex = compile(rule.pattern);
    if (regex === null) continue;
    const priority = rule.priority ?? defaultPriority(rule);
    const gated = rule.state === 'waiting_input' || rule.state === 'error';
    const settleMs = rule.settle_ms ?? (gated ? (priority >= 70 ? 250 : 500) : 0);
    out.push({ rule, regex, priority, settleMs, regionKey: JSON.stringify(rule.region) });
  }
  // Stable sort: equal priorities keep their order in the definition.
  return out.sort((a, b) => b.priority - a.priority);
}

export function compileTitleRules(def: ProviderDefinition): CompiledTitleRule[] {
  return def.title_rules.flatMap((rule) => {
    const regex = compile(rule.pattern);
    return regex === null ? [] : [{ rule, regex }];
  });
}

/** Every matching screen rule, highest priority first. Region texts are computed once per region. */
export function matchScreenRules(
  rules: readonly CompiledScreenRule[],
  lines: readonly string[],
  cursorLine = -1,
): RuleMatch[] {
  const regions = new Map<string, string[]>();
  const matches: RuleMatch[] = [];
  for (const compiled of rules) {
    let region = regions.get(compiled.regionKey);
    if (region === undefined) {
      region = regionLines(lines, compiled.rule.region as ScreenRegion, cursorLine);
      regions.set(compiled.regionKey, region);
    }
    const text = region.join('\n');
    const m = compiled.regex.exec(text);
    if (m === null) continue;
    // A rule may name the part that explains it, `(?<reason>…)`: an error banner without the prompt
    // line that anchors it. That part becomes the detail and, for auth rules, the prompt.
    const reason = m.groups?.['reason'];
    let spanned: string[];
    let shown: string;
    let explained: string | undefined;
    if (reason !== undefined && reason.trim().length > 0) {
      spanned = reason.split('\n').map((l) => l.trim());
      shown = spanned.join(' ');
      explained = shorten(shown);
    } else {
      const firstLine = countNewlines(text, 0, m.index);
      const lastLine = firstLine + countNewlines(m[0], 0, m[0].length);
      spanned = region.slice(firstLine, lastLine + 1).map((l) => l.trim());
      shown = m[0];
    }
    matches.push({
      rule: compiled.rule,
      priority: compiled.priority,
      settleMs: compiled.settleMs,
      lines: spanned,
      text: shorten(shown),
      ...(explained !== undefined ? { reason: explained } : {}),
    });
  }
  return matches;
}

/** Matched text kept for state_reason.detail (an error banner is the reason: keep most of it). */
const MAX_SHOWN = 240;

function shorten(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 3)}...` : s;
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

export function matchTitle(rules: readonly CompiledTitleRule[], title: string | null): TitleRule | null {
  if (title === null || title.length === 0) return null;
  for (const { rule, regex } of rules) if (regex.test(title)) return rule;
  return null;
}

export type { DetectedState };
