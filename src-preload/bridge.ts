import type { AutoDevApi, TerminalAttachment, TerminalHandlers } from '../src-shared/api.ts';
import {
  type AutoDevDesktopApi,
  type AutoDevDesktopBridge,
  type DesktopEvent,
  IPC_EVENT_CHANNEL,
  type IpcBatch,
  type IpcChannel,
  type IpcPayload,
  type IpcResult,
} from '../src-shared/ipc.ts';
import type { LiveEvent } from '../src-shared/ws-protocol.ts';

/** The parts of Electron's `ipcRenderer` the bridge uses (a fake in tests). Never exposed. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** An IPC failure as the renderer sees it; the code is also in the message because contextBridge
 *  copies only `message` of errors crossing into the page. */
export class AutoDevIpcError extends Error {
  readonly error_code: string;
  readonly details: { path: string; message: string }[] | undefined;
  /** Files a worktree refusal is about (merge conflict, dirty checkout); also listed in the message. */
  readonly files: string[] | undefined;
  constructor(
    code: string,
    message: string,
    details?: { path: string; message: string }[],
    files?: string[],
  ) {
    super(
      `[${code}] ${message}${details?.length ? `: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}` : ''}`,
    );
    this.name = 'AutoDevIpcError';
    this.error_code = code;
    this.details = details;
    this.files = files;
  }
}

let attachmentCounter = 0;
function newAttachmentId(): string {
  attachmentCounter += 1;
  return `att-${Date.now().toString(36)}-${attachmentCounter}`;
}

/**
 * Builds `window.autodev`: AutoDevApi over `ipcRenderer.invoke` plus the `desktop` extras. Each
 * method is bound to its own fixed channel — no function here takes a channel name, and neither
 * `ipcRenderer` nor the IPC event object ever reaches the page. Output acks are coalesced per
 * attachment and sent after xterm's write callback (the `parsed` function handed to `onOutput`).
 */
