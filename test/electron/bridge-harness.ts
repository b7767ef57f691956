import { DesktopController, type DesktopControllerDeps } from '../../src-main/electron/desktop-controller.ts';
import { registerIpcHandlers } from '../../src-main/electron/ipc-router.ts';
import type { FrameLike } from '../../src-main/electron/sender-guard.ts';
import { type AutoDevDesktopBridge, IPC_EVENT_CHANNEL, type IpcBatch } from '../../src-shared/ipc.ts';
import { APP_FRAME, FakeIpcMain } from './fakes.ts';
import { runSandboxedPreload } from './helpers.ts';

/**
 * The whole desktop IPC path in one process: the bundled preload (as a sandboxed page would run it)
 * → a fake ipcRenderer that structured-clones like Electron → the real router (sender + schema
 * checks) → the real DesktopController → the core. Batches travel back the same way.
 */
export function connectWindow(
  controller: DesktopController,
  ipcMain: FakeIpcMain,
  preloadFile: string,
  options: { webContentsId: number; frame?: FrameLike; focused?: () => boolean },
) {
  const listeners: ((event: unknown, batch: unknown) => void)[] = [];
  const invocations: { channel: string; payload: unknown }[] = [];
  const batches: IpcBatch[] = [];
  const frame = options.frame ?? APP_FRAME;
  const ipcRenderer = {
    async invoke(channel: string, ...args: unknown[]) {
      invocations.push({ channel, payload: args[0] });
      const cloned = args.map((a) => (a === undefined ? a : structuredClone(a)));
      return structuredClone(await ipcMain.invoke(channel, frame, options.webContentsId, ...cloned));
    },
    on(channel: string, listener: (event: unknown, batch: unknown) => void) {
      if (channel === IPC_EVENT_CHANNEL) listeners.push(listener);
    },
  };
  const context = controller.addWindow(
    options.webContentsId,
    (batch) => {
      const copy = structuredClone(batch);
      batches.push(copy);
      // Electron delivers asynchronously; so do we.
      setImmediate(() => {
        for (const l of listeners) l({}, copy);
      });
    },
    options.focused ?? (() => true),
  );
  let api: AutoDevDesktopBridge | null = null;
  runSandboxedPreload(preloadFile, {
    contextBridge: {
      exposeInMainWorld: (_key: string, value: AutoDevDesktopBridge) => {
        api = value;
      },
    },
    ipcRenderer,
  });
  return { api: api! as AutoDevDesktopBridge, context, invocations, batches };
}

export function createHarness(deps: DesktopControllerDeps) {
  const ipcMain = new FakeIpcMain();
  const controller = new DesktopController(deps);
  const router = registerIpcHandlers(ipcMain, controller.handlers(), {
    resolveWindow: (id) => controller.resolveWindow(id),
  });
  return {
    ipcMain,
    controller,
    dispose() {
      router.dispose();
      controller.dispose();
    },
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | null,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
