import type { Redactor } from '../security/redact.ts';
import type { ParsedLine } from './output-parser.ts';
import type { TaskStore } from './task-store.ts';

/**
 * Buffers one attempt's output rows and writes them in batches (every 200 ms), redacted, capped at
 * `max` rows per attempt (the rest is counted, not kept).
 */
export class OutputSink {
  count = 0;
  private _seq = 0;
  private _buffer: (ParsedLine & { seq: number; stream: 'stdout' | 'stderr' | 'result' })[] = [];
  private _timer: NodeJS.Timeout | null = null;
  private readonly _store: TaskStore;
  private readonly _taskId: string;
  private readonly _attempt: number;
  private readonly _max: number;
  private readonly _redactor: Redactor;

  constructor(store: TaskStore, taskId: string, attempt: number, max: number, redactor: Redactor) {
    this._store = store;
    this._taskId = taskId;
    this._attempt = attempt;
    this._max = max;
    this._redactor = redactor;
  }

  add(stream: 'stdout' | 'stderr', line: ParsedLine): void {
    this.count++;
    if (this._seq >= this._max) return;
    this._buffer.push({ ...line, content: this._redactor.redact(line.content), seq: ++this._seq, stream });
    this._timer ??= setTimeout(() => this.flush(), 200);
  }

  final(text: string): void {
    this.flush();
    this._store.recordFinalText(this._taskId, this._attempt, ++this._seq, text);
  }

  flush(): void {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    const rows = this._buffer;
    this._buffer = [];
    this._store.appendOutputs(this._taskId, this._attempt, rows);
  }

  close(): void {
    this.flush();
  }
}
