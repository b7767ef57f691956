import Anthropic from '@anthropic-ai/sdk';
import type { ApiFallbackSpec } from '../providers/types.ts';
import type { LoggerLike } from '../store/types.ts';
import type { AttemptCallbacks, AttemptEnd, AttemptOutcome, RunningAttempt } from './attempt-outcome.ts';
import { OutputTails } from './attempt-outcome.ts';
import type { ParsedLine, ParsedResult } from './output-parser.ts';

export interface ApiAttemptSpec {
  api: ApiFallbackSpec;
  apiKey: string;
  baseURL: string;
  prompt: string;
  /** The task's run-time limit: the whole attempt, SDK retries included. */
  timeoutMs: number;
  /**
   * HTTP retries inside one attempt, done by the SDK (429, 408, 409, 5xx including 529 overloaded,
   * and connection failures before the answer starts; never 4xx such as 401). It waits as the
   * server's `retry-after(-ms)` says, else 0.5 s doubling up to 8 s. Beyond that, the task's own
   * retries (max_retries, with the queue's backoff) decide: at most
   * (maxRetries + 1) × (max_retries + 1) requests per task.
   */
  maxRetries: number;
  logger: LoggerLike;
}

export interface ApiUsage {
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
}

/** USD for the tokens the API reported, at the provider data's prices (per million tokens). */
export function apiCostUsd(usage: ApiUsage, price: ApiFallbackSpec['price_per_mtok']): number {
  const n = (v: number | null) => v ?? 0;
  return (
    (n(usage.input_tokens) * price.input +
      n(usage.output_tokens) * price.output +
      n(usage.cache_read_tokens) * price.cache_read +
      n(usage.cache_write_tokens) * price.cache_write) /
    1_000_000
  );
}

/**
 * One attempt of a task through the Anthropic Messages API (the official SDK), when the CLI is not
 * installed: the prompt as a single user message, streamed. Text deltas become output rows line by
 * line and the answer is the task's result; usage arrives in message_start/message_delta and the
 * cost is computed from the provider data's prices. Cancel, release and the run-time limit abort
 * the HTTP request itself (the server sees the connection close). There is no process to stop, so
 * pause is refused.
 */
export class ApiAttemptRun implements RunningAttempt {
  readonly executor = 'api' as const;
  readonly pid = null;
  readonly done: Promise<AttemptOutcome>;
  private readonly _spec: ApiAttemptSpec;
  private readonly _abort = new AbortController();
  private _stopReason: AttemptEnd | null = null;
  private _timer: NodeJS.Timeout | null = null;

  constructor(spec: ApiAttemptSpec, callbacks: AttemptCallbacks) {
    this._spec = spec;
    this.done = this._run(callbacks);
  }

  pause(): boolean {
    return false;
  }

  resume(): boolean {
    return false;
  }

  cancel(reason: string): void {
    this._stop({ kind: 'cancelled', reason });
  }

  release(reason: string): void {
    this._stop({ kind: 'released', reason });
  }

  private _stop(reason: AttemptEnd): void {
    if (this._stopReason) return;
    this._stopReason = reason;
    if (this._timer) clearTimeout(this._timer);
    this._abort.abort();
  }

