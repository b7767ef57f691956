import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import {
  PROVIDER_ID_PATTERN,
  ProviderConfigFileSchema,
  type ProviderEntry,
  ProviderEntrySchema,
} from './config-schema.ts';
import { newProviderTemplate } from './defaults.ts';
import type { SignalSpec } from './signal-spec.ts';
import type { ProviderConfigError, ProviderDefinition, ScreenRule } from './types.ts';

/** Config files looked for, in order, when no path is given. YAML also parses JSON. */
export function defaultConfigCandidates(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME && env.HOME.length > 0 ? env.HOME : os.homedir();
  const dir = path.join(home, '.autodev');
  return ['providers.yaml', 'providers.yml', 'providers.json'].map((name) => path.join(dir, name));
}

export interface ConfigFileResult {
  providers: ProviderDefinition[];
  errors: ProviderConfigError[];
  file: string | null;
}

function issuesToErrors(file: string, prefix: (string | number)[], error: z.ZodError): ProviderConfigError[] {
  return error.issues.map((issue) => ({
    file,
    path: [...prefix, ...issue.path.map((p) => String(p))].join('.'),
    message: issue.message,
  }));
}

function mergeRules(base: ScreenRule[], extra: ScreenRule[]): ScreenRule[] {
  const ids = new Set(extra.map((r) => r.id));
  return [...base.filter((r) => !ids.has(r.id)), ...extra];
}

/** Apply one validated entry over a definition (fields replace; arrays replace, except extra rules). */
export function applyEntry(base: ProviderDefinition, entry: ProviderEntry): ProviderDefinition {
  const { extra_screen_rules, screen_rules, one_shot, submit, signals, extra_prices, ...scalars } = entry;
  const next: ProviderDefinition = { ...base };
  for (const [key, value] of Object.entries(scalars)) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  if (one_shot !== undefined) next.one_shot = one_shot;
  // The submit strategy merges field by field: overriding a delay keeps the bundled region.
  if (submit !== undefined)
    next.submit = {
      ...base.submit,
      ...Object.fromEntries(Object.entries(submit).filter(([, v]) => v !== undefined)),
    };
  if (signals === null) delete next.signals;
  else if (signals !== undefined) next.signals = signals as SignalSpec;
  if (extra_prices !== undefined) next.prices = [...extra_prices, ...(next.prices ?? [])];
  if (screen_rules !== undefined) next.screen_rules = screen_rules;
  if (extra_screen_rules !== undefined) next.screen_rules = mergeRules(next.screen_rules, extra_screen_rules);
  return next;
}

/**
 * Read the config file (explicit path, or the first default candidate that exists) and merge it over
 * `defaults`. Never throws: a missing explicit file, unreadable file, YAML syntax error or invalid
 * entry becomes a ProviderConfigError and the affected part falls back to the bundled definitions.
 */
export function loadConfigFile(
  defaults: ProviderDefinition[],
  options: { configFile?: string; env: NodeJS.ProcessEnv },
): ConfigFileResult {
  const byId = new Map(defaults.map((d) => [d.id, d]));
  const result = (errors: ProviderConfigError[], file: string | null): ConfigFileResult => ({
    providers: [...byId.values()],
    errors,
    file,
  });

  let file: string | null = null;
  if (options.configFile !== undefined) {
    file = path.resolve(options.configFile);
    if (!existsSync(file)) return result([{ file, path: '', message: 'config file not found' }], file);
  } else {
    file = defaultConfigCandidates(options.env).find((candidate) => existsSync(candidate)) ?? null;
    if (file === null) return result([], null);
  }

  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return result([{ file, path: '', message: `cannot read config: ${message}` }], file);
  }
  if (raw === null || raw === undefined) return result([], file); // an empty file is fine

  const top = ProviderConfigFileSchema.safeParse(raw);
  if (!top.success) return result(issuesToErrors(file, [], top.error), file);

  const errors: ProviderConfigError[] = [];
  for (const [id, value] of Object.entries(top.data.providers)) {
    if (!PROVIDER_ID_PATTERN.test(id)) {
      errors.push({ file, path: `providers.${id}`, message: 'provider id must match [a-z0-9][a-z0-9_-]*' });
      continue;
    }
    const entry = ProviderEntrySchema.safeParse(value ?? {});
    if (!entry.success) {
      errors.push(...issuesToErrors(file, ['providers', id], entry.error));
      continue;
    }
    const base = byId.get(id);
    if (base === undefined && entry.data.binary === undefined) {
      errors.push({ file, path: `providers.${id}.binary`, message: 'a new provider needs a binary' });
      continue;
    }
    byId.set(id, applyEntry(base ?? newProviderTemplate(id), entry.data));
  }
  return result(errors, file);
}
