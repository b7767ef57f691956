import type { DesktopEvent, IpcBatch, IpcEventItem } from '../../src-shared/ipc.ts';
import {
  HistoryQuerySchema,
  SearchQuerySchema,
  SessionListQuerySchema,
  TaskListQuerySchema,
} from '../../src-shared/rest.ts';
import type { SessionInfo, SessionState } from '../../src-shared/session.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import { DisposableStore } from '../core/util/event.ts';
import { type AttentionEvent, notificationFor, type ViewState } from './attention.ts';
import type { DesktopCore } from './desktop-core.ts';
import { IpcError, type IpcHandlerMap } from './ipc-router.ts';
import type { LanDashboard } from './lan-dashboard.ts';
import { isAllowedExternalUrl } from './navigation.ts';
import type { SecretStore } from './secret-store.ts';
import { WindowAttachments } from './terminal-attachments.ts';
import { type TimerLike, WindowEventChannel } from './window-events.ts';

/** Per-window state: its batch channel, its terminal attachments, what it is looking at. */
export interface WindowContext {
  readonly id: number;
  readonly channel: WindowEventChannel;
  readonly attachments: WindowAttachments;
  subscribed: boolean;
  viewedSessionId: string | null;
  isFocused(): boolean;
}

export interface DesktopControllerDeps {
  core: DesktopCore;
  secrets: SecretStore;
  lan: LanDashboard;
  /** Show a desktop notification (Electron `Notification` in main.ts). */
  notify(event: AttentionEvent): void;
  /** Sessions changed: refresh the tray tooltip / badge. */
  sessionsChanged(sessions: SessionInfo[]): void;
  /** Bring a window to the front (notification click). */
  focusWindow(windowId: number): void;
  /** shell.openExternal; only called for allow-listed https URLs. */
  openExternal(url: string): unknown;
  /** Native folder picker attached to the window; null when cancelled. */
  selectDirectory(windowId: number): Promise<string | null>;
  log?(message: string): void;
  timers?: TimerLike;
}

/**
 * The Electron-free heart of the desktop shell: routes validated IPC commands to the core, fans
 * core events out to windows as batched events, decides notifications and tray counts. main.ts only
 * adapts Electron objects to it, so all of this runs under unit tests with fakes.
 */
export class DesktopController {
  private readonly _deps: DesktopControllerDeps;
  private readonly _windows = new Map<number, WindowContext>();
  private readonly _disposables = new DisposableStore();
  /** Last state and auth flag seen per session, so each change notifies at most once. */
  private readonly _seen = new Map<string, { state: SessionState; auth: boolean }>();

  constructor(deps: DesktopControllerDeps) {
    this._deps = deps;
    const { sessions } = deps.core;
    this._disposables.add(
      sessions.onDidCreate((session) => {
        this._seen.set(session.session_id, { state: session.state, auth: session.authentication_required });
        this._live({ kind: 'session_created', session });
        this._sessionsChanged();
      }),
    );
    this._disposables.add(
      sessions.onDidChangeState(({ session }) => {
        this._live({ kind: 'session_state', session });
        this._sessionUpdated(session);
      }),
    );
    this._disposables.add(
      sessions.onDidExit((session) => {
        this._live({ kind: 'session_exited', session });
        this._sessionUpdated(session);
      }),
    );
    // A new PTY size reaches the views that do not own it, so they fit it locally.
    this._disposables.add(sessions.onDidResize((session) => this._sessionUpdated(session)));
    this._disposables.add(
      sessions.onDidRemove((sessionId) => {
        this._seen.delete(sessionId);
        this._live({ kind: 'session_removed', session_id: sessionId });
        this._sessionsChanged();
      }),
    );
    if (deps.core.onLiveEvent) this._disposables.add(deps.core.onLiveEvent((event) => this._live(event)));
    this._disposables.add(deps.lan.onDidChange((status) => this.desktopEvent({ kind: 'lan', status })));
  }

  get windowCount(): number {
    return this._windows.size;
  }

  addWindow(
    id: number,
    send: (batch: IpcBatch) => void,
    isFocused: () => boolean = () => true,
  ): WindowContext {
    const channel = new WindowEventChannel(send, this._deps.timers ? { timers: this._deps.timers } : {});
    const context: WindowContext = {
      id,
      channel,
      attachments: new WindowAttachments(this._deps.core.sessions, (item) => channel.push(item)),
      subscribed: false,
      viewedSessionId: null,
      isFocused,
    };
    this._windows.set(id, context);
    return context;
  }

  /** The window closed or its renderer went away: drop its consumers so they never pause a PTY. */
  removeWindow(id: number): void {
    const context = this._windows.get(id);
    if (!context) return;
    this._windows.delete(id);
    context.attachments.dispose();
    context.channel.dispose();
  }

  resolveWindow(id: number): WindowContext | undefined {
    return this._windows.get(id);
  }

  private _broadcast(item: IpcEventItem, onlySubscribed: boolean): void {
    for (const w of this._windows.values()) if (!onlySubscribed || w.subscribed) w.channel.push(item);
  }

