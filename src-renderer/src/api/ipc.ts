import type { AutoDevApi } from '../../../src-shared/api.ts';
import { AUTODEV_API_KEYS, type AutoDevDesktopApi, type LanStatus } from '../../../src-shared/ipc.ts';
import type { ClientExtras, DashboardStatus } from './client-extras.ts';

/**
 * The desktop transport: `window.autodev`, exposed by the Electron preload with contextBridge, already
 * implements AutoDevApi over IPC (validated in the main process), plus `desktop` (AutoDevDesktopApi:
 * LAN dashboard, openExternal, folder picker, desktop events). This wrapper only binds the methods
 * (contextBridge objects are frozen plain copies) and maps the desktop part to the UI's extras.
 */
export type DesktopBridge = AutoDevApi & { desktop?: Partial<AutoDevDesktopApi> };

// The bridge's method names come from the IPC contract (one list for the preload and this check).
const API_METHODS = AUTODEV_API_KEYS.filter((key) => key !== 'transport');

export function isDesktopBridge(value: unknown): value is DesktopBridge {
  if (!value || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return API_METHODS.every((name) => typeof record[name] === 'function');
}

export function lanToDashboard(status: LanStatus): DashboardStatus {
  return {
    enabled: status.running,
    url: status.url,
    token: status.token,
    qr: status.qr,
    error: status.error,
  };
}

export function createIpcApi(bridge: DesktopBridge): { api: AutoDevApi; extras: ClientExtras } {
  const call = <K extends (typeof API_METHODS)[number]>(name: K) =>
    ((...args: unknown[]) => (bridge[name] as (...a: unknown[]) => unknown)(...args)) as AutoDevApi[K];
  const api: AutoDevApi = {
    transport: 'ipc',
    whoami: call('whoami'),
    listProviders: call('listProviders'),
    listSessions: call('listSessions'),
    getSession: call('getSession'),
    createSession: call('createSession'),
    renameSession: call('renameSession'),
    terminateSession: call('terminateSession'),
    resumeSession: call('resumeSession'),
    getDiagnostics: call('getDiagnostics'),
    getHistory: call('getHistory'),
    search: call('search'),
    exportSession: call('exportSession'),
    attach: call('attach'),
    onEvent: call('onEvent'),
    submitTasks: call('submitTasks'),
    listTasks: call('listTasks'),
    getTask: call('getTask'),
    controlTask: call('controlTask'),
    getTaskDetail: call('getTaskDetail'),
    getTaskMetrics: call('getTaskMetrics'),
    getChanges: call('getChanges'),
    commitChanges: call('commitChanges'),
    mergeChanges: call('mergeChanges'),
    discardChanges: call('discardChanges'),
    endSession: call('endSession'),
    listWorktrees: call('listWorktrees'),
    inspectRepository: call('inspectRepository'),
    getUsage: call('getUsage'),
    getSessionUsage: call('getSessionUsage'),
  };
  const extras: ClientExtras = {};
  const desktop = bridge.desktop;
  if (!desktop) return { api, extras };
  if (desktop.openExternal) {
    const open = desktop.openExternal;
    extras.openExternal = (url) => void open(url).catch(() => {});
  }
  if (desktop.selectDirectory) extras.selectDirectory = desktop.selectDirectory;
  if (desktop.setViewedSession) {
    const view = desktop.setViewedSession;
    extras.setViewedSession = (id) => void view(id).catch(() => {});
  }
  if (desktop.onDesktopEvent) extras.onDesktopEvent = desktop.onDesktopEvent;
  const { lanStatus, startLan, stopLan } = desktop;
  if (lanStatus && startLan && stopLan) {
    extras.dashboard = {
      getStatus: async () => lanToDashboard(await lanStatus()),
      setEnabled: async (enabled) => lanToDashboard(await (enabled ? startLan() : stopLan())),
    };
  }
  return { api, extras };
}
