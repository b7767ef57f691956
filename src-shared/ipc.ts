import { z } from 'zod';
import type { AutoDevApi } from './api.ts';
import type { ErrorBody } from './errors.ts';
import { IdSchema } from './ids.ts';
import {
  HistoryQuerySchema,
  SearchQuerySchema,
  SessionListQuerySchema,
  TaskListQuerySchema,
} from './rest.ts';
import type { SessionInfo } from './session.ts';
import { CreateSessionRequestSchema } from './session.ts';
import { SubmitTaskSchema } from './tasks.ts';
import { UsageQuerySchema } from './usage.ts';
import {
  ChangesQuerySchema,
  CommitRequestSchema,
  InspectQuerySchema,
  MergeRequestSchema,
} from './worktrees.ts';
import type { LiveEvent, SnapshotMessageData } from './ws-protocol.ts';

/**
 * The Electron IPC contract between the preload bridge and the main process.
 *
 * - Commands are `ipcRenderer.invoke` on one of the channels below; the main process answers with an
 *   {@link IpcResult} envelope (never a rejected promise: Electron drops every field of a thrown error
 *   except its message, and the renderer needs `error_code`).
 * - Output, snapshots, terminal status and live events travel main → renderer as {@link IpcBatch}es on
 *   {@link IPC_EVENT_CHANNEL}, cut per window every {@link IPC_BATCH_INTERVAL_MS} or at
 *   {@link IPC_BATCH_MAX_BYTES}. The renderer acknowledges output characters after xterm parsed them
 *   (`terminal.ack`); the main process passes the ack to the session manager, which pauses the PTY
 *   while a window lags. There is no `sendSync` anywhere.
 * - Every payload is validated here in the main process; strings are bounded so a 10 MB argument is a
 *   validation error, not an allocation.
 */

export const IPC_EVENT_CHANNEL = 'autodev:events';
export const IPC_BATCH_INTERVAL_MS = 16;
export const IPC_BATCH_MAX_BYTES = 64 * 1024;

const SessionRef = z.strictObject({ session_id: IdSchema });
const AttachmentRef = { attachment_id: IdSchema };
const Empty = z.strictObject({}).optional();

/** Names of secrets the desktop app may store (env keys the providers read). */
export const SecretNameSchema = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an env var name');