  private _live(event: LiveEvent): void {
    this._broadcast({ kind: 'live', event }, true);
  }

  desktopEvent(event: DesktopEvent): void {
    this._broadcast({ kind: 'desktop', event }, false);
  }

  viewState(sessionId: string): ViewState {
    for (const w of this._windows.values()) {
      if (w.viewedSessionId === sessionId && w.isFocused())
        return { windowFocused: true, viewedSessionId: sessionId };
    }
    const focused = [...this._windows.values()].find((w) => w.isFocused());
    return { windowFocused: focused !== undefined, viewedSessionId: focused?.viewedSessionId ?? null };
  }

  private _sessionUpdated(session: SessionInfo): void {
    for (const w of this._windows.values()) w.attachments.status(session);
    const seen = this._seen.get(session.session_id) ?? { state: 'starting' as SessionState, auth: false };
    const event = notificationFor(session, seen.state, this.viewState(session.session_id), seen.auth);
    this._seen.set(session.session_id, { state: session.state, auth: session.authentication_required });
    if (event) {
      try {
        this._deps.notify(event);
      } catch (error) {
        this._deps.log?.(`[notify] failed: ${(error as Error).message}`);
      }
    }
    this._sessionsChanged();
  }

  private _sessionsChanged(): void {
    this._deps.sessionsChanged(this._deps.core.sessions.list());
  }

  /** A notification was clicked: front the window showing (or best able to show) the session. */
  focusSession(sessionId: string): void {
    const target =
      [...this._windows.values()].find((w) => w.viewedSessionId === sessionId) ??
      this._windows.values().next().value;
    if (!target) return;
    this._deps.focusWindow(target.id);
    target.channel.push({ kind: 'desktop', event: { kind: 'focus_session', session_id: sessionId } });
  }

  private _session(sessionId: string): SessionInfo {
    const session = this._deps.core.sessions.get(sessionId) ?? this._deps.core.store?.getSession(sessionId);
    if (!session) throw new IpcError('NOT_FOUND', `session ${sessionId} not found`);
    return session;
  }

  private _worktrees() {
    const worktrees = this._deps.core.worktrees;
    if (!worktrees) throw new IpcError('INTERNAL', 'worktrees are not available');
    return worktrees;
  }

  private _tasks() {
    const tasks = this._deps.core.tasks;
    if (!tasks) throw new IpcError('INTERNAL', 'the task runner is not available');
    return tasks;
  }

  private _usage() {
    const usage = this._deps.core.usage;
    if (!usage) throw new IpcError('INTERNAL', 'usage is not available (no persistence)');
    return usage;
  }

  /** Stored API keys for the provider's env keys, unless the request sets them itself. */
  private async _secretEnv(cliTool: string): Promise<Record<string, string>> {
    const provider = (await this._deps.core.listProviders()).find((p) => p.id === cliTool);
    const env: Record<string, string> = {};
    for (const key of provider?.env_keys ?? []) {
      const value = this._deps.secrets.get(key);
      if (value !== undefined) env[key] = value;
    }
    return env;
  }

