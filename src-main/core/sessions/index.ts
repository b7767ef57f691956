/** The session core's public surface: what the server, IPC, store, tasks and recovery import. */
export { type AgentEnvInput, BASIC_ENV_KEYS, buildAgentEnv } from './agent-env.ts';
export {
  ProcessLimitError,
  ProcessPoolError,
  ProcessTimeoutError,
  ProviderUnknownError,
  ResourceLimitError,
  SessionCoreError,
  SessionNotFoundError,
  SessionNotRunningError,
} from './errors.ts';
export { createPassiveDetector } from './passive-detector.ts';
export { bootId, type KillTreeResult, killRecordedTree, type RecordedTree } from './process-tree.ts';
export {
  createSessionManager,
  DEFAULT_LIMITS,
  DEFAULT_OUTPUT,
  type DetectorFactory,
  defaultDetectorFactory,
  type OutputTuning,
  type SessionManagerOptions,
} from './session-manager.ts';
export type * from './types.ts';
