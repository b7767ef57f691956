import { loadConfig } from '../core/config.ts';
import { summarizeProviders } from '../core/core.ts';
import { loadProviderRegistry } from '../core/providers/index.ts';
import type { CliIo } from './io.ts';

/** `autodev doctor` options as the command line parsed them (program.ts). */
export interface DoctorOptions {
  dataDir?: string;
  config?: string;
  json?: boolean;
}

export async function doctorCommand(options: DoctorOptions, io: CliIo): Promise<number> {
  const values = { config: options.config, 'data-dir': options.dataDir, json: options.json };
  const config = loadConfig({ configFile: values.config, dataDir: values['data-dir'], env: io.env });
  const registry = loadProviderRegistry({
    env: io.env,
    ...(config.providersFile !== undefined ? { configFile: config.providersFile } : {}),
  });
  const summaries = await summarizeProviders(registry, io.env);
  if (values.json) {
    io.stdout(`${JSON.stringify(summaries, null, 2)}\n`);
    return 0;
  }
  for (const p of summaries) {
    const mark = p.installed ? 'ok ' : '-- ';
    io.stdout(`${mark} ${p.id.padEnd(14)} ${p.name}\n`);
    io.stdout(`     binary:  ${p.binary} → ${p.resolved_path ?? 'not found on the login-shell PATH'}\n`);
    io.stdout(`     version: ${p.version ?? (p.installed ? 'unknown' : '-')}\n`);
    if (p.env_keys.length > 0) {
      const env = p.env_keys.map((k) => `${k}=${p.env_missing.includes(k) ? 'missing' : 'set'}`).join(', ');
      io.stdout(`     env:     ${env}\n`);
    }
  }
  const registryErrors =
    (registry as { errors?: readonly { file: string; path: string; message: string }[] }).errors ?? [];
  for (const e of registryErrors) io.stdout(`config error: ${e.file}: ${e.path}: ${e.message}\n`);
  io.stdout(`data dir: ${config.dataDir}\n`);
  return 0;
}
