import type { TaskExecutor } from '../../../src-shared/tasks.ts';
import type { ParsedLine, ParsedResult } from './output-parser.ts';

/** Why an attempt stopped, from the runner's point of view; the classifier turns this into a state. */
export type AttemptEnd =
  | { kind: 'spawn_failed'; code: string; message: string }
  | { kind: 'exited'; exit_code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout' }
  | { kind: 'cancelled'; reason: string }
  /** Stopped by the worker to hand the task back to the queue (shutdown, lost lease). */
  | { kind: 'released'; reason: string }
  /** The API executor: the model finished its answer (`stop_reason` as the API reported it). */
  | { kind: 'api_finished'; stop_reason: string | null }
  /** The API executor: the request or the stream failed (`status` null: no HTTP answer at all). */
  | { kind: 'api_error'; status: number | null; error_type: string | null; message: string };

export interface AttemptOutcome {
  end: AttemptEnd;
  parsed: ParsedResult;
  /** Last few KiB of stderr, for error messages. */
  stderr_tail: string;
  /** Last few KiB of what was printed outside the structured events (stderr and non-JSON stdout),
   *  oldest first: where CLIs put configuration and authentication complaints. */
  unstructured_tail: string;
  /** The last non-empty line printed on either stream (trimmed, capped), to say what happened when
   *  the agent gave no result. */
  last_line: string | null;
  /** Run time excluding time spent paused. */
  duration_ms: number;
}

export interface AttemptCallbacks {
  onLine(stream: 'stdout' | 'stderr', line: ParsedLine): void;
}

/**
 * One attempt in flight, whichever executor runs it: the CLI in its own process group
 * (attempt-runner.ts) or the Messages API (api-runner.ts). The service only ever talks to this.
 */
export interface RunningAttempt {
  readonly executor: TaskExecutor;
  readonly done: Promise<AttemptOutcome>;
  /** The process group (CLI executor); null for the API executor and before the spawn. */
  readonly pid: number | null;
  /** False when the attempt cannot be paused (the API executor, or not running). */
  pause(): boolean;
  resume(): boolean;
  cancel(reason: string): void;
  release(reason: string): void;
}

const TAIL_CHARS = 4000;
const LAST_LINE_CHARS = 300;

/** Keeps the tails an outcome reports, fed line by line as the attempt prints. */
export class OutputTails {
  stderr = '';
  unstructured = '';
  lastLine: string | null = null;

  stdout(line: ParsedLine): void {
    if (line.kind === 'raw') this.unstructured = appendTail(this.unstructured, line.content);
    this._last(line.content);
  }

  stderrLine(line: string): void {
    this.stderr = appendTail(this.stderr, line);
    this.unstructured = appendTail(this.unstructured, line);
    this._last(line);
  }

  private _last(text: string): void {
    const trimmed = text.trim();
    if (trimmed.length > 0) this.lastLine = trimmed.slice(0, LAST_LINE_CHARS);
  }
}

function appendTail(tail: string, line: string): string {
  return (tail.length === 0 ? line : `${tail}\n${line}`).slice(-TAIL_CHARS);
}
