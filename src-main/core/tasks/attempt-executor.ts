import { statSync } from 'node:fs';
import type { TaskState } from '../../../src-shared/tasks.ts';
import { buildOneShotArgv, oneShotStdin } from '../providers/argv.ts';
import type { ProviderDefinition, ProviderRegistry } from '../providers/types.ts';
import type { Redactor } from '../security/redact.ts';
import { buildAgentEnv } from '../sessions/agent-env.ts';
import type { LoggerLike } from '../store/types.ts';
import { ApiAttemptRun } from './api-runner.ts';
import type { AttemptCallbacks, AttemptOutcome, RunningAttempt } from './attempt-outcome.ts';
import { AttemptRun } from './attempt-runner.ts';
import { classifyOutcome, type Verdict } from './classify-outcome.ts';
import { type ExecutorChoice, type ExecutorPolicy, selectExecutor } from './executor-select.ts';
import { outputFormatFor } from './output-formats.ts';
import { OutputSink } from './output-sink.ts';
import type { TaskStateWriter } from './task-state-writer.ts';
import type { StoredTask, TaskPatch, TaskStore } from './task-store.ts';

/** One attempt in flight on this instance, from claim to final state. */
export interface LiveRun {
  task_id: string;
  cli_tool: string;
  attempt: number;
  run: RunningAttempt | null;
  /** A control that arrived while the attempt was still being set up. */
  pendingCancel: string | null;
  finished: Promise<void>;
}

export interface AttemptExecutorOptions {
  store: TaskStore;
  writer: TaskStateWriter;
  providers: ProviderRegistry;
  env: NodeJS.ProcessEnv;
  policy: ExecutorPolicy;
  redactor: Redactor;
  logger: LoggerLike;
  workerId: string;
  retryBaseMs: number;
  killGraceMs: number;
  maxOutputLines: number;
  /** HTTP retries the SDK makes inside one API attempt (see ApiAttemptSpec.maxRetries). */
  apiMaxRetries: number;
  /** True once the service is shutting down: no retry is scheduled then. */
  isStopping(): boolean;
}

/**
 * Runs one claimed attempt of a task to its end: picks the executor (CLI or API fallback), starts
 * it with its output going to the task's rows, classifies how it ended, records the attempt's
 * figures, and moves the task to its final state or back to the queue for a retry.
 */
export class AttemptExecutor {
  private readonly _o: AttemptExecutorOptions;

  constructor(options: AttemptExecutorOptions) {
    this._o = options;
  }

  async execute(task: StoredTask, live: LiveRun): Promise<void> {
    const { providers, env, policy } = this._o;
    const info = task.info;
    const def = providers.get(info.cli_tool);
    const fail = (message: string) =>
      this._conclude(live, task, {
        verdict: { state: 'error', retryable: false, reason: message, error: message },
        outcome: null,
      });
    if (!def?.one_shot) return fail(`${info.cli_tool}: no such provider with a one-shot mode`);
    const choice = await selectExecutor(def, providers, env, policy);
    if (choice.kind === 'unavailable') return fail(choice.message);
    if (!isDirectory(info.working_directory)) {
      return fail(`working directory ${info.working_directory} does not exist`);
    }
    if (live.pendingCancel) {
      return this._conclude(live, task, {
        verdict: { state: 'cancelled', retryable: false, reason: live.pendingCancel, error: null },
        outcome: null,
      });
    }

    const sink = new OutputSink(
      this._o.store,
      info.task_id,
      live.attempt,
      this._o.maxOutputLines,
      this._o.redactor,
    );
    const run = await this._start(task, def, choice, { onLine: (stream, line) => sink.add(stream, line) });
    live.run = run;
    if (live.pendingCancel) run.cancel(live.pendingCancel);
    // Give the spawn a tick to report ENOENT before we call the task running.
    await new Promise((r) => setImmediate(r));
    if (run.pid !== null) {
      await this._o.writer.move(
        info.task_id,
        ['starting'],
        'running',
        `spawned ${def.binary} (pid ${run.pid})`,
        { pid: run.pid, executor: run.executor },
      );
    } else if (choice.kind === 'api') {
      await this._o.writer.move(
        info.task_id,
        ['starting'],
        'running',
        `${def.binary} is not installed: answering through the API (${choice.spec.model} at ${publicOrigin(choice.baseURL)})`,
        { executor: run.executor },
      );
    }
    const outcome = await run.done;
    sink.close();
    const verdict = classifyOutcome(
      { cliTool: info.cli_tool, binary: def.binary, format: outputFormatFor(def) },
      outcome,
    );
    await this._conclude(live, task, { verdict, outcome, sink });
  }

