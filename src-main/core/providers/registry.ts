import { loadConfigFile } from './config-file.ts';
import { defaultProviders } from './defaults.ts';
import { loginShellPath } from './login-path.ts';
import { findExecutable, notInstalledMessage } from './resolve-binary.ts';
import type { ProviderConfigError, ProviderDefinition, ProviderRegistry, ResolvedBinary } from './types.ts';

export interface LoadProviderRegistryOptions {
  /** Config file (YAML or JSON). Default: the first of ~/.autodev/providers.{yaml,yml,json} that exists. */
  configFile?: string;
  /** Environment for HOME, SHELL and PATH (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Timeout for asking the login shell for its PATH (default 5000 ms). */
  loginShellTimeoutMs?: number;
}

/** The registry loadProviderRegistry returns: the optional members of ProviderRegistry are always there. */
export interface LoadedProviderRegistry extends ProviderRegistry {
  searchPath(): Promise<string>;
  readonly errors: readonly ProviderConfigError[];
  readonly configFile: string | null;
}

/**
 * Bundled defaults + the user's config file. Never throws for a bad config: `errors` says what was
 * wrong (file, field, message) and the defaults stay in force for what could not be applied.
 */
export function loadProviderRegistry(options: LoadProviderRegistryOptions = {}): LoadedProviderRegistry {
  const env = options.env ?? process.env;
  const loaded = loadConfigFile(defaultProviders(env), {
    env,
    ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
  });
  return new StaticProviderRegistry(
    loaded.providers,
    loaded.errors,
    loaded.file,
    env,
    options.loginShellTimeoutMs,
  );
}

class StaticProviderRegistry implements LoadedProviderRegistry {
  private readonly _byId: Map<string, ProviderDefinition>;
  private readonly _resolved = new Map<string, Promise<ResolvedBinary>>();
  private readonly _env: NodeJS.ProcessEnv;
  private readonly _timeoutMs: number | undefined;
  readonly errors: readonly ProviderConfigError[];
  readonly configFile: string | null;

  constructor(
    providers: ProviderDefinition[],
    errors: ProviderConfigError[],
    configFile: string | null,
    env: NodeJS.ProcessEnv,
    timeoutMs: number | undefined,
  ) {
    this._byId = new Map(providers.map((p) => [p.id, deepFreeze(p)]));
    this.errors = Object.freeze([...errors]);
    this.configFile = configFile;
    this._env = env;
    this._timeoutMs = timeoutMs;
  }

  get(id: string): ProviderDefinition | undefined {
    return this._byId.get(id);
  }

  list(): ProviderDefinition[] {
    return [...this._byId.values()];
  }

  async searchPath(): Promise<string> {
    const result = await loginShellPath({
      env: this._env,
      ...(this._timeoutMs !== undefined ? { timeoutMs: this._timeoutMs } : {}),
    });
    return result.path;
  }

  resolveBinary(id: string): Promise<ResolvedBinary> {
    // Found paths are cached; a miss is re-checked next time (the user may install the CLI meanwhile).
    let pending = this._resolved.get(id);
    if (pending === undefined) {
      pending = this._resolve(id);
      this._resolved.set(id, pending);
      pending.then((r) => {
        if (r.path === null) this._resolved.delete(id);
      });
    }
    return pending;
  }

  private async _resolve(id: string): Promise<ResolvedBinary> {
    const def = this._byId.get(id);
    if (def === undefined) {
      return { provider_id: id, binary: id, path: null, error: `unknown provider "${id}"` };
    }
    const found = findExecutable(def.binary, await this.searchPath(), this._env.HOME);
    return {
      provider_id: id,
      binary: def.binary,
      path: found,
      error: found === null ? notInstalledMessage(def.binary) : null,
    };
  }
}

/** Definitions are shared by every session: freeze them so no caller can change another's view. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
