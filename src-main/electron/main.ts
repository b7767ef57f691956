import os from 'node:os';
import path from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  type MenuItemConstructorOptions,
  Notification,
  nativeImage,
  protocol,
  safeStorage,
  session,
  shell,
  Tray,
} from 'electron';
import { IPC_EVENT_CHANNEL, type MenuAction } from '../../src-shared/ipc.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { runPtyHost } from '../core/pty-host/host-main.ts';
import { buildMenuTemplate } from './app-menu.ts';
import { APP_SCHEME_PRIVILEGES, createBundleHandler } from './app-protocol.ts';
import { type AttentionEvent, runningCount, trayStatus, waitingCount } from './attention.ts';
import { openDesktopCore, stopDesktopHost } from './core-adapter.ts';
import { DesktopController } from './desktop-controller.ts';
import { HostStopError, hostVersionDialog, openCoreOrAsk } from './host-version.ts';
import { registerIpcHandlers } from './ipc-router.ts';
import { LanDashboard } from './lan-dashboard.ts';
import { denyAllPermissions, installNavigationGuards } from './navigation.ts';
import {
  decideQuit,
  keptRunningNotice,
  quitDialog,
  readRememberedQuit,
  writeRememberedQuit,
} from './quit-policy.ts';
import { SecretStore } from './secret-store.ts';
import { APP_ENTRY_URL, APP_SCHEME } from './sender-guard.ts';
import { runShutdown } from './shutdown.ts';
import { mainWindowOptions } from './window-options.ts';

/**
 * Electron main process: wires Electron objects to the Electron-free modules next to this file.
 * Order matters: sandbox + privileged scheme before `ready`; single-instance lock first of all.
 */

const log = (message: string) => console.log(message);
const DEBUG_SWITCHES = [
  'remote-debugging-port',
  'remote-debugging-pipe',
  'inspect',
  'inspect-brk',
  'remote-allow-origins',
];
const isDev = !app.isPackaged && process.env['AUTODEV_DEV'] === '1';
const appRoot = app.getAppPath();
// A renderer from elsewhere gets the full bridge: dev builds only, never a packaged app (env vars must
// not be a way to inject code, which is what the NODE_OPTIONS / RunAsNode fuses are about).
const devRendererDir = app.isPackaged ? undefined : process.env['AUTODEV_RENDERER_DIR'];
const rendererDir = devRendererDir ?? path.join(appRoot, 'src-renderer', 'dist');
const preloadPath = path.join(appRoot, 'dist', 'preload', 'preload.cjs');
const iconPath = path.join(appRoot, 'assets', 'icons', 'png', '256x256.png');
const trayIconPath = path.join(appRoot, 'assets', 'icons', 'png', '32x32.png');

if (process.env['AUTODEV_USER_DATA_DIR']) app.setPath('userData', process.env['AUTODEV_USER_DATA_DIR']);

/**
 * The PTY host runs as this same binary with --autodev-pty-host (the RunAsNode fuse is off, so Electron
 * cannot be started as plain Node): no window, no lock, no app — just the host, which outlives the app.
 * Under plain Node (the fake-electron tests) the host is started with Node itself.
 */
const PTY_HOST_SWITCH = '--autodev-pty-host';
const isPtyHost = process.argv.includes(PTY_HOST_SWITCH);
const hostCommand = process.versions.electron
  ? { file: process.execPath, args: app.isPackaged ? [PTY_HOST_SWITCH] : [appRoot, PTY_HOST_SWITCH] }
  : undefined;

// The fuses turn off --inspect and NODE_OPTIONS; Chromium's own debugging switches have no fuse, so a
// packaged app refuses to run with them (nothing should be able to attach to a user's agent terminals).
const debugSwitch = DEBUG_SWITCHES.find((s) => app.commandLine.hasSwitch(s));
if (isPtyHost) {
  app.dock?.hide();
  void runPtyHost(process.argv.slice(process.argv.indexOf(PTY_HOST_SWITCH) + 1));
} else if (app.isPackaged && debugSwitch !== undefined) {
  console.error(`[main] refusing to start with --${debugSwitch}`);
  app.exit(1);
} else if (!app.requestSingleInstanceLock()) {
  // A second launch only brings the first one forward (its `second-instance` handler below).
  app.quit();
} else {
  app.enableSandbox();
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME_PRIVILEGES.scheme, privileges: { ...APP_SCHEME_PRIVILEGES.privileges } },
  ]);
  app.on('web-contents-created', (_event, contents) => {
    // Every webContents, including any a future feature creates, gets the same guards.
    installNavigationGuards(contents, { openExternal: (url) => shell.openExternal(url), log });
  });
  void app.whenReady().then(start, (error) => {
    console.error('[main] failed to start', error);
    app.exit(1);
  });
}