  private async _run(callbacks: AttemptCallbacks): Promise<AttemptOutcome> {
    const spec = this._spec;
    const startedAt = Date.now();
    const tails = new OutputTails();
    const emit = (line: ParsedLine) => {
      tails.stdout(line);
      callbacks.onLine('stdout', line);
    };
    const note = (text: string) => {
      tails.stderrLine(text);
      callbacks.onLine('stderr', { kind: 'raw', event_type: null, content: text });
    };
    const text = new TextLines((line) => emit({ kind: 'event', event_type: 'text', content: line }));
    const usage: ApiUsage = {
      input_tokens: null,
      output_tokens: null,
      cache_read_tokens: null,
      cache_write_tokens: null,
    };
    let answer = '';
    let messageId: string | null = null;
    let stopReason: string | null = null;
    let sawStop = false;
    let events = 0;

    this._timer = setTimeout(() => this._stop({ kind: 'timeout' }), Math.max(0, spec.timeoutMs));
    let end: AttemptEnd;
    try {
      const client = new Anthropic({
        apiKey: spec.apiKey,
        baseURL: spec.baseURL,
        maxRetries: spec.maxRetries,
        // Our own timer bounds the attempt; the SDK's would only cut it shorter with a vaguer error.
        timeout: spec.timeoutMs + 1000,
        logLevel: 'info',
        logger: sdkLogger(spec.logger, note),
      });
      const stream = await client.messages.create(
        {
          model: spec.api.model,
          max_tokens: spec.api.max_tokens,
          messages: [{ role: 'user', content: spec.prompt }],
          stream: true,
        },
        { signal: this._abort.signal },
      );
      for await (const event of stream) {
        events++;
        switch (event.type) {
          case 'message_start': {
            const u = event.message.usage;
            messageId = event.message.id;
            usage.input_tokens = u.input_tokens;
            usage.output_tokens = u.output_tokens;
            usage.cache_read_tokens = u.cache_read_input_tokens ?? null;
            usage.cache_write_tokens = u.cache_creation_input_tokens ?? null;
            emit(eventLine('message_start', { id: event.message.id, model: event.message.model, usage: u }));
            break;
          }
          case 'content_block_delta':
            if (event.delta.type === 'text_delta') {
              answer += event.delta.text;
              text.push(event.delta.text);
            }
            break;
          case 'message_delta': {
            // Usage here is cumulative for the message, not an increment.
            const u = event.usage;
            usage.output_tokens = u.output_tokens;
            if (u.input_tokens !== null && u.input_tokens !== undefined) usage.input_tokens = u.input_tokens;
            if (u.cache_read_input_tokens != null) usage.cache_read_tokens = u.cache_read_input_tokens;
            if (u.cache_creation_input_tokens != null)
              usage.cache_write_tokens = u.cache_creation_input_tokens;
            stopReason = event.delta.stop_reason ?? stopReason;
            text.flush();
            emit(eventLine('message_delta', { stop_reason: stopReason, usage: u }));
            break;
          }
          case 'message_stop':
            sawStop = true;
            emit(eventLine('message_stop', {}));
            break;
          default:
            break;
        }
      }
      // An abort ends the SDK's iteration quietly, so the reason is ours to report.
      if (this._stopReason) end = this._stopReason;
      else if (sawStop) end = { kind: 'api_finished', stop_reason: stopReason };
      else {
        end = {
          kind: 'api_error',
          status: null,
          error_type: 'incomplete_stream',
          message: 'the answer stream ended before message_stop',
        };
      }
    } catch (error) {
      end = this._stopReason ?? describeApiError(error);
    } finally {
      if (this._timer) clearTimeout(this._timer);
      text.flush();
    }
    if (end.kind === 'api_error') note(`API error: ${end.message}`);

    const parsed: ParsedResult = {
      result_text: answer.length > 0 ? answer : null,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_read_tokens: usage.cache_read_tokens,
      // No tokens, no cost: an attempt refused before any answer was not billed.
      cost_usd: usage.input_tokens === null ? null : apiCostUsd(usage, spec.api.price_per_mtok),
      is_error: end.kind === 'api_error',
      error: end.kind === 'api_error' ? end.message : null,
      reported_duration_ms: null,
      session_id: messageId,
      saw_final: sawStop,
      events,
      malformed: 0,
      unknown: 0,
    };
    return {
      end,
      parsed,
      stderr_tail: tails.stderr,
      unstructured_tail: tails.unstructured,
      last_line: tails.lastLine,
      duration_ms: Math.max(0, Date.now() - startedAt),
    };
  }
}

function eventLine(type: string, body: Record<string, unknown>): ParsedLine {
  return { kind: 'event', event_type: type, content: JSON.stringify({ type, ...body }) };
}

function describeApiError(error: unknown): AttemptEnd {
  if (error instanceof Anthropic.APIError) {
    const status = typeof error.status === 'number' ? error.status : null;
    return {
      kind: 'api_error',
      status,
      error_type: error.type ?? null,
      message: error.message || `HTTP ${status ?? 'error'}`,
    };
  }
  return { kind: 'api_error', status: null, error_type: null, message: String(error) };
}

/** The SDK's own log lines (retries, failures) go to the task's output, and to ours at debug. */
function sdkLogger(logger: LoggerLike, note: (text: string) => void) {
  const line =
    (level: 'info' | 'warn' | 'error') =>
    (message: string, ..._rest: unknown[]) => {
      // The SDK's lines name the request URL: drop any user:password a gateway URL carries.
      const safe = message.replace(/\/\/[^/\s@]+@/g, '//');
      logger.debug('anthropic sdk', { level, message: safe });
      note(`anthropic-sdk ${level}: ${safe}`);
    };
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: () => {} };
}

/** Joins streamed text deltas into whole lines for the output rows. */
class TextLines {
  private _partial = '';
  private readonly _emit: (line: string) => void;

  constructor(emit: (line: string) => void) {
    this._emit = emit;
  }

  push(delta: string): void {
    const parts = (this._partial + delta).split('\n');
    this._partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim().length > 0) this._emit(line);
  }

  flush(): void {
    if (this._partial.trim().length > 0) this._emit(this._partial);
    this._partial = '';
  }
}
