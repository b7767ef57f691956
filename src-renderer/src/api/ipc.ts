import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { ClientExtras, DesktopBridgeExtras } from './client-extras.ts';

/**
 * The desktop transport: `window.autodev`, exposed by the Electron preload with contextBridge, already
 * implements AutoDevApi over IPC (validated in the main process). This wrapper only binds the methods
 * (contextBridge objects are plain copies, so `this` must not be relied on) and picks out the optional
 * desktop extras (LAN dashboard switch, openExternal, folder picker).
 */
export type DesktopBridge = Omit<AutoDevApi, 'transport'> &
  Partial<Pick<AutoDevApi, 'transport'>> &
  DesktopBridgeExtras;

const API_METHODS = [
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
] as const satisfies readonly (keyof AutoDevApi)[];

export function isDesktopBridge(value: unknown): value is DesktopBridge {
  if (!value || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return API_METHODS.every((name) => typeof record[name] === 'function');
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
  };
  const extras: ClientExtras = {};
  if (typeof bridge.openExternal === 'function') extras.openExternal = (url) => bridge.openExternal?.(url);
  if (bridge.dashboard && typeof bridge.dashboard.getStatus === 'function')
    extras.dashboard = bridge.dashboard;
  if (typeof bridge.selectDirectory === 'function') extras.selectDirectory = () => bridge.selectDirectory!();
  return { api, extras };
}