let mainWindow: BrowserWindow | null = null;
/** e2e tests (AUTODEV_E2E=1) read the notifications main decided to show; records only, grants nothing. */
const e2eNotifications: AttentionEvent[] | null = process.env['AUTODEV_E2E'] === '1' ? [] : null;
if (e2eNotifications)
  (globalThis as { __autodevNotifications?: AttentionEvent[] }).__autodevNotifications = e2eNotifications;

async function start(): Promise<void> {
  const dataDir = app.getPath('userData');
  protocol.handle(APP_SCHEME, createBundleHandler(rendererDir));
  denyAllPermissions(session.defaultSession, log);

  // Stored API keys join the core's environment: each agent then gets only its own key (the core's env
  // allow-list) and the redactor knows their exact values. Keys saved later reach new sessions through
  // the controller (until the next start the redactor still catches them by pattern).
  const storedKeys = new SecretStore(dataDir, safeStorage).all();
  const env = { ...process.env, ...storedKeys };
  // A PTY host of another AutoDev version is never replaced silently: the user chooses between
  // restarting it (its agents end) and quitting (they run on).
  let opened: Awaited<ReturnType<typeof openDesktopCore>> | null;
  try {
    opened = await openCoreOrAsk(
      () =>
        openDesktopCore({ dataDir, appRoot, env, ...(hostCommand ? { coreOptions: { hostCommand } } : {}) }),
      {
        ask: async (welcome) => {
          const question = hostVersionDialog(welcome);
          return question.answerOf(await dialog.showMessageBox(question.options));
        },
        stopHost: () => stopDesktopHost({ dataDir, env }),
        log,
      },
    );
  } catch (error) {
    if (!(error instanceof HostStopError)) throw error;
    dialog.showErrorBox('AutoDev', `${error.message} Its agents may still be running; try again later.`);
    app.exit(1);
    return;
  }
  if (!opened) {
    log('[main] quitting: the PTY host of another version and its agents are left running');
    app.exit(0);
    return;
  }
  const { core, lanBackend, providerEnvKeys, keepSessions } = opened;
  const secrets = new SecretStore(dataDir, safeStorage, providerEnvKeys);
  const lan = new LanDashboard(lanBackend, () => os.networkInterfaces());

  let tray: Tray | null = null;
  // The tray says how many agents run (they go on in the PTY host when the app quits) and how many
  // need the user: in its tooltip and as the first line of its menu, rebuilt when that line changes.
  // The tooltip doubles as the always-visible indicator that the LAN dashboard is on.
  let trayMenuStatus: string | null = null;
  const updateTray = (sessions: SessionInfo[]) => {
    if (!tray) return;
    const status = trayStatus(sessions);
    const lanStatus = lan.status();
    const suffix = lanStatus.running ? ` — LAN dashboard ON at ${lanStatus.url}` : '';
    tray.setToolTip(`AutoDev — ${status}${suffix}`);
    if (status !== trayMenuStatus) {
      trayMenuStatus = status;
      tray.setContextMenu(trayMenu(status));
    }
  };
  lan.onDidChange(() => updateTray(core.sessions.list()));
  const notifications = new Set<Notification>();
  const controller = new DesktopController({
    core,
    secrets,
    lan,
    log,
    notify: (event: AttentionEvent) => {
      e2eNotifications?.push(event);
      if (!Notification.isSupported()) return;
      const n = new Notification({ title: event.title, body: event.body, silent: false });
      notifications.add(n); // keep a reference or the click handler is garbage-collected
      n.on('click', () => controller.focusSession(event.session_id));
      n.on('close', () => notifications.delete(n));
      n.show();
    },
    sessionsChanged: (sessions: SessionInfo[]) => {
      const waiting = waitingCount(sessions);
      app.setBadgeCount(waiting);
      updateTray(sessions);
      tray?.setTitle?.(waiting > 0 ? String(waiting) : '');
    },
    openExternal: (url) => shell.openExternal(url),
    selectDirectory: async (id) => {
      const win = BrowserWindow.getAllWindows().find((w) => w.webContents.id === id);
      const options = { properties: ['openDirectory' as const, 'createDirectory' as const] };
      const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
    focusWindow: (id) => {
      const win = BrowserWindow.getAllWindows().find((w) => w.webContents.id === id) ?? mainWindow;
      if (!win) return;
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
    },
  });
  registerIpcHandlers(ipcMain, controller.handlers(), {
    resolveWindow: (id) => controller.resolveWindow(id),
    log,
  });

  const sendMenu = (action: MenuAction) => controller.desktopEvent({ kind: 'menu', action });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate({
        platform: process.platform,
        appName: app.name,
        send: sendMenu,
        isDev,
      }) as MenuItemConstructorOptions[],
    ),
  );
  try {
    tray = new Tray(nativeImage.createFromPath(trayIconPath));
    updateTray(core.sessions.list());
    tray.on('click', () => showMainWindow());
  } catch (error) {
    log(`[tray] unavailable: ${(error as Error).message}`);
  }

  function trayMenu(status: string) {
    return Menu.buildFromTemplate([
      { label: status.charAt(0).toUpperCase() + status.slice(1), enabled: false },
      { type: 'separator' },
      { label: 'Show AutoDev', click: () => showMainWindow() },
      {
        label: 'New Session',
        click: () => {
          showMainWindow();
          sendMenu('new_session');
        },
      },
      { type: 'separator' },
      { role: 'quit' },
    ]);
  }

  const createWindow = (): BrowserWindow => {
    const win = new BrowserWindow(mainWindowOptions({ preloadPath, iconPath, devTools: isDev }));
    const contents = win.webContents;
    const id = contents.id;
    const attachWindow = () =>
      controller.addWindow(
        id,
        (batch) => {
          if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, batch);
        },
        () => !win.isDestroyed() && win.isFocused(),
      );
    attachWindow();
    // A reload or crash leaves the old page's attachments unacked: reset the window's state.
    const reset = () => {
      controller.removeWindow(id);
      attachWindow();
    };
    contents.on('did-navigate', reset);
    contents.on('render-process-gone', (_e, details) => {
      log(`[main] renderer gone: ${details.reason}`);
      reset();
    });
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      controller.removeWindow(id);
      if (mainWindow === win) mainWindow = null;
    });
    void win.loadURL(APP_ENTRY_URL);
    return win;
  };
  const showMainWindow = () => {
    if (!mainWindow || mainWindow.isDestroyed()) mainWindow = createWindow();
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  };

  app.on('second-instance', () => showMainWindow());
  app.on('activate', () => showMainWindow());
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void (async () => {
      // Running agents are kept or stopped as the config says, as remembered, or as the user answers.
      const running = runningCount(core.sessions.list());
      const choice = await decideQuit({
        running,
        configured: keepSessions,
        remembered: readRememberedQuit(dataDir),
        ask: async (n) => {
          const question = quitDialog(n);
          const result = mainWindow
            ? await dialog.showMessageBox(mainWindow, question.options)
            : await dialog.showMessageBox(question.options);
          return question.answerOf(result);
        },
        remember: (c) => writeRememberedQuit(dataDir, c),
      });
      if (choice === 'cancel') {
        quitting = false;
        return;
      }
      const keep = choice === 'keep';
      log(keep ? `[quit] leaving ${running} agent(s) running in the background` : '[quit] stopping agents');
      if (keep && Notification.isSupported()) {
        // The tray that showed them goes with the app: say where the agents are.
        const notice = keptRunningNotice(running);
        new Notification({ title: notice.title, body: notice.body, silent: true }).show();
      }
      await runShutdown(
        [
          { name: 'lan dashboard', run: () => lan.dispose() },
          { name: 'windows', run: () => controller.dispose() },
          ...(keep ? [] : [{ name: 'sessions', run: () => core.sessions.shutdown() }]),
          { name: 'core (SQLite flush, Redis)', run: () => core.close({ keepSessions: keep }) },
        ],
        { log },
      );
      tray?.destroy();
      app.exit(0);
    })();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  showMainWindow();
}
