/**
 * The environment an agent process gets: an allowlist of basics, the provider's own env keys, the
 * session's explicit overrides, and AUTODEV_SESSION_ID (which also marks its processes for tree
 * kills). Never `{...process.env}`: the app's env may hold every provider's key (field notes §4.4).
 */
export const BASIC_ENV_KEYS = [
  'HOME',
  'LANG',
  'SHELL',
  'USER',
  'LOGNAME',
  'TMPDIR',
  'SSH_AUTH_SOCK',
  'COLORTERM',
  'TZ',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'XDG_RUNTIME_DIR',
] as const;

export interface AgentEnvInput {
  sessionId: string;
  /** The provider's `env_keys`: only these secrets are passed through. */
  providerEnvKeys: readonly string[];
  /** Explicit per-session env (wins over everything but AUTODEV_SESSION_ID and TERM). */
  overrides: Record<string, string>;
  /** Where basics and provider keys are read from (the app's env). */
  source: NodeJS.ProcessEnv;
  /** PATH as the user's login shell sets it (GUI launches do not inherit it); falls back to source.PATH. */
  loginPath?: string | null;
}

export function buildAgentEnv(input: AgentEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  const { source } = input;
  for (const key of BASIC_ENV_KEYS) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('LC_') && value !== undefined) env[key] = value;
  }
  env.PATH = input.loginPath || source.PATH || '/usr/local/bin:/usr/bin:/bin';
  env.COLORTERM ??= 'truecolor';
  env.LANG ??= 'C.UTF-8';
  for (const key of input.providerEnvKeys) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, input.overrides);
  env.TERM = 'xterm-256color';
  env.AUTODEV_SESSION_ID = input.sessionId;
  return env;
}
