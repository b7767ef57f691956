/**
 * Secret redaction for everything AutoDev writes down (logs, stored output, Redis, remote viewers),
 * never for the live terminal stream. Matches the key shapes of secret-patterns.ts plus the exact values
 * of secrets we know (the values of secret-looking variables in AutoDev's own environment, keys from
 * the keychain, values learned next to their name), on ANSI-stripped text: a secret wrapped in or
 * interleaved with colour codes is still found, while escape sequences outside secrets survive.
 * Each secret becomes `[REDACTED:kind]`. Chunked streams: stream-redactor.ts.
 */
import { SECRET_PATTERNS, type SecretPattern, secretEnvValues } from './secret-patterns.ts';

export { isSecretEnvName, secretEnvValues } from './secret-patterns.ts';
export {
  createStreamRedactor,
  type StreamAmend,
  type StreamRedactor,
  type StreamRedactorOptions,
} from './stream-redactor.ts';

export interface Redactor {
  redact(text: string): string;
  /** Add an exact value to redact (e.g. a provider key read from the env or the keychain). */
  addSecret(value: string): void;
  /** Matches in original-text coordinates (used by the stream redactor), sorted, non-overlapping. */
  findMatches(text: string): RedactionMatch[];
  /** Length of the longest exact secret, so stream overlap can cover it. */
  readonly longestSecret: number;
}

export interface RedactionMatch {
  start: number;
  end: number;
  kind: string;
}

export interface RedactorOptions {
  /** Exact values to redact. */
  secrets?: string[];
  /** An environment (AutoDev's own): the values of its secret-looking variables are redacted exactly
   *  (secret-patterns.ts isSecretEnvName: names with KEY, SECRET, TOKEN, PASSWORD, CREDENTIAL…). */
  env?: Record<string, string | undefined>;
}

/** CSI, OSC (BEL or ST terminated), charset designations and 2-byte ESC sequences. */
const ANSI_RE =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()*+][0-9A-Za-z]|\x1b[@-Z\\-_]/g;

/** Values learned next to their name (aws-secret-key) kept at most: a bound on the exact-match regex. */
const MAX_LEARNED = 256;

interface Stripped {
  plain: string;
  /** Kept segments: plain[from[i], from[i+1]) comes from the original at orig[i]…; null when nothing
   *  was stripped. Segments, not a per-character map: a colour-heavy log has a few per line. */
  from: number[] | null;
  orig: number[];
}

function stripAnsi(text: string): Stripped {
  if (!text.includes('\x1b')) return { plain: text, from: null, orig: [] };
  const parts: string[] = [];
  const from: number[] = [];
  const orig: number[] = [];
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(ANSI_RE)) {
    if (m.index > last) {
      parts.push(text.slice(last, m.index));
      from.push(n);
      orig.push(last);
      n += m.index - last;
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) {
    parts.push(text.slice(last));
    from.push(n);
    orig.push(last);
  }
  return { plain: parts.join(''), from, orig };
}

/** Original index of plain[i] (i < plain.length). */
function toOriginal(s: Stripped, i: number): number {
  const from = s.from as number[];
  let lo = 0;
  let hi = from.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((from[mid] as number) <= i) lo = mid;
    else hi = mid - 1;
  }
  return (s.orig[lo] as number) + i - (from[lo] as number);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `plain` may hold a match of `p` (its `needs` characters, then its `hint` literals). `seen`
 *  memoizes the character checks of one text: patterns share them. */
