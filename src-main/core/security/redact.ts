/**
 * Secret redaction for everything AutoDev writes down (logs, stored output, Redis, remote viewers),
 * never for the live terminal stream. Matches the common key shapes (field notes §4.4) plus the exact
 * values of keys we know (the app env's provider keys), on ANSI-stripped text: a secret wrapped in or
 * interleaved with colour codes is still found, while escape sequences outside secrets survive.
 * Each secret becomes `[REDACTED:kind]`.
 */

export interface Redactor {
  redact(text: string): string;
  /** Add an exact value to redact (e.g. a provider key read from the env or the keychain). */
  addSecret(value: string): void;
  /** Matches in original-text coordinates (used by the stream redactor). */
  findMatches(text: string): RedactionMatch[];
  /** Length of the longest exact secret, so stream overlap can cover it. */
  readonly longestSecret: number;
}

export interface RedactionMatch {
  start: number;
  end: number;
  kind: string;
}

interface Pattern {
  kind: string;
  re: RegExp;
  /** Redact only this capture group (keeps e.g. "Bearer " or "https://"). */
  group?: number;
  /** A literal every match contains: text without it skips the regex (a base64 flood would make
   *  the URL pattern scan every alphanumeric run). */
  hint?: string;
}

const PATTERNS: Pattern[] = [
  {
    kind: 'pem',
    re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    hint: '-----BEGIN ',
  },
  { kind: 'anthropic-key', re: /sk-ant-[A-Za-z0-9_-]{8,}/g, hint: 'sk-ant-' },
  { kind: 'openai-key', re: /sk-(?!ant-)[A-Za-z0-9_-]{16,}/g, hint: 'sk-' },
  { kind: 'github-token', re: /github_pat_[A-Za-z0-9_]{20,}/g, hint: 'github_pat_' },
  { kind: 'github-token', re: /\bgh[pousr]_[A-Za-z0-9]{20,}/g },
  { kind: 'aws-key', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'google-key', re: /AIza[0-9A-Za-z_-]{35}/g, hint: 'AIza' },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, hint: 'eyJ' },
  { kind: 'bearer', re: /\b(Bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi, group: 2 },
  { kind: 'url-credentials', re: /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]+:[^\s/@]+)@/gi, group: 2, hint: '://' },
  {
    kind: 'credential',
    re: /\b((?:api[_-]?key|access[_-]?token|auth[_-]?token|secret|password|passwd)["']?\s*[=:]\s*["']?)([^\s"',;]{8,})/gi,
    group: 2,
  },
];

/** CSI, OSC (BEL or ST terminated), charset designations and 2-byte ESC sequences. */
const ANSI_RE =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()*+][0-9A-Za-z]|\x1b[@-Z\\-_]/g;

interface Stripped {
  plain: string;
  /** map[i] = index in the original of plain[i]; null when nothing was stripped. */
  map: Int32Array | null;
}

function stripAnsi(text: string): Stripped {
  if (!text.includes('\x1b')) return { plain: text, map: null };
  const map = new Int32Array(text.length + 1);
  let plain = '';
  let last = 0;
  let n = 0;
  const push = (from: number, to: number) => {
    plain += text.slice(from, to);
    for (let i = from; i < to; i++) map[n++] = i;
  };
  for (const m of text.matchAll(ANSI_RE)) {
    push(last, m.index);
    last = m.index + m[0].length;
  }
  push(last, text.length);
  map[n] = text.length;
  return { plain, map };
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function createRedactor(options: { secrets?: string[] } = {}): Redactor {
  const secrets = new Set<string>();
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

  const findMatches = (text: string): RedactionMatch[] => {
    const { plain, map } = stripAnsi(text);
    const found: RedactionMatch[] = [];
    const collect = (re: RegExp, kind: string, group?: number) => {
      re.lastIndex = 0;
      for (const m of plain.matchAll(re)) {
        let start = m.index;
        let value = m[0];
        if (group !== undefined) {
          const g = m[group];
          if (g === undefined) continue;
          start += m[0].indexOf(g, group > 1 ? (m[group - 1]?.length ?? 0) : 0);
          value = g;
        }
        if (value.length === 0) continue;
        found.push({ start, end: start + value.length, kind });
      }
    };
    if (exactRe) collect(exactRe, 'secret');
    for (const p of PATTERNS)
      if (p.hint === undefined || plain.includes(p.hint)) collect(p.re, p.kind, p.group);
    if (found.length === 0) return found;
    // Earliest first, longest first at the same start; drop matches inside an earlier one.
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const merged: RedactionMatch[] = [];
    for (const m of found) {
      const prev = merged[merged.length - 1];
      if (prev && m.start < prev.end) {
        if (m.end > prev.end) prev.end = m.end;
        continue;
      }
      merged.push({ ...m });
    }
    if (!map) return merged;
    return merged.map((m) => ({
      start: map[m.start] as number,
      end: (map[m.end - 1] as number) + 1,
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
  if (matches.length === 0) return limit === text.length ? text : text.slice(0, limit);
  let out = '';
  let last = 0;
  for (const m of matches) {
    if (m.start >= limit) break;
    out += text.slice(last, m.start) + `[REDACTED:${m.kind}]`;
    last = m.end;
  }
  return out + text.slice(last, limit);
}

export interface StreamRedactor {
  /** Redacted text that is safe to emit now (may be shorter than what was pushed: the tail is held). */
  push(chunk: string): string;
  /** Emit the held tail (end of stream). */
  flush(): string;
}

/**
 * Redaction for chunked text (terminal output on its way to SQLite/Redis/logs). Holds back the last
 * `overlap` chars (~256 by default, more if a known secret is longer) so a secret split across chunks
 * is seen whole; a match reaching into the held tail is held from its start. The held tail is capped
 * (`maxHold`, 64 KiB) so a never-ending token cannot grow memory.
 */
export function createStreamRedactor(
  redactor: Redactor,
  options: { overlap?: number; maxHold?: number } = {},
): StreamRedactor {
  const maxHold = options.maxHold ?? 64 * 1024;
  let carry = '';
  return {
    push(chunk: string): string {
      const buf = carry + chunk;
      const overlap = Math.max(options.overlap ?? 256, redactor.longestSecret + 16);
      if (buf.length <= overlap) {
        carry = buf;
        return '';
      }
      const matches = redactor.findMatches(buf);
      let cut = buf.length - overlap;
      for (let i = matches.length - 1; i >= 0; i--) {
        const m = matches[i] as RedactionMatch;
        if (m.start < cut && m.end > cut) cut = m.start;
      }
      const code = buf.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
      if (buf.length - cut > maxHold) cut = buf.length; // give up holding; what matched is redacted
      carry = buf.slice(cut);
      return applyMatches(
        buf,
        matches.filter((m) => m.start < cut),
        cut,
      );
    },
    flush(): string {
      const out = redactor.redact(carry);
      carry = '';
      return out;
    },
  };
}
