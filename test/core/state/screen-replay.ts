// Replays a recorded screen (test/fixtures/screens/*.ans) into a detector driven by a fake clock.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import { createStateDetector } from '../../../src-main/core/state/detector.ts';
import type { ScreenStateDetector } from '../../../src-main/core/state/types.ts';

export const SCREENS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/screens',
);

export function provider(id: string): ProviderDefinition {
  const def = defaultProviders({ SHELL: '/bin/bash' }).find((p) => p.id === id);
  if (def === undefined) throw new Error(`no provider ${id}`);
  return def;
}

export function screen(name: string): string {
  return readFileSync(path.join(SCREENS_DIR, `${name}.ans`), 'utf8');
}

export interface Clocked {
  detector: ScreenStateDetector;
  clock: { t: number };
  /** Write and resolve once xterm parsed it. */
  write(data: string): Promise<void>;
}

export function clockedDetector(def: ProviderDefinition, cols = 80, rows = 24): Clocked {
  const clock = { t: 1_000_000 };
  const detector = createStateDetector(def, { cols, rows, now: () => clock.t });
  return {
    detector,
    clock,
    write: (data) => new Promise((resolve) => detector.write(data, resolve)),
  };
}