/** Every invoke channel with its payload schema. The preload maps each AutoDevApi method to one. */
export const IPC_COMMANDS = {
  'autodev:whoami': Empty,
  'autodev:providers:list': Empty,
  'autodev:sessions:list': z.strictObject({ query: SessionListQuerySchema.optional() }),
  'autodev:sessions:get': SessionRef,
  'autodev:sessions:create': z.strictObject({ request: CreateSessionRequestSchema }),
  'autodev:sessions:rename': z.strictObject({ session_id: IdSchema, name: z.string().min(1).max(200) }),
  'autodev:sessions:terminate': SessionRef,
  'autodev:sessions:resume': SessionRef,
  'autodev:sessions:diagnostics': SessionRef,
  'autodev:sessions:history': z.strictObject({ session_id: IdSchema, query: HistoryQuerySchema.optional() }),
  'autodev:sessions:export': z.strictObject({ session_id: IdSchema, format: z.enum(['json', 'text']) }),
  'autodev:search': z.strictObject({ query: SearchQuerySchema }),

  /** Opens a flow-controlled attachment owned by the calling window; events carry its id. */
  'autodev:terminal:attach': z.strictObject({
    ...AttachmentRef,
    session_id: IdSchema,
    last_seq: z.number().int().min(0).optional(),
  }),
  'autodev:terminal:input': z.strictObject({ ...AttachmentRef, data: z.string().max(60_000) }),
  'autodev:terminal:command': z.strictObject({ ...AttachmentRef, text: z.string().max(100_000) }),
  'autodev:terminal:resize': z.strictObject({
    ...AttachmentRef,
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(500),
  }),
  'autodev:terminal:focus': z.strictObject(AttachmentRef),
  'autodev:terminal:interrupt': z.strictObject(AttachmentRef),
  'autodev:terminal:detach': z.strictObject(AttachmentRef),
  /** Characters xterm has parsed since the last ack (the flow-control credit). */
  'autodev:terminal:ack': z.strictObject({
    ...AttachmentRef,
    chars: z
      .number()
      .int()
      .min(0)
      .max(1 << 30),
  }),

  /** The window wants live events (session list changes, task progress, desktop events). */
  'autodev:events:subscribe': Empty,
  'autodev:events:unsubscribe': Empty,

  'autodev:tasks:submit': z.strictObject({ tasks: z.array(SubmitTaskSchema).min(1).max(1000) }),
  'autodev:tasks:list': z.strictObject({ query: TaskListQuerySchema.optional() }),
  'autodev:tasks:get': z.strictObject({ task_id: IdSchema }),
  'autodev:tasks:control': z.strictObject({
    task_id: IdSchema,
    action: z.enum(['cancel', 'pause', 'resume']),
  }),
  'autodev:tasks:detail': z.strictObject({ task_id: IdSchema }),
  'autodev:tasks:metrics': Empty,

  /** Worktrees and their changes (issue 14): the REST routes' bodies, per session. */
  'autodev:changes:get': z.strictObject({ session_id: IdSchema, query: ChangesQuerySchema.optional() }),
  'autodev:changes:commit': z.strictObject({ session_id: IdSchema, ...CommitRequestSchema.shape }),
  'autodev:changes:merge': z.strictObject({ session_id: IdSchema, request: MergeRequestSchema }),
  'autodev:changes:discard': SessionRef,
  /** Ends a session; `remove_worktree` also removes its worktree and branch (refused with work unless `force`). */
  'autodev:sessions:end': z.strictObject({
    session_id: IdSchema,
    remove_worktree: z.boolean().default(false),
    force: z.boolean().default(false),
  }),
  'autodev:worktrees:list': Empty,
  'autodev:worktrees:inspect': z.strictObject(InspectQuerySchema.shape),
  'autodev:usage:report': z.strictObject({ query: UsageQuerySchema.optional() }),
  'autodev:usage:session': SessionRef,

  /** Desktop-only: which session tab is visible (drives notifications) and whether the window is focused. */
  'autodev:desktop:view': z.strictObject({ session_id: IdSchema.nullable() }),
  'autodev:desktop:lan:status': Empty,
  'autodev:desktop:lan:start': z.strictObject({
    /** 127.0.0.1 (default) or the address of one of this machine's interfaces. */
    host: z.union([z.ipv4(), z.ipv6()]).optional(),
    port: z.number().int().min(0).max(65535).optional(),
  }),
  'autodev:desktop:lan:stop': Empty,
  'autodev:desktop:secrets:list': Empty,
  'autodev:desktop:secrets:set': z.strictObject({
    name: SecretNameSchema,
    value: z.string().min(1).max(16_384),
    /** Explicit opt-in to store on Linux's `basic_text` backend (obfuscation only, not encryption). */
    allow_plaintext: z.boolean().optional(),
  }),
  'autodev:desktop:secrets:delete': z.strictObject({ name: SecretNameSchema }),
  /** Opens an https link in the system browser if its host is allow-listed (main re-checks). */
  'autodev:desktop:open-external': z.strictObject({ url: z.string().min(1).max(4096) }),
  /** Native folder picker for the new-session dialog. */
  'autodev:desktop:select-directory': Empty,
} as const satisfies Record<string, z.ZodType>;

export type IpcChannel = keyof typeof IPC_COMMANDS;
export const IPC_CHANNELS = Object.keys(IPC_COMMANDS) as IpcChannel[];
export type IpcPayload<C extends IpcChannel> = z.input<(typeof IPC_COMMANDS)[C]>;
export type IpcParsed<C extends IpcChannel> = z.output<(typeof IPC_COMMANDS)[C]>;

/** What every invoke resolves to. */
export type IpcResult<T = unknown> = { ok: true; value: T } | { ok: false; error: ErrorBody };

/** Main → renderer items. Output `chars` is what the renderer acks after xterm parsed `data`. */
export type IpcEventItem =
  | { kind: 'output'; attachment_id: string; seq: number; data: string }
  | { kind: 'snapshot'; attachment_id: string; snapshot: SnapshotMessageData }
  | { kind: 'status'; attachment_id: string; session: SessionInfo }
  | { kind: 'error'; attachment_id: string; error: string; error_code: string }
  | { kind: 'live'; event: LiveEvent }
  | { kind: 'desktop'; event: DesktopEvent };

export interface IpcBatch {
  /** Increases by one per batch and window, from 1: a gap means the renderer missed a batch. */
  batch: number;
  items: IpcEventItem[];
}