  handlers(): IpcHandlerMap<WindowContext> {
    const core = this._deps.core;
    const sessions = core.sessions;
    const lan = this._deps.lan;
    const secrets = this._deps.secrets;
    return {
      'autodev:whoami': () => ({ user_id: 'local', scope: 'control', mode: 'desktop' }),
      'autodev:providers:list': () => core.listProviders(),
      'autodev:sessions:list': ({ query }) => {
        const q = SessionListQuerySchema.parse(query ?? {});
        if (core.store) return core.store.listSessions(q);
        const all = sessions
          .list()
          .filter((s) => !q.cli_tool || s.cli_tool === q.cli_tool)
          .filter((s) => !q.user_id || s.user_id === q.user_id)
          .filter((s) => {
            if (!q.status) return true;
            const ended = s.state === 'completed' || s.state === 'terminated';
            if (q.status === 'active') return !ended;
            if (q.status === 'ended') return ended;
            return s.state === q.status;
          });
        return {
          items: all.slice(q.offset, q.offset + q.limit),
          total: all.length,
          limit: q.limit,
          offset: q.offset,
        };
      },
      'autodev:sessions:get': ({ session_id }) => this._session(session_id),
      'autodev:sessions:create': async ({ request }) => {
        const env = { ...(await this._secretEnv(request.cli_tool)), ...request.env };
        // "Isolate in a worktree": the worktree service makes it, then the session in it.
        if (request.worktree) return this._worktrees().createSession({ ...request, env });
        return sessions.create({ ...request, env });
      },
      'autodev:sessions:end': async ({ session_id, remove_worktree, force }) => {
        this._session(session_id);
        if (remove_worktree) return this._worktrees().endSession(session_id, { removeWorktree: true, force });
        const live = sessions.get(session_id);
        if (live && live.ended_at === null) await sessions.terminate(session_id, 'user');
        const after = this._session(session_id);
        return { session_id, status: after.state, session: after, worktree_removed: null };
      },
      'autodev:sessions:rename': ({ session_id, name }) => {
        this._session(session_id);
        return sessions.rename(session_id, name);
      },
      'autodev:sessions:terminate': async ({ session_id }) => {
        this._session(session_id);
        await sessions.terminate(session_id, 'user');
      },
      'autodev:sessions:resume': async ({ session_id }) => {
        if (!core.resumeSession) throw new IpcError('CONFLICT', 'this build cannot resume sessions');
        return core.resumeSession(session_id);
      },
      'autodev:sessions:diagnostics': ({ session_id }) => {
        this._session(session_id);
        return sessions.diagnostics(session_id);
      },
      'autodev:sessions:history': ({ session_id, query }) => {
        this._session(session_id);
        return core.store?.history(session_id, HistoryQuerySchema.parse(query ?? {})) ?? [];
      },
      'autodev:sessions:export': ({ session_id, format }) => {
        this._session(session_id);
        if (!core.store) throw new IpcError('PERSISTENCE_PAUSED', 'history store is not available');
        return core.store.exportSession(session_id, format);
      },
      'autodev:search': ({ query }) => core.store?.search(SearchQuerySchema.parse(query)) ?? [],

      'autodev:terminal:attach': ({ attachment_id, session_id, last_seq }, w) =>
        w.attachments.open(attachment_id, session_id, last_seq),
      'autodev:terminal:input': ({ attachment_id, data }, w) => w.attachments.input(attachment_id, data),
      'autodev:terminal:command': ({ attachment_id, text }, w) => w.attachments.command(attachment_id, text),
      'autodev:terminal:resize': ({ attachment_id, cols, rows }, w) =>
        w.attachments.resize(attachment_id, cols, rows),
      'autodev:terminal:focus': ({ attachment_id }, w) => w.attachments.focus(attachment_id),
      'autodev:terminal:interrupt': ({ attachment_id }, w) => w.attachments.interrupt(attachment_id),
      'autodev:terminal:detach': ({ attachment_id }, w) => w.attachments.detach(attachment_id),
      'autodev:terminal:ack': ({ attachment_id, chars }, w) => w.attachments.ack(attachment_id, chars),

      'autodev:events:subscribe': (_p, w) => {
        w.subscribed = true;
      },
      'autodev:events:unsubscribe': (_p, w) => {
        w.subscribed = false;
      },

      'autodev:tasks:submit': ({ tasks }) => this._tasks().submit(tasks),
      'autodev:tasks:list': ({ query }) => this._tasks().list(TaskListQuerySchema.parse(query ?? {})),
      'autodev:tasks:get': async ({ task_id }) => {
        const task = await this._tasks().get(task_id);
        if (!task) throw new IpcError('NOT_FOUND', `task ${task_id} not found`);
        return task;
      },
      'autodev:tasks:control': ({ task_id, action }) => this._tasks().control(task_id, action),
      'autodev:tasks:detail': ({ task_id }) => {
        const tasks = this._tasks();
        if (!tasks.detail) throw new IpcError('INTERNAL', 'task details are not available');
        return tasks.detail(task_id);
      },
      'autodev:tasks:metrics': () => {
        const tasks = this._tasks();
        if (!tasks.metrics) throw new IpcError('INTERNAL', 'task metrics are not available');
        return tasks.metrics();
      },

      'autodev:changes:get': ({ session_id, query }) =>
        this._worktrees().changes(session_id, query?.path !== undefined ? { path: query.path } : {}),
      'autodev:changes:commit': ({ session_id, message }) => this._worktrees().commit(session_id, message),
      'autodev:changes:merge': ({ session_id, request }) => this._worktrees().merge(session_id, request),
      'autodev:changes:discard': ({ session_id }) => this._worktrees().discard(session_id),
      'autodev:worktrees:list': () => this._worktrees().list(),
      'autodev:worktrees:inspect': ({ path }) => this._worktrees().inspect(path),
      'autodev:usage:report': ({ query }) => this._usage().report(query ?? {}),
      'autodev:usage:session': ({ session_id }) => {
        const found = this._usage().session(session_id);
        if (!found) throw new IpcError('NOT_FOUND', `no usage recorded for session ${session_id}`);
        return found;
      },

      'autodev:desktop:view': ({ session_id }, w) => {
        w.viewedSessionId = session_id;
      },
      'autodev:desktop:lan:status': () => lan.status(),
      'autodev:desktop:lan:start': (options) => lan.start(options),
      'autodev:desktop:lan:stop': () => lan.stop(),
      'autodev:desktop:secrets:list': () => secrets.info(),
      'autodev:desktop:secrets:set': ({ name, value, allow_plaintext }) =>
        secrets.set(name, value, { allowPlaintext: allow_plaintext === true }),
      'autodev:desktop:secrets:delete': ({ name }) => secrets.delete(name),
      'autodev:desktop:open-external': ({ url }) => {
        if (!isAllowedExternalUrl(url)) return false;
        void this._deps.openExternal(url);
        return true;
      },
      'autodev:desktop:select-directory': (_p, w) => this._deps.selectDirectory(w.id),
    };
  }

  dispose(): void {
    for (const id of [...this._windows.keys()]) this.removeWindow(id);
    this._disposables.dispose();
  }
}