  private async _start(
    task: StoredTask,
    def: ProviderDefinition,
    choice: Exclude<ExecutorChoice, { kind: 'unavailable' }>,
    callbacks: AttemptCallbacks,
  ): Promise<RunningAttempt> {
    const info = task.info;
    if (choice.kind === 'api') {
      return new ApiAttemptRun(
        {
          api: choice.spec,
          apiKey: choice.apiKey,
          baseURL: choice.baseURL,
          prompt: info.prompt,
          timeoutMs: info.timeout_s * 1000,
          maxRetries: this._o.apiMaxRetries,
          logger: this._o.logger,
        },
        callbacks,
      );
    }
    const [binary, ...argv] = buildOneShotArgv(def, info.prompt, {
      fullAccess: task.full_access,
      binaryPath: choice.binaryPath,
    });
    const providers = this._o.providers;
    const loginPath = providers.searchPath ? await providers.searchPath().catch(() => null) : null;
    const env = buildAgentEnv({
      sessionId: info.task_id,
      providerEnvKeys: def.env_keys,
      overrides: { NO_COLOR: '1', AUTODEV_TASK_ID: info.task_id },
      source: this._o.env,
      loginPath,
    });
    return new AttemptRun(
      {
        binary: binary!,
        argv,
        stdin: oneShotStdin(def, info.prompt),
        cwd: info.working_directory,
        env,
        timeoutMs: info.timeout_s * 1000,
        killGraceMs: this._o.killGraceMs,
        format: outputFormatFor(def),
      },
      callbacks,
    );
  }

  private async _conclude(
    live: LiveRun,
    task: StoredTask,
    args: { verdict: Verdict; outcome: AttemptOutcome | null; sink?: OutputSink },
  ): Promise<void> {
    const { store, writer, redactor } = this._o;
    const { verdict, outcome } = args;
    const id = task.info.task_id;
    const parsed = outcome?.parsed;
    const current = store.get(id)!.info;
    const retry =
      verdict.state === 'error' &&
      verdict.retryable &&
      current.attempts <= current.max_retries &&
      !this._o.isStopping();
    const figures: TaskPatch = {
      exit_code: outcome?.end.kind === 'exited' ? outcome.end.exit_code : null,
      signal: outcome?.end.kind === 'exited' ? outcome.end.signal : null,
      result_text: parsed?.result_text ? redactor.redact(parsed.result_text) : null,
      input_tokens: parsed?.input_tokens ?? null,
      output_tokens: parsed?.output_tokens ?? null,
      cache_read_tokens: parsed?.cache_read_tokens ?? null,
      cost_usd: parsed?.cost_usd ?? null,
      duration_ms: outcome?.duration_ms ?? null,
      error: verdict.error ? redactor.redact(verdict.error) : null,
      pid: null,
    };
    if (outcome) {
      store.recordMetric({
        task_id: id,
        attempt: live.attempt,
        cli_tool: current.cli_tool,
        outcome: retry ? 'error-retried' : verdict.state,
        queue_wait_ms: current.started_at
          ? Math.max(0, Date.parse(current.started_at) - Date.parse(current.created_at))
          : null,
        duration_ms: outcome.duration_ms,
        reported_duration_ms: parsed?.reported_duration_ms ?? null,
        input_tokens: parsed?.input_tokens ?? null,
        output_tokens: parsed?.output_tokens ?? null,
        cache_read_tokens: parsed?.cache_read_tokens ?? null,
        cost_usd: parsed?.cost_usd ?? null,
        exit_code: figures.exit_code ?? null,
        output_lines: args.sink?.count ?? 0,
        malformed_lines: parsed?.malformed ?? 0,
        worker_id: this._o.workerId,
      });
      if (figures.result_text) args.sink?.final(figures.result_text);
    }

    // The reason may quote the agent's output (its last line): it goes through the redactor too.
    const reason = redactor.redact(verdict.reason);
    let from: TaskState[] = ['starting', 'running', 'paused'];
    if (outcome && endedOnItsOwn(outcome) && current.state !== 'starting') {
      await writer.move(
        id,
        ['running', 'paused'],
        'completing',
        `${outcome.end.kind.startsWith('api_') ? 'request' : 'process'} ended (${describeEnd(outcome)})`,
      );
      from = ['completing'];
    }
    if (verdict.state === 'requeue' || retry) {
      const delay = retry
        ? Math.min(60_000, this._o.retryBaseMs * 2 ** Math.max(0, current.attempts - 1))
        : 0;
      await writer.move(
        id,
        [...from, 'completing'],
        'queued',
        retry
          ? `retry ${current.attempts}/${current.max_retries} in ${delay} ms after error: ${reason}`
          : reason,
        { ...figures, available_at_ms: Date.now() + delay, worker_id: null },
        { retryDelayMs: delay },
      );
      return;
    }
    await writer.move(
      id,
      [...from, 'completing'],
      verdict.state,
      reason,
      { ...figures, ended_at: new Date().toISOString() },
      { final: true },
    );
    this._o.logger.info('task finished', { task_id: id, state: verdict.state, attempts: current.attempts });
  }
}

/** The attempt came to its own end (rather than being stopped by us): it passes through `completing`. */
function endedOnItsOwn(outcome: AttemptOutcome): boolean {
  const kind = outcome.end.kind;
  return kind === 'exited' || kind === 'spawn_failed' || kind === 'api_finished' || kind === 'api_error';
}

function describeEnd(outcome: AttemptOutcome): string {
  const end = outcome.end;
  switch (end.kind) {
    case 'exited':
      return end.signal ? `signal ${end.signal}` : `exit ${end.exit_code}`;
    case 'spawn_failed':
      return `spawn failed: ${end.code}`;
    case 'api_finished':
      return `API answer complete: ${end.stop_reason ?? 'no stop_reason'}`;
    case 'api_error':
      return `API error${end.status !== null ? ` ${end.status}` : ''}`;
    default:
      return end.kind;
  }
}

/** The endpoint without credentials a gateway URL may carry (`https://user:token@host/`). */
function publicOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'a custom endpoint';
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