export function createAutoDevBridge(
  ipc: IpcRendererLike,
  options: { schedule?: (fn: () => void) => void } = {},
): AutoDevDesktopBridge {
  const schedule = options.schedule ?? ((fn) => setTimeout(fn, 0));

  async function call<C extends IpcChannel, T>(channel: C, payload?: IpcPayload<C>): Promise<T> {
    const result = (await ipc.invoke(channel, payload)) as IpcResult<T> | undefined;
    if (!result || typeof result !== 'object') throw new AutoDevIpcError('INTERNAL', 'malformed IPC reply');
    if (!result.ok)
      throw new AutoDevIpcError(
        result.error.error_code,
        result.error.error,
        result.error.details,
        result.error.files,
      );
    return result.value;
  }
  const report = (p: Promise<unknown>) => {
    p.catch(() => {}); // fire-and-forget terminal commands: failures surface as status/error events
  };

  const terminals = new Map<string, TerminalHandlers>();
  const liveListeners = new Set<(event: LiveEvent) => void>();
  const desktopListeners = new Set<(event: DesktopEvent) => void>();
  const pendingAcks = new Map<string, number>();
  let ackScheduled = false;

  const flushAcks = () => {
    ackScheduled = false;
    for (const [attachment_id, chars] of pendingAcks) {
      if (chars > 0) report(call('autodev:terminal:ack', { attachment_id, chars }));
    }
    pendingAcks.clear();
  };
  const ack = (attachmentId: string, chars: number) => {
    if (!terminals.has(attachmentId)) return;
    pendingAcks.set(attachmentId, (pendingAcks.get(attachmentId) ?? 0) + chars);
    if (!ackScheduled) {
      ackScheduled = true;
      schedule(flushAcks);
    }
  };

  const safely = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      // A throwing page listener must not stop the rest of the batch.
      console.error('[autodev] listener failed:', error);
    }
  };

  ipc.on(IPC_EVENT_CHANNEL, (_event, raw) => {
    const batch = raw as IpcBatch;
    if (!batch || !Array.isArray(batch.items)) return;
    for (const item of batch.items) {
      switch (item.kind) {
        case 'output': {
          const handlers = terminals.get(item.attachment_id);
          if (!handlers) break;
          let acked = false;
          const chars = item.data.length;
          safely(() =>
            handlers.onOutput(item.seq, item.data, () => {
              if (acked) return;
              acked = true;
              ack(item.attachment_id, chars);
            }),
          );
          break;
        }
        case 'snapshot': {
          const handlers = terminals.get(item.attachment_id);
          if (handlers) safely(() => handlers.onSnapshot(item.snapshot));
          break;
        }
        case 'status': {
          const handlers = terminals.get(item.attachment_id);
          if (handlers) safely(() => handlers.onStatus(item.session));
          break;
        }
        case 'error': {
          const handlers = terminals.get(item.attachment_id);
          if (handlers) safely(() => handlers.onError({ error: item.error, error_code: item.error_code }));
          break;
        }
        case 'live':
          for (const listener of liveListeners) safely(() => listener(item.event));
          break;
        case 'desktop':
          for (const listener of desktopListeners) safely(() => listener(item.event));
          break;
      }
    }
  });

  const api: AutoDevApi = {
    transport: 'ipc',
    whoami: () => call('autodev:whoami'),
    listProviders: () => call('autodev:providers:list'),
    listSessions: (query) => call('autodev:sessions:list', query === undefined ? {} : { query }),
    getSession: (session_id) => call('autodev:sessions:get', { session_id }),
    createSession: (request) => call('autodev:sessions:create', { request }),
    renameSession: (session_id, name) => call('autodev:sessions:rename', { session_id, name }),
    terminateSession: (session_id) => call('autodev:sessions:terminate', { session_id }),
    resumeSession: (session_id) => call('autodev:sessions:resume', { session_id }),
    getDiagnostics: (session_id) => call('autodev:sessions:diagnostics', { session_id }),
    getHistory: (session_id, query) =>
      call('autodev:sessions:history', query === undefined ? { session_id } : { session_id, query }),
    search: (query) => call('autodev:search', { query }),
    exportSession: (session_id, format) => call('autodev:sessions:export', { session_id, format }),

    attach(
      sessionId: string,
      handlers: TerminalHandlers,
      attachOptions?: { lastSeq?: number },
    ): TerminalAttachment {
      const attachment_id = newAttachmentId();
      terminals.set(attachment_id, handlers);
      handlers.onConnectionChange?.('connecting');
      const payload =
        attachOptions?.lastSeq === undefined
          ? { attachment_id, session_id: sessionId }
          : { attachment_id, session_id: sessionId, last_seq: attachOptions.lastSeq };
      call('autodev:terminal:attach', payload).then(
        () => {
          if (terminals.has(attachment_id)) handlers.onConnectionChange?.('open');
        },
        (error: AutoDevIpcError) => {
          terminals.delete(attachment_id);
          safely(() =>
            handlers.onError({ error: error.message, error_code: error.error_code ?? 'INTERNAL' }),
          );
          handlers.onConnectionChange?.('closed');
        },
      );
      return {
        input: (data) => report(call('autodev:terminal:input', { attachment_id, data })),
        command: (text) => report(call('autodev:terminal:command', { attachment_id, text })),
        resize: (cols, rows) => report(call('autodev:terminal:resize', { attachment_id, cols, rows })),
        focus: () => report(call('autodev:terminal:focus', { attachment_id })),
        interrupt: () => report(call('autodev:terminal:interrupt', { attachment_id })),
        detach: () => {
          if (!terminals.delete(attachment_id)) return;
          pendingAcks.delete(attachment_id);
          report(call('autodev:terminal:detach', { attachment_id }));
          handlers.onConnectionChange?.('closed');
        },
      };
    },

    onEvent(listener) {
      liveListeners.add(listener);
      if (liveListeners.size === 1) report(call('autodev:events:subscribe'));
      return () => {
        if (liveListeners.delete(listener) && liveListeners.size === 0)
          report(call('autodev:events:unsubscribe'));
      };
    },

    submitTasks: (tasks) => call('autodev:tasks:submit', { tasks }),
    listTasks: (query) => call('autodev:tasks:list', query === undefined ? {} : { query }),
    getTask: (task_id) => call('autodev:tasks:get', { task_id }),
    controlTask: (task_id, action) => call('autodev:tasks:control', { task_id, action }),
    getTaskDetail: (task_id) => call('autodev:tasks:detail', { task_id }),
    getTaskMetrics: () => call('autodev:tasks:metrics'),

    getChanges: (session_id, query) =>
      call('autodev:changes:get', query === undefined ? { session_id } : { session_id, query }),
    commitChanges: (session_id, message) => call('autodev:changes:commit', { session_id, message }),
    mergeChanges: (session_id, request) => call('autodev:changes:merge', { session_id, request }),
    discardChanges: (session_id) => call('autodev:changes:discard', { session_id }),
    endSession: (session_id, options) =>
      call('autodev:sessions:end', {
        session_id,
        remove_worktree: options.removeWorktree === true,
        force: options.force === true,
      }),
    listWorktrees: () => call('autodev:worktrees:list'),
    inspectRepository: (path) => call('autodev:worktrees:inspect', { path }),
    getUsage: (query) => call('autodev:usage:report', query === undefined ? {} : { query }),
    getSessionUsage: (session_id) => call('autodev:usage:session', { session_id }),
  };

  const desktop: AutoDevDesktopApi = {
    setViewedSession: (session_id) => call('autodev:desktop:view', { session_id }),
    lanStatus: () => call('autodev:desktop:lan:status'),
    startLan: (opts) =>
      call('autodev:desktop:lan:start', {
        ...(opts?.host ? { host: opts.host } : {}),
        ...(opts?.port !== undefined ? { port: opts.port } : {}),
      }),
    stopLan: () => call('autodev:desktop:lan:stop'),
    listSecrets: () => call('autodev:desktop:secrets:list'),
    setSecret: (name, value, opts) =>
      call('autodev:desktop:secrets:set', {
        name,
        value,
        ...(opts?.allowPlaintext ? { allow_plaintext: true } : {}),
      }),
    deleteSecret: (name) => call('autodev:desktop:secrets:delete', { name }),
    openExternal: (url) => call('autodev:desktop:open-external', { url }),
    selectDirectory: () => call('autodev:desktop:select-directory'),
    onDesktopEvent(listener) {
      desktopListeners.add(listener);
      return () => {
        desktopListeners.delete(listener);
      };
    },
  };

  return Object.freeze({ ...api, desktop: Object.freeze(desktop) });
}