function worthRunning(p: SecretPattern, plain: string, seen: Map<string, boolean>): boolean {
  if (p.needs) {
    let any = false;
    for (const c of p.needs) {
      let has = seen.get(c);
      if (has === undefined) {
        has = plain.includes(c);
        seen.set(c, has);
      }
      if (has) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (!p.hint) return true;
  for (const h of p.hint) if (plain.includes(h)) return true;
  return false;
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  const secrets = new Set<string>();
  let learned = 0;
  let exactRe: RegExp | null = null;
  let longest = 0;
  const rebuild = () => {
    const list = [...secrets].sort((a, b) => b.length - a.length);
    exactRe = list.length > 0 ? new RegExp(list.map(escapeRegExp).join('|'), 'g') : null;
    longest = list[0]?.length ?? 0;
  };
  const addSecret = (value: string) => {
    // Very short values would redact ordinary words; keys are long.
    if (typeof value !== 'string' || value.length < 6 || secrets.has(value)) return;
    secrets.add(value);
    rebuild();
  };
  for (const s of options.secrets ?? []) addSecret(s);
  for (const s of options.env ? secretEnvValues(options.env) : []) addSecret(s);

  const findMatches = (text: string): RedactionMatch[] => {
    const stripped = stripAnsi(text);
    const plain = stripped.plain;
    const found: RedactionMatch[] = [];
    const learn: string[] = [];
    const collect = (p: Pick<SecretPattern, 're' | 'kind' | 'group' | 'valueAfter' | 'learn'>) => {
      const re = p.re;
      re.lastIndex = 0;
      for (const m of plain.matchAll(re)) {
        let start = m.index;
        let value = m[0];
        if (p.valueAfter) {
          const from = m.index + m[0].length;
          const v = p.valueAfter.re.exec(plain.slice(from, from + p.valueAfter.within));
          if (!v) continue;
          start = from + v.index;
          value = v[0];
        } else if (p.group !== undefined) {
          const g = m[p.group];
          if (g === undefined) continue;
          start += m[0].lastIndexOf(g);
          value = g;
        }
        if (value.length === 0) continue;
        found.push({ start, end: start + value.length, kind: p.kind });
        if (p.learn && learned < MAX_LEARNED && !secrets.has(value)) learn.push(value);
      }
    };
    if (exactRe) collect({ re: exactRe, kind: 'secret' });
    const seen = new Map<string, boolean>();
    for (const p of SECRET_PATTERNS) if (worthRunning(p, plain, seen)) collect(p);
    for (const v of learn) {
      learned++;
      addSecret(v);
    }
    if (found.length === 0) return found;
    // Earliest first, longest first at the same start, a named kind before a plain known value;
    // overlapping matches merge.
    found.sort(
      (a, b) =>
        a.start - b.start || b.end - a.end || Number(a.kind === 'secret') - Number(b.kind === 'secret'),
    );
    const merged: RedactionMatch[] = [];
    for (const m of found) {
      const prev = merged[merged.length - 1];
      if (prev && m.start < prev.end) {
        if (m.end > prev.end) prev.end = m.end;
        continue;
      }
      merged.push({ ...m });
    }
    if (!stripped.from) return merged;
    return merged.map((m) => ({
      start: toOriginal(stripped, m.start),
      end: toOriginal(stripped, m.end - 1) + 1,
      kind: m.kind,
    }));
  };

  return {
    redact: (text: string) => applyMatches(text, findMatches(text)),
    addSecret,
    findMatches,
    get longestSecret() {
      return longest;
    },
  };
}

export function applyMatches(text: string, matches: RedactionMatch[], limit = text.length): string {
  return renderRange(text, matches, 0, limit);
}

/**
 * The redacted form of text[from, to): matches starting inside the range become `[REDACTED:kind]` (even
 * when they end after `to`: a match belongs to the range where it starts); a match that started before
 * `from` is skipped to its end. So renderRange(t, m, 0, x) + renderRange(t, m, x, n) is the redaction
 * of the whole text for any x — what lets the stream redactor emit a text in pieces.
 */
export function renderRange(
  text: string,
  matches: readonly RedactionMatch[],
  from: number,
  to: number,
): string {
  let out = '';
  let pos = from;
  for (const m of matches) {
    if (m.end <= pos) continue;
    if (m.start < pos) {
      pos = m.end;
      continue;
    }
    if (m.start >= to) break;
    out += `${text.slice(pos, m.start)}[REDACTED:${m.kind}]`;
    pos = m.end;
  }
  return pos < to ? out + text.slice(pos, to) : out;
}
