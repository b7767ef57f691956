import { type ChildProcess, spawn } from 'node:child_process';
import { fakeElectronArgs, ROOT } from './helpers.ts';

/** Values from the app under test: tests index into them and assert on their shape. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
type Json = any;

/** A message box main showed, as Electron's showMessageBox options. */
export interface DialogOptions {
  type?: string;
  title?: string;
  message: string;
  detail?: string;
  buttons: string[];
  defaultId?: number;
  cancelId?: number;
  checkboxLabel?: string;
}

export type DialogAnswer = number | { response: number; checkboxChecked?: boolean };

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The code main passed to app.exit, with what it did up to then; null when it never called it. */
  appExit: { code: number; calls: string[]; notifications: { title: string; body: string }[] } | null;
}

/** One launch of the desktop app: src-main/electron/main.ts under the fake electron, in a child process. */
export interface DrivenDesktop {
  child: ChildProcess;
  /** The window and IPC handlers are up (rejects if the app exits first). */
  ready: Promise<void>;
  /** How the process ended: its code or the signal that killed it, and main's app.exit (null: none). */
  exited: Promise<Exit>;
  /** Every message box main showed so far, in order. */
  dialogs: DialogOptions[];
  /** An IPC call as the app's own renderer makes it; resolves with the router's {ok, value|error}. */
  invoke(channel: string, payload?: unknown): Promise<Json>;
  tray(): Promise<{ tooltip: string; menu: { label: string; enabled: boolean }[] }>;
  notifications(): Promise<{ title: string; body: string }[]>;
  calls(): Promise<string[]>;
  /** app.quit(), as the tray's Quit or the window's close would; resolves with the exit (rejects
   *  when there is none within `timeoutMs`, default 30 s). */
  quit(timeoutMs?: number): Promise<Exit>;
  /** app.quit() without waiting for an exit (the user may cancel). */
  requestQuit(): Promise<void>;
  output(): string;
}

/**
 * Starts the desktop main process on `userData` (HOME too: a temporary one, as interactive shells need).
 * `answer` plays the user at each message box (default: the dialog's cancel button).
 */
export function launchDesktop(
  t: { after(fn: () => unknown): void },
  userData: string,
  options: {
    env?: Record<string, string>;
    answer?: (dialog: DialogOptions) => DialogAnswer;
    /** `ready` rejects after this long (default 60 s). */
    readyTimeoutMs?: number;
  } = {},
): DrivenDesktop {
  const child = spawn(process.execPath, fakeElectronArgs('test/electron/fixtures/driven-main.mjs'), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      PATH: process.env['PATH'],
      HOME: userData,
      SHELL: '/bin/bash',
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      AUTODEV_USER_DATA_DIR: userData,
      AUTODEV_LOG_LEVEL: 'warn',
      FAKE_SCENARIO: 'driven',
      ...options.env,
    },
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const dialogs: DialogOptions[] = [];
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let appExit: Exit['appExit'] = null;
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  ready.catch(() => {}); // a test that expects the app to exit before it is ready never awaits it
  const readyTimer = setTimeout(
    () => readyReject(new Error(`the app was not ready in time:\n${out.slice(-3000)}`)),
    options.readyTimeoutMs ?? 60_000,
  );
  void ready.then(
    () => clearTimeout(readyTimer),
    () => clearTimeout(readyTimer),
  );
  const exited = new Promise<Exit>((resolve) =>
    // 'close', not 'exit': every message the app sent (its exit code among them) is in by then.
    child.once('close', (code, signal) => {
      readyReject(
        new Error(
          `the app exited (code ${code}, signal ${signal}) before it was ready:\n${out.slice(-3000)}`,
        ),
      );
      for (const p of pending.values()) p.reject(new Error(`the app exited:\n${out.slice(-3000)}`));
      resolve({ code, signal, appExit });
    }),
  );

  child.on('message', (message: Json) => {
    if (message.type === 'ready') readyResolve();
    else if (message.type === 'exit')
      appExit = { code: message.code, calls: message.calls, notifications: message.notifications };
    else if (message.type === 'dialog') {
      dialogs.push(message.options);
      const answer = options.answer
        ? options.answer(message.options)
        : (message.options.cancelId ?? message.options.buttons.length - 1);
      const { response, checkboxChecked } = typeof answer === 'number' ? { response: answer } : answer;
      child.send({ type: 'answer', id: message.id, response, checkboxChecked });
    } else if (message.type === 'result') {
      const p = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) p?.resolve(message.value);
      else p?.reject(new Error(message.error));
    }
  });

  const call = (op: string, ...args: unknown[]): Promise<Json> =>
    new Promise((resolve, reject) => {
      if (!child.connected) {
        reject(new Error(`the app is gone:\n${out.slice(-3000)}`));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ type: 'call', id, op, args });
    });

  return {
    child,
    ready,
    exited,
    dialogs,
    // (No payload stays no payload: over the IPC channel an undefined argument would become null.)
    invoke: (channel, payload) =>
      payload === undefined ? call('invoke', channel) : call('invoke', channel, payload),
    tray: () => call('tray'),
    notifications: () => call('notifications'),
    calls: () => call('calls'),
    async quit(timeoutMs = 30_000) {
      await call('quit');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the app did not exit:\n${out.slice(-3000)}`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async requestQuit() {
      await call('quit');
    },
    output: () => out,
  };
}
