import { ERROR_CODES, type ErrorBody, type ErrorCode } from '../../src-shared/errors.ts';
import {
  IPC_CHANNELS,
  IPC_COMMANDS,
  type IpcChannel,
  type IpcParsed,
  type IpcResult,
  validationError,
} from '../../src-shared/ipc.ts';
import type { Disposable } from '../core/util/event.ts';
import { checkSender, type FrameLike } from './sender-guard.ts';

/** The parts of Electron's `ipcMain` the router uses (a fake in tests). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface IpcInvokeEventLike {
  readonly senderFrame: FrameLike | null;
  readonly sender: { readonly id: number };
}

/** Handlers see the validated payload and the window that called. */
export type IpcHandler<C extends IpcChannel, W> = (payload: IpcParsed<C>, window: W) => unknown;
export type IpcHandlerMap<W> = { [C in IpcChannel]: IpcHandler<C, W> };

export interface IpcRouterOptions<W> {
  /** The window context for a webContents id, or undefined when it is not one of ours. */
  resolveWindow(webContentsId: number): W | undefined;
  log?(message: string): void;
}

/** An error a handler throws on purpose, with the code the renderer sees. */
export class IpcError extends Error {
  readonly error_code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.error_code = code;
  }
}

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Maps anything a handler throws to the `{error, error_code}` body; core errors keep their codes. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error !== null && typeof error === 'object') {
    const e = error as { error_code?: unknown; code?: unknown; message?: unknown; files?: unknown };
    const code = [e.error_code, e.code].find((c): c is ErrorCode => typeof c === 'string' && CODES.has(c));
    const message = typeof e.message === 'string' ? e.message : 'Internal error';
    // A worktree refusal names its files (merge conflict, dirty checkout, unsaved work).
    const files =
      Array.isArray(e.files) && e.files.every((f) => typeof f === 'string') && e.files.length > 0
        ? { files: (e.files as string[]).slice(0, 500) }
        : {};
    if (code) return { error: message, error_code: code, ...files };
    return { error: message, error_code: 'INTERNAL' };
  }
  return { error: String(error), error_code: 'INTERNAL' };
}

/**
 * Registers one `ipcMain.handle` per contract channel. Each call is checked in this order, failing
 * closed at every step: sender frame (top frame on app://bundle), calling window is ours, payload
 * matches the channel's schema. Handlers never see unvalidated input, and no rejection crosses IPC:
 * the renderer always gets an {@link IpcResult}.
 */
export function registerIpcHandlers<W>(
  ipcMain: IpcMainLike,
  handlers: IpcHandlerMap<W>,
  options: IpcRouterOptions<W>,
): Disposable {
  const log = options.log ?? (() => {});
  for (const channel of IPC_CHANNELS) {
    const schema = IPC_COMMANDS[channel];
    const handler = handlers[channel] as (payload: unknown, window: W) => unknown;
    ipcMain.handle(channel, async (event, ...args): Promise<IpcResult> => {
      let frame: FrameLike | null;
      try {
        frame = event?.senderFrame ?? null;
      } catch {
        frame = null; // the frame went away while the message was in flight
      }
      const verdict = checkSender(frame);
      if (!verdict.ok) {
        log(`[ipc] refused ${channel}: ${verdict.reason}`);
        return { ok: false, error: { error: 'Forbidden sender', error_code: 'FORBIDDEN' } };
      }
      const window = options.resolveWindow(event.sender.id);
      if (window === undefined) {
        log(`[ipc] refused ${channel}: webContents ${event.sender.id} is not an AutoDev window`);
        return { ok: false, error: { error: 'Forbidden sender', error_code: 'FORBIDDEN' } };
      }
      if (args.length > 1) {
        return {
          ok: false,
          error: { error: 'Expected one payload argument', error_code: 'VALIDATION_ERROR' },
        };
      }
      const parsed = schema.safeParse(args[0]);
      if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
      try {
        return { ok: true, value: await handler(parsed.data, window) };
      } catch (error) {
        const body = toErrorBody(error);
        if (body.error_code === 'INTERNAL')
          log(`[ipc] ${channel} failed: ${(error as Error)?.stack ?? error}`);
        return { ok: false, error: body };
      }
    });
  }
  return {
    dispose() {
      for (const channel of IPC_CHANNELS) ipcMain.removeHandler(channel);
    },
  };
}
