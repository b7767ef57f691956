import type { ResourceUsage, SessionInfo, StateReason } from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderDefinition } from '../providers/types.ts';
import type { HostExit } from '../pty-host/types.ts';
import { CommandLineAssembler } from './command-lines.ts';
import type { OutputPipeline } from './output-pipeline.ts';
import type { ProcStat } from './process-tree.ts';
import { isResumable } from './resume.ts';
import type { SpawnRecord } from './types.ts';
import { createViewSizes, type ViewSizes } from './view-sizes.ts';

export interface RecentError {
  at: string;
  error: string;
  error_code: string;
}

/** The core's side of one session: its info, policy state and viewers (the PTY lives in the host). */
export interface SessionRecord {
  info: SessionInfo;
  provider: ProviderDefinition;
  log: Logger;
  /** The host has a PTY for it (set once the spawn succeeded). */
  spawned: boolean;
  /** While its set-up command runs (before the agent): where the host's exit for it goes. */
  setup: { done(exit: HostExit): void } | null;
  /** The host reported the exit (every byte of output came before it). */
  exitSeen: boolean;
  /** Ring for replays and the views' consumers (chunks come numbered from the host). */
  pipeline: OutputPipeline;
  spawn: SpawnRecord | null;
  knownTree: ProcStat[];
  usage: ResourceUsage | null;
  errors: RecentError[];
  /** Set when we end it (user terminate, limit): decides the final state instead of the exit code. */
  endAs: { state: 'terminated' | 'error'; reason: StateReason } | null;
  ended: boolean;
  exited: Promise<void>;
  markExited: () => void;
  sweep: Promise<void>;
  terminating: Promise<void> | null;
  initialPrompt: string | undefined;
  initialPromptSent: boolean;
  cpuBreaches: number;
  lastOutputAt: number;
  lastInputAt: number;
  startedAtMs: number;
  lastActivityMs: number;
  /** Terminal views attached through `attach()` (windows, dashboard viewers): a watched session is never idle. */
  viewers: number;
  /** Which view sets the PTY size (tmux `window-size latest`). */
  viewSizes: ViewSizes;
  /** Keystrokes → the lines a person submitted (command history). */
  lines: CommandLineAssembler;
  disposables: { dispose(): void }[];
}

export const nowIso = () => new Date().toISOString();

export const stateReason = (source: StateReason['source'], detail: string, rule?: string): StateReason =>
  rule === undefined ? { source, detail, at: nowIso() } : { source, rule, detail, at: nowIso() };

export function newRecord(
  info: SessionInfo,
  provider: ProviderDefinition,
  log: Logger,
  pipeline: OutputPipeline,
  initialPrompt: string | undefined,
): SessionRecord {
  let markExited!: () => void;
  const exited = new Promise<void>((resolve) => {
    markExited = resolve;
  });
  return {
    info,
    provider,
    log,
    spawned: false,
    setup: null,
    exitSeen: false,
    pipeline,
    spawn: null,
    knownTree: [],
    usage: null,
    errors: [],
    endAs: null,
    ended: false,
    exited,
    markExited,
    sweep: Promise.resolve(),
    terminating: null,
    initialPrompt,
    initialPromptSent: false,
    cpuBreaches: 0,
    lastOutputAt: 0,
    lastInputAt: 0,
    startedAtMs: 0,
    lastActivityMs: Date.now(),
    viewers: 0,
    viewSizes: createViewSizes(),
    lines: new CommandLineAssembler(),
    disposables: [],
  };
}

/** A copy safe to hand out (events, queries): callers can never mutate the record. */
export function snapshotInfo(rec: SessionRecord): SessionInfo {
  if (rec.lastActivityMs) rec.info.last_activity = new Date(rec.lastActivityMs).toISOString();
  return {
    ...rec.info,
    state_reason: { ...rec.info.state_reason },
    command_history: [...rec.info.command_history],
    metadata: { ...rec.info.metadata },
    resumable: isResumable(rec.info, rec.provider),
  };
}
