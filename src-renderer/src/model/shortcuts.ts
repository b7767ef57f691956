/**
 * Global keyboard shortcuts, as data: key chords map to app actions. The window listener runs in the
 * capture phase so the shortcut wins over the focused terminal. The dashboard runs in a browser, which
 * keeps some chords for itself (Ctrl+Shift+T/W, Ctrl+Tab never reach a page; Ctrl+= zooms the page), so
 * it neither listens for them nor advertises them. Copy and paste are not shortcuts here: they are the
 * browser's own clipboard events (terminal/key-policy.ts).
 */
export type ShortcutAction =
  | { type: 'new-session' }
  | { type: 'close-tab' }
  | { type: 'next-tab' }
  | { type: 'previous-tab' }
  | { type: 'tab-index'; index: number }
  | { type: 'next-needs-you' }
  | { type: 'zoom'; delta: 1 | -1 | 0 }
  | { type: 'search' };

export type ShortcutMode = 'desktop' | 'dashboard';

export interface KeyChord {
  key: string;
  code?: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

export function shortcutFor(e: KeyChord, mode: ShortcutMode = 'desktop'): ShortcutAction | null {
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  // Ctrl on Linux/Windows, Cmd on macOS; never both meanings at once.
  const mod = e.ctrlKey || e.metaKey;
  const desktop = mode === 'desktop';
  if (desktop && mod && !e.altKey && e.key === 'Tab')
    return { type: e.shiftKey ? 'previous-tab' : 'next-tab' };
  if (mod && e.shiftKey && !e.altKey) {
    if (desktop && key === 't') return { type: 'new-session' };
    if (desktop && key === 'w') return { type: 'close-tab' };
    if (key === 'f') return { type: 'search' };
  }
  if (desktop && mod && !e.altKey) {
    if (key === '=' || key === '+') return { type: 'zoom', delta: 1 };
    if (key === '-' || key === '_') return { type: 'zoom', delta: -1 };
    if (key === '0' && !e.shiftKey) return { type: 'zoom', delta: 0 };
  }
  if (e.altKey && !mod && !e.shiftKey) {
    // Use the physical key: Alt+digit/letter produces other characters on some layouts (macOS).
    const digit = /^Digit([1-9])$/.exec(e.code ?? '')?.[1] ?? (/^[1-9]$/.test(key) ? key : undefined);
    if (digit) return { type: 'tab-index', index: Number(digit) - 1 };
    if (e.code === 'KeyJ' || key === 'j') return { type: 'next-needs-you' };
  }
  return null;
}

const COMMON_HELP: readonly [string, string][] = [
  ['Alt+J', 'Next session that needs you'],
  ['Alt+1 … Alt+9', 'Go to tab (9 = last)'],
  ['Ctrl+Shift+F', 'Search in scrollback'],
];

export const SHORTCUT_HELP: Readonly<Record<ShortcutMode, readonly [string, string][]>> = {
  desktop: [
    ['Ctrl+Shift+T', 'New session'],
    ['Ctrl+Shift+W', 'Close tab'],
    ['Ctrl+Tab / Ctrl+Shift+Tab', 'Next / previous tab'],
    ...COMMON_HELP,
    ['Ctrl+Shift+C / Ctrl+Shift+V', 'Copy / paste (Ctrl+V pastes too)'],
    ['Ctrl + / Ctrl - / Ctrl 0', 'Font size'],
  ],
  dashboard: [
    ...COMMON_HELP,
    ['Ctrl+V or Ctrl+Shift+V', 'Paste into the terminal'],
    ['Ctrl+C with text selected', 'Copy (without a selection Ctrl+C interrupts)'],
  ],
};

/** Font zoom bounds; zoom 0 resets. */
export const FONT_SIZE = { min: 8, max: 32, default: 14 } as const;

export function zoomFont(current: number, delta: 1 | -1 | 0): number {
  if (delta === 0) return FONT_SIZE.default;
  return Math.min(FONT_SIZE.max, Math.max(FONT_SIZE.min, current + delta));
}
