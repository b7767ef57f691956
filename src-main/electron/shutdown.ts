/**
 * Quit in the order that loses nothing: stop accepting remote viewers, close windows' consumers,
 * terminate every session (process groups, SIGTERM then SIGKILL — the manager's job), then flush
 * SQLite and close Redis (core.close). Each step is bounded so a stuck step never hangs the quit.
 */
export interface ShutdownStep {
  name: string;
  run(): Promise<unknown> | unknown;
}

export async function runShutdown(
  steps: readonly ShutdownStep[],
  options: { stepTimeoutMs?: number; log?(message: string): void } = {},
): Promise<{ name: string; ok: boolean; error?: string }[]> {
  const timeoutMs = options.stepTimeoutMs ?? 15_000;
  const log = options.log ?? (() => {});
  const results: { name: string; ok: boolean; error?: string }[] = [];
  for (const step of steps) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(() => step.run()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      results.push({ name: step.name, ok: true });
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      log(`[quit] ${step.name} failed: ${message}`);
      results.push({ name: step.name, ok: false, error: message });
    } finally {
      clearTimeout(timer);
    }
  }
  return results;
}
