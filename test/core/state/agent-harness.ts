// Runs a fake agent in a real PTY (node-pty, as the session manager will) and pipes its output into a
// real state detector, recording every detection. Not a test file: shared by the *.test.ts here.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import { createStateDetector } from '../../../src-main/core/state/detector.ts';
import type { Detection, ScreenStateDetector } from '../../../src-main/core/state/types.ts';

export const AGENTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/agents');

export interface AgentRun {
  term: pty.IPty;
  detector: ScreenStateDetector;
  detections: Detection[];
  exitCode: Promise<number>;
  /** Raw keys, as a user types them (noted on the detector the way the manager will). */
  type(data: string): void;
  /** Text then Enter, as the manager's command(). */
  command(text: string): void;
  waitFor(what: string, predicate: () => boolean, timeoutMs?: number): Promise<void>;
  waitForState(
    state: Detection['state'],
    extra?: (d: Detection) => boolean,
    timeoutMs?: number,
  ): Promise<Detection>;
  /** Detected states, consecutive duplicates removed. */
  stateSequence(): string[];
  close(): Promise<void>;
}

export function runAgent(
  script: string,
  def: ProviderDefinition,
  options: { env?: Record<string, string>; cols?: number; rows?: number; args?: string[] } = {},
): AgentRun {
  const cols = options.cols ?? 100;
  const rows = options.rows ?? 30;
  const detector = createStateDetector(def, { cols, rows });
  const detections: Detection[] = [detector.evaluate()];
  detector.onDidDetect((d) => detections.push(d));
  const env: Record<string, string> = {
    PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: process.env.HOME ?? '/tmp',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    ...options.env,
  };
  const term = pty.spawn(
    path.isAbsolute(script) ? script : path.join(AGENTS_DIR, script),
    options.args ?? [],
    {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: AGENTS_DIR,
      env,
    },
  );
  term.onData((data) => detector.write(data));
  const exitCode = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  let exited = false;
  void exitCode.then(() => {
    exited = true;
  });

  const waitFor = async (what: string, predicate: () => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        const last = detections[detections.length - 1];
        throw new Error(
          `timed out waiting for ${what}; last detection ${JSON.stringify(last)}; states ${JSON.stringify(
            run.stateSequence(),
          )}\n--- screen ---\n${detector.screenText()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const run: AgentRun = {
    term,
    detector,
    detections,
    exitCode,
    type(data) {
      detector.noteInput('input', data);
      term.write(data);
    },
    command(text) {
      detector.noteInput('command', text);
      term.write(`\x1b[200~${text}\x1b[201~`);
      term.write('\r');
    },
    waitFor,
    async waitForState(state, extra = () => true, timeoutMs) {
      let found: Detection | undefined;
      await waitFor(
        `state ${state}`,
        () => {
          const d = detector.evaluate();
          if (d.state === state && extra(d)) found = d;
          return found !== undefined;
        },
        timeoutMs,
      );
      return found!;
    },
    stateSequence() {
      const out: string[] = [];
      for (const d of detections) if (out[out.length - 1] !== d.state) out.push(d.state);
      return out;
    },
    async close() {
      if (!exited) {
        try {
          term.kill('SIGKILL');
        } catch {
          // already gone
        }
        await Promise.race([exitCode, new Promise((r) => setTimeout(r, 5000))]);
      }
      detector.dispose();
    },
  };
  return run;
}
