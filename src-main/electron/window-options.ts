/**
 * The one place BrowserWindow options are built, so every window (and every `window.open` child,
 * were one ever allowed) gets the same hardened web preferences. Tests assert these flags.
 */

export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  experimentalFeatures: false;
  navigateOnDragDrop: false;
  safeDialogs: true;
  spellcheck: false;
  /** Off so a minimised window keeps parsing (and acking) output: throttled timers would stall xterm's
   *  write queue, hold back acks, and pause every agent PTY while the window is hidden. */
  backgroundThrottling: false;
  devTools: boolean;
}

export function secureWebPreferences(
  preloadPath: string,
  options: { devTools?: boolean } = {},
): SecureWebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    backgroundThrottling: false,
    devTools: options.devTools ?? false,
  };
}

export interface MainWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  title: string;
  show: boolean;
  backgroundColor: string;
  icon?: string;
  webPreferences: SecureWebPreferences;
}

export function mainWindowOptions(opts: {
  preloadPath: string;
  iconPath?: string;
  devTools?: boolean;
}): MainWindowOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 640,
    minHeight: 400,
    title: 'AutoDev',
    // Shown on `ready-to-show` to avoid a white flash.
    show: false,
    backgroundColor: '#0f1115',
    ...(opts.iconPath ? { icon: opts.iconPath } : {}),
    webPreferences: secureWebPreferences(opts.preloadPath, { devTools: opts.devTools ?? false }),
  };
}

/** The flags an audit must find on every webContents (`getLastWebPreferences()`). */
export const REQUIRED_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInSubFrames: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  webviewTag: false,
  allowRunningInsecureContent: false,
} as const;

/** Lists the preferences that deviate from {@link REQUIRED_PREFERENCES} (empty when secure). */
export function auditWebPreferences(prefs: Record<string, unknown> | null | undefined): string[] {
  if (!prefs) return ['no web preferences'];
  const problems: string[] = [];
  for (const [key, expected] of Object.entries(REQUIRED_PREFERENCES)) {
    // Electron reports unset booleans as undefined; secure defaults apply for the false ones.
    const actual = prefs[key] ?? (expected === false ? false : undefined);
    if (actual !== expected) problems.push(`${key}=${String(prefs[key])} (expected ${expected})`);
  }
  return problems;
}