/** Desktop-only events (window chrome, notifications, LAN dashboard indicator). */
export type DesktopEvent =
  | { kind: 'focus_session'; session_id: string }
  | { kind: 'lan'; status: LanStatus }
  | { kind: 'menu'; action: MenuAction };

export const MENU_ACTIONS = [
  'new_session',
  'close_tab',
  'next_tab',
  'previous_tab',
  'open_settings',
  'find',
] as const;
export type MenuAction = (typeof MENU_ACTIONS)[number];

export interface LanStatus {
  running: boolean;
  /** Dashboard URL (without the token). */
  url: string | null;
  host: string | null;
  port: number | null;
  /** A fresh pairing token, shown once per start; never persisted. */
  token: string | null;
  /** Rows of the QR code for `url` + token as strings of '1'/'0' (dark/light), or null. */
  qr: string[] | null;
  started_at: string | null;
  error: string | null;
}

export interface SecretStatus {
  name: string;
  set: boolean;
}

export interface SecretStorageInfo {
  backend: string;
  /** false on Linux `basic_text`: storing needs `allow_plaintext`. */
  encrypted: boolean;
  secrets: SecretStatus[];
}

/**
 * Desktop-only extras exposed as `window.autodev.desktop` (absent in the browser dashboard).
 * No method accepts a channel name or returns anything of ipcRenderer.
 */
export interface AutoDevDesktopApi {
  setViewedSession(sessionId: string | null): Promise<void>;
  lanStatus(): Promise<LanStatus>;
  startLan(options?: { host?: string; port?: number }): Promise<LanStatus>;
  stopLan(): Promise<LanStatus>;
  listSecrets(): Promise<SecretStorageInfo>;
  setSecret(name: string, value: string, options?: { allowPlaintext?: boolean }): Promise<SecretStorageInfo>;
  deleteSecret(name: string): Promise<SecretStorageInfo>;
  /** true when the URL was allowed (https, allow-listed host) and handed to the system browser. */
  openExternal(url: string): Promise<boolean>;
  /** A folder the user picked in the native dialog, or null when cancelled. */
  selectDirectory(): Promise<string | null>;
  /** Notification clicked / menu used / LAN state changed. Returns an unsubscribe function. */
  onDesktopEvent(listener: (event: DesktopEvent) => void): () => void;
}

/** Exactly the keys `window.autodev` has in the desktop app: AutoDevApi's plus `desktop`. */
export const AUTODEV_API_KEYS = [
  'transport',
  'whoami',
  'listProviders',
  'listSessions',
  'getSession',
  'createSession',
  'renameSession',
  'terminateSession',
  'getDiagnostics',
  'getHistory',
  'search',
  'exportSession',
  'attach',
  'onEvent',
  'submitTasks',
  'listTasks',
  'getTask',
  'controlTask',
  'getTaskDetail',
  'getTaskMetrics',
  'getChanges',
  'commitChanges',
  'mergeChanges',
  'discardChanges',
  'endSession',
  'resumeSession',
  'listWorktrees',
  'inspectRepository',
  'getUsage',
  'getSessionUsage',
] as const satisfies readonly (keyof AutoDevApi)[];
export const AUTODEV_DESKTOP_KEYS = [
  'setViewedSession',
  'lanStatus',
  'startLan',
  'stopLan',
  'listSecrets',
  'setSecret',
  'deleteSecret',
  'openExternal',
  'selectDirectory',
  'onDesktopEvent',
] as const satisfies readonly (keyof AutoDevDesktopApi)[];
// Compile-time proof the lists are complete (a new AutoDevApi method must be added above).
type Missing<T, K extends readonly PropertyKey[]> = Exclude<keyof T, K[number]>;
const _apiKeysComplete: [Missing<AutoDevApi, typeof AUTODEV_API_KEYS>] extends [never] ? true : never = true;
const _desktopKeysComplete: [Missing<AutoDevDesktopApi, typeof AUTODEV_DESKTOP_KEYS>] extends [never]
  ? true
  : never = true;
void _apiKeysComplete;
void _desktopKeysComplete;

/** `window.autodev` in the desktop app. */
export type AutoDevDesktopBridge = AutoDevApi & { readonly desktop: AutoDevDesktopApi };

/** Turns a zod failure into the `{error, error_code, details}` body every boundary uses. */
export function validationError(error: z.ZodError): ErrorBody {
  return {
    error: 'Invalid IPC payload',
    error_code: 'VALIDATION_ERROR',
    details: error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
  };
}
