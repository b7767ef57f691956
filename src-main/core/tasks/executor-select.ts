import type { ApiFallbackSpec, ProviderDefinition, ProviderRegistry } from '../providers/types.ts';

/** The task-queue settings that decide between executors (config.yaml `tasks:`). */
export interface ExecutorPolicy {
  /** `tasks.api_fallback` (default true): false never runs a task through a provider's API. */
  apiFallback: boolean;
}

export type ExecutorChoice =
  | { kind: 'cli'; binaryPath: string }
  | { kind: 'api'; spec: ApiFallbackSpec; apiKey: string; baseURL: string }
  | { kind: 'unavailable'; message: string };

/**
 * Which executor runs a task's attempt: the provider's CLI when it is installed; else its API
 * fallback (provider data, e.g. claude → Anthropic Messages API) when the policy allows it and the
 * key is in the environment; else nothing, with a message naming every way it could have run.
 */
export async function selectExecutor(
  def: ProviderDefinition,
  providers: ProviderRegistry,
  env: NodeJS.ProcessEnv,
  policy: ExecutorPolicy,
): Promise<ExecutorChoice> {
  const resolved = await providers.resolveBinary(def.id);
  if (resolved.path) return { kind: 'cli', binaryPath: resolved.path };
  const missing = resolved.error ?? `${def.binary} is not installed or not on PATH`;
  const fallback = def.api_fallback ?? null;
  if (!fallback) return { kind: 'unavailable', message: missing };
  if (!policy.apiFallback) {
    return {
      kind: 'unavailable',
      message: `${missing}; the API fallback is turned off (tasks.api_fallback: false in the config file)`,
    };
  }
  const apiKey = env[fallback.key_env];
  if (!apiKey) {
    return {
      kind: 'unavailable',
      message: `${missing}, and ${fallback.key_env} is not set: install ${def.binary} or set ${fallback.key_env} to run ${def.id} tasks through the API`,
    };
  }
  const baseURL = env[fallback.base_url_env] || fallback.base_url;
  return { kind: 'api', spec: fallback, apiKey, baseURL };
}

/** Whether this worker can run the provider's tasks at all (a shared queue leaves the rest to others). */
export async function canRunProvider(
  def: ProviderDefinition,
  providers: ProviderRegistry,
  env: NodeJS.ProcessEnv,
  policy: ExecutorPolicy,
): Promise<boolean> {
  if (!def.one_shot) return false;
  const choice = await selectExecutor(def, providers, env, policy).catch(() => null);
  return choice !== null && choice.kind !== 'unavailable';
}
