import type { SessionInfo } from '../../../src-shared/session.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import type { ProviderRegistry } from '../providers/types.ts';
import type { MirrorTuning } from '../pty-host/host-session.ts';
import type { DetectorFactory } from '../pty-host/local-host.ts';
import type { PtyHost } from '../pty-host/types.ts';
import { createRedactor } from '../security/redact.ts';
import type { SessionSignals } from '../signals/index.ts';
import type { SessionContainment } from './session-containment.ts';
import type { CommandJournal, ManagerLimits } from './types.ts';

/** Output-path tunables (defaults after VS Code's terminal). */
export interface OutputTuning {
  /** Batch window in ms (VS Code: 5). */
  batchMs: number;
  maxBatchChars: number;
  /** Ring buffer for replay, in chars (default 2 MiB). */
  ringChars: number;
  /** Pause the PTY when a flow-controlled consumer has this many unacked chars (VS Code: 100000). */
  highWatermark: number;
  /** …and resume once all are below this (VS Code: 5000). */
  lowWatermark: number;
}

export interface SessionManagerOptions {
  providers: ProviderRegistry;
  journal?: CommandJournal;
  limits?: Partial<ManagerLimits>;
  logger?: Logger;
  /** Where the PTYs live. Default: a PTY host in this process (LocalPtyHost). */
  host?: PtyHost;
  /** For the default in-process host: one screen-state detector per session (the headless mirror).
   *  Default: createStateDetector with the provider's rules; `createPassiveDetector` is the rule-less one. */
  detectorFactory?: DetectorFactory;
  output?: Partial<OutputTuning>;
  /** For the default in-process host: mirror feeding tunables (compaction threshold, budget, scrollback). */
  mirror?: MirrorTuning;
  /** One /proc sample of all trees every this many ms (limits, resource_usage). Default 2000. */
  sampleIntervalMs?: number;
  /** For the default in-process host: re-evaluate detectors this often while output flows or settles. */
  evaluateIntervalMs?: number;
  /** For the default in-process host: how sessions' processes are kept together and ended (a cgroup
   *  per session where the system allows it). Default: createSessionContainment(). */
  containment?: SessionContainment;
  /** CPU over the limit in this many consecutive samples before it counts (spikes are normal). Default 3. */
  cpuBreachSamples?: number;
  /** Environment agents' basics and keys are taken from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** PATH for agents (login-shell PATH). Default: resolved from $SHELL -l once. */
  loginPath?: () => Promise<string>;
  /** The agents' own signals (src-main/core/signals/): spawn wiring, their fusion with the screen's
   *  verdicts, conversation ids. Absent: screen rules only. */
  signals?: SessionSignals;
  /** Before a prompt is sent with `command` (a person's, the API's, the initial prompt): a refusal
   *  message stops it (usage budgets with action "stop", src-main/core/usage/). Keystrokes pass. */
  admitCommand?: (session: SessionInfo) => string | null;
  /** Redacts a submitted line for SessionInfo.command_history, which viewers see (the journal gets the
   *  line as typed and redacts it itself, scrubbing its keys when the line held a secret). */
  redactLine?: (line: string) => string;
}

export const DEFAULT_LIMITS: ManagerLimits = {
  max_sessions: 20,
  terminate_grace_ms: 3000,
  idle_timeout_s: 300,
  max_run_time_s: null,
  max_memory_mb: null,
  max_cpu_percent: null,
  max_fds: null,
};

export const DEFAULT_OUTPUT: OutputTuning = {
  batchMs: 5,
  maxBatchChars: 256 * 1024,
  ringChars: 2 * 1024 * 1024,
  highWatermark: 100_000,
  lowWatermark: 5_000,
};

export /** Warn-level JSON lines on stderr, redacting the values of every provider's keys found in the env. */
function defaultLogger(options: SessionManagerOptions): Logger {
  const env = options.env ?? process.env;
  const secrets = options.providers
    .list()
    .flatMap((p) => p.env_keys)
    .map((key) => env[key])
    .filter((v): v is string => typeof v === 'string');
  return createLogger({ level: 'warn', redactor: createRedactor({ secrets }) });
}
