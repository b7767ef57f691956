import type { EventRule, OutputFormat, ResultField } from './output-formats.ts';

/** One stdout line as stored in task_outputs. */
export interface ParsedLine {
  kind: 'event' | 'raw';
  event_type: string | null;
  content: string;
}

export interface ParsedResult {
  result_text: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cost_usd: number | null;
  /** The agent said it failed (is_error, a failure event). */
  is_error: boolean;
  error: string | null;
  reported_duration_ms: number | null;
  session_id: string | null;
  /** A final (result) event was seen: the agent ran to its own end. */
  saw_final: boolean;
  events: number;
  /** Lines that were neither JSON objects nor empty (kept raw). */
  malformed: number;
  /** Valid JSON whose type no rule knows (kept as events). */
  unknown: number;
}

/** Longest line kept whole; longer ones are truncated so a runaway agent cannot exhaust memory. */
const MAX_LINE_CHARS = 1_000_000;

/**
 * Line-oriented, never-throwing parser for one attempt's stdout. Feed decoded text in any chunking;
 * lines that are not JSON, or JSON no rule knows, come back as output rows and never end the parse.
 */
export class OneShotOutputParser {
  private readonly _format: OutputFormat;
  private _partial = '';
  private readonly _transcript: string[] = [];
  private readonly _fields: Partial<Record<ResultField, string | number | boolean>> = {};
  private readonly _rawText: string[] = [];
  private _sawFinal = false;
  private _failure = false;
  private _events = 0;
  private _malformed = 0;
  private _unknown = 0;

  constructor(format: OutputFormat) {
    this._format = format;
  }

  push(text: string): ParsedLine[] {
    const parts = (this._partial + text).split('\n');
    this._partial = parts.pop() ?? '';
    if (this._partial.length > MAX_LINE_CHARS) {
      parts.push(this._partial);
      this._partial = '';
    }
    return parts.flatMap((line) => this._line(line));
  }

  /** Flushes a last line without newline. */
  end(): ParsedLine[] {
    const rest = this._partial;
    this._partial = '';
    return rest.length > 0 ? this._line(rest) : [];
  }

  result(): ParsedResult {
    const f = this._fields;
    const transcript = this._transcript.join(this._format.message_join);
    const text =
      this._format.kind === 'text' ? this._rawText.join('\n').trim() || null : (str(f.result_text) ?? null);
    return {
      result_text: text ?? (transcript.length > 0 ? transcript : null),
      input_tokens: num(f.input_tokens),
      output_tokens: num(f.output_tokens),
      cache_read_tokens: num(f.cache_read_tokens),
      cost_usd: num(f.cost_usd),
      is_error: this._failure || f.is_error === true,
      error: str(f.error),
      reported_duration_ms: num(f.reported_duration_ms),
      session_id: str(f.session_id),
      saw_final: this._sawFinal,
      events: this._events,
      malformed: this._malformed,
      unknown: this._unknown,
    };
  }

  private _line(rawLine: string): ParsedLine[] {
    const line = (rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine).slice(0, MAX_LINE_CHARS);
    if (line.trim().length === 0) return [];
    if (this._format.kind === 'text') {
      this._rawText.push(line);
      return [{ kind: 'raw', event_type: null, content: line }];
    }
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      this._malformed++;
      return [{ kind: 'raw', event_type: null, content: line }];
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      this._malformed++;
      return [{ kind: 'raw', event_type: null, content: line }];
    }
    this._events++;
    const type = scalarAt(event, this._format.type_path);
    let matched = false;
    for (const rule of this._format.rules) {
      if (!matches(event, rule)) continue;
      matched = true;
      this._apply(event, rule);
    }
    if (!matched) this._unknown++;
    return [
      { kind: 'event', event_type: typeof type === 'string' ? type.slice(0, 100) : null, content: line },
    ];
  }

  private _apply(event: object, rule: EventRule): void {
    if (rule.final) this._sawFinal = true;
    if (rule.failure) this._failure = true;
    if (rule.message_text) {
      const pieces = rule.message_text
        .flatMap((p) => valuesAt(event, p))
        .filter((v) => typeof v === 'string');
      if (pieces.length > 0) this._transcript.push(pieces.join(''));
    }
    for (const [field, paths] of Object.entries(rule.set ?? {}) as [ResultField, readonly string[]][]) {
      const value = firstScalar(event, paths);
      if (value === undefined) continue;
      const previous = this._fields[field];
      const isToken = field === 'input_tokens' || field === 'output_tokens' || field === 'cache_read_tokens';
      if (rule.accumulate_usage && isToken && typeof previous === 'number' && typeof value === 'number') {
        this._fields[field] = previous + value;
      } else {
        this._fields[field] = value;
      }
    }
  }
}

function matches(event: object, rule: EventRule): boolean {
  for (const [path, expected] of Object.entries(rule.match)) {
    const actual = scalarAt(event, path);
    if (typeof expected === 'string' ? actual !== expected : !expected.includes(actual as string))
      return false;
  }
  return true;
}

/** All values at a dotted path, flattening `[]` segments. */
export function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path.split('.')) {
    const flatten = segment.endsWith('[]');
    const key = flatten ? segment.slice(0, -2) : segment;
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      const child = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
      if (child === undefined) continue;
      if (flatten) {
        if (Array.isArray(child)) next.push(...child);
      } else next.push(child);
    }
    current = next;
  }
  return current;
}

function scalarAt(root: unknown, path: string): unknown {
  return valuesAt(root, path)[0];
}

function firstScalar(event: object, paths: readonly string[]): string | number | boolean | undefined {
  for (const path of paths) {
    for (const value of valuesAt(event, path)) {
      if (typeof value === 'string' || typeof value === 'boolean') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      // An error object without a message: keep it readable rather than "[object Object]".
      if (value !== null && typeof value === 'object') return JSON.stringify(value).slice(0, 2000);
    }
  }
  return undefined;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
