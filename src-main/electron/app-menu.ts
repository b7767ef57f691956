import type { MenuAction } from '../../src-shared/ipc.ts';

/** A menu item in Electron's `MenuItemConstructorOptions` shape (subset), built without Electron. */
export interface MenuItemSpec {
  label?: string;
  role?: string;
  type?: 'separator' | 'submenu' | 'normal';
  accelerator?: string;
  click?: () => void;
  submenu?: MenuItemSpec[];
}

/** App shortcuts: each sends a menu action to the focused window's renderer. */
export const MENU_SHORTCUTS: readonly { action: MenuAction; label: string; accelerator: string }[] = [
  { action: 'new_session', label: 'New Session', accelerator: 'CmdOrCtrl+T' },
  { action: 'close_tab', label: 'Close Tab', accelerator: 'CmdOrCtrl+W' },
  { action: 'next_tab', label: 'Next Tab', accelerator: 'Ctrl+Tab' },
  { action: 'previous_tab', label: 'Previous Tab', accelerator: 'Ctrl+Shift+Tab' },
  { action: 'find', label: 'Find in History', accelerator: 'CmdOrCtrl+Shift+F' },
  { action: 'open_settings', label: 'Settings…', accelerator: 'CmdOrCtrl+,' },
];

export function buildMenuTemplate(opts: {
  platform: NodeJS.Platform;
  appName: string;
  send(action: MenuAction): void;
  isDev: boolean;
}): MenuItemSpec[] {
  const item = (action: MenuAction): MenuItemSpec => {
    const spec = MENU_SHORTCUTS.find((s) => s.action === action)!;
    return { label: spec.label, accelerator: spec.accelerator, click: () => opts.send(action) };
  };
  const mac = opts.platform === 'darwin';
  const template: MenuItemSpec[] = [];
  if (mac) {
    template.push({
      label: opts.appName,
      submenu: [
        { role: 'about' },
        { type: 'separator' },
        item('open_settings'),
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }
  template.push({
    label: 'Session',
    submenu: [
      item('new_session'),
      item('close_tab'),
      { type: 'separator' },
      item('next_tab'),
      item('previous_tab'),
      ...(mac ? [] : [{ type: 'separator' } as MenuItemSpec, item('open_settings'), { role: 'quit' }]),
    ],
  });
  // The Edit roles make copy/paste work in the terminal on macOS (no menu, no clipboard shortcuts).
  template.push({
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
      { type: 'separator' },
      item('find'),
    ],
  });
  template.push({
    label: 'View',
    submenu: [
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(opts.isDev ? [{ role: 'reload' }, { role: 'toggleDevTools' }] : []),
    ],
  });
  template.push({ role: 'windowMenu' });
  return template;
}
