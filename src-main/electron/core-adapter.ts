import type { DesktopCore } from './desktop-core.ts';
import type { DashboardBackend } from './lan-dashboard.ts';

export interface OpenedDesktopCore {
  core: DesktopCore;
  lanBackend: DashboardBackend;
  /** Env var names of all providers (the API keys settings can store). */
  providerEnvKeys: string[];
}

/** Composition root adapter: builds the core for the desktop app (data dir = Electron userData). */
export async function openDesktopCore(_options: {
  dataDir: string;
  appRoot: string;
}): Promise<OpenedDesktopCore> {
  throw new Error('core composition root (src-main/core/core.ts) not wired yet');
}
