import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What quitting the desktop app does with running agents: keep them running in the PTY host (the
 * next launch takes them over) or stop them. The config's `keep_sessions` decides when it is set;
 * otherwise the user is asked, and may ask us to remember the answer (desktop-settings.json, 0600).
 */
export type QuitChoice = 'keep' | 'stop' | 'cancel';

export interface QuitDialogAnswer {
  choice: QuitChoice;
  remember: boolean;
}

export interface QuitDecisionInput {
  /** Live sessions (agents still running). */
  running: number;
  /** The config's keep_sessions (undefined: not set). */
  configured: boolean | undefined;
  /** The remembered answer, if any. */
  remembered: 'keep' | 'stop' | null;
  ask(running: number): Promise<QuitDialogAnswer>;
  remember(choice: 'keep' | 'stop'): void;
}

export async function decideQuit(input: QuitDecisionInput): Promise<QuitChoice> {
  if (input.running === 0) return 'stop'; // nothing to keep
  if (input.configured !== undefined) return input.configured ? 'keep' : 'stop';
  if (input.remembered) return input.remembered;
  const answer = await input.ask(input.running);
  if (answer.remember && answer.choice !== 'cancel') input.remember(answer.choice);
  return answer.choice;
}

/** The quit question as Electron's showMessageBox takes it; `answerOf` reads the result back. */
export function quitDialog(running: number) {
  const agents = running === 1 ? '1 agent is' : `${running} agents are`;
  return {
    options: {
      type: 'question' as const,
      buttons: ['Keep running', 'Stop agents', 'Cancel'],
      defaultId: 0,
      cancelId: 2,
      title: 'Quit AutoDev',
      message: `${agents} still running.`,
      detail:
        'Keep running: the agents go on in the background and AutoDev takes them over when you start it again. Stop agents: they are ended now.',
      checkboxLabel: 'Remember my choice',
      checkboxChecked: false,
    },
    answerOf(result: { response: number; checkboxChecked?: boolean }): QuitDialogAnswer {
      const choice: QuitChoice = result.response === 0 ? 'keep' : result.response === 1 ? 'stop' : 'cancel';
      return { choice, remember: result.checkboxChecked === true };
    },
  };
}

/** After "Keep running": the tray goes with the app, so a notification says that the agents go on. */
export function keptRunningNotice(running: number): { title: string; body: string } {
  const agents = running === 1 ? '1 agent keeps' : `${running} agents keep`;
  return { title: 'AutoDev', body: `${agents} running in the background; open AutoDev to see them.` };
}

interface DesktopSettings {
  on_quit?: 'keep' | 'stop';
}

export function readRememberedQuit(dataDir: string): 'keep' | 'stop' | null {
  try {
    const value = (
      JSON.parse(readFileSync(path.join(dataDir, 'desktop-settings.json'), 'utf8')) as DesktopSettings
    ).on_quit;
    return value === 'keep' || value === 'stop' ? value : null;
  } catch {
    return null;
  }
}

export function writeRememberedQuit(dataDir: string, choice: 'keep' | 'stop'): void {
  const file = path.join(dataDir, 'desktop-settings.json');
  let settings: DesktopSettings = {};
  try {
    settings = JSON.parse(readFileSync(file, 'utf8')) as DesktopSettings;
  } catch {}
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...settings, on_quit: choice }, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}
