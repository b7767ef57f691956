import { FONT_SIZE } from './shortcuts.ts';

/** UI preferences kept in localStorage (never secrets). */
export type Theme = 'dark' | 'light';

export interface Preferences {
  theme: Theme;
  fontSize: number;
  /** WebGL renderer for the visible terminal ('auto'), or always the DOM renderer ('off'). */
  gpu: 'auto' | 'off';
  /** Browser notifications when an agent needs you while the page is hidden (needs the browser's permission too). */
  notify: boolean;
  /** The needs-you sidebar is shown beside the terminals (wide screens). */
  inbox: boolean;
}

const KEY = 'autodev.preferences';

type StorageLike = { getItem(key: string): string | null; setItem(key: string, value: string): void };

export function loadPreferences(storage: StorageLike | null, prefersDark = true): Preferences {
  const fallback: Preferences = {
    theme: prefersDark ? 'dark' : 'light',
    fontSize: FONT_SIZE.default,
    gpu: 'auto',
    notify: true,
    inbox: true,
  };
  try {
    const raw = storage?.getItem(KEY);
    if (!raw) return fallback;
    const value = JSON.parse(raw) as Partial<Preferences>;
    return {
      theme: value.theme === 'light' || value.theme === 'dark' ? value.theme : fallback.theme,
      fontSize:
        typeof value.fontSize === 'number' &&
        value.fontSize >= FONT_SIZE.min &&
        value.fontSize <= FONT_SIZE.max
          ? value.fontSize
          : fallback.fontSize,
      gpu: value.gpu === 'off' ? 'off' : 'auto',
      notify: value.notify !== false,
      inbox: value.inbox !== false,
    };
  } catch {
    return fallback;
  }
}

export function savePreferences(storage: StorageLike | null, prefs: Preferences): void {
  try {
    storage?.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // Storage disabled: preferences last for this page only.
  }
}

/** Open tabs and the active one, per browser tab, so a reload comes back to the same place. */
const TABS_KEY = 'autodev.tabs';

export interface TabLayout {
  tabs: string[];
  active: string | null;
  attention: string[];
}

/** Sessions removed from the inbox and tabs in this browser ("Remove" on an ended session). */
const REMOVED_KEY = 'autodev.removed';
const MAX_REMOVED = 2000;

export function loadRemoved(storage: { getItem(key: string): string | null } | null): Set<string> {
  try {
    const value = JSON.parse(storage?.getItem(REMOVED_KEY) ?? '[]') as unknown;
    return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  } catch {
    return new Set();
  }
}

export function saveRemoved(storage: { setItem(key: string, value: string): void } | null, ids: Set<string>) {
  try {
    storage?.setItem(REMOVED_KEY, JSON.stringify([...ids].slice(-MAX_REMOVED)));
  } catch {
    // Storage disabled: removal lasts for this page only.
  }
}

/** The saved layout, or null when there is none (first visit in this browser tab). */
export function loadTabLayout(storage: { getItem(key: string): string | null } | null): TabLayout | null {
  try {
    const value = JSON.parse(storage?.getItem(TABS_KEY) ?? 'null') as Record<string, unknown> | null;
    if (!value || typeof value !== 'object') return null;
    const strings = (v: unknown) =>
      Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
    return {
      tabs: strings(value.tabs),
      active: typeof value.active === 'string' ? value.active : null,
      attention: strings(value.attention),
    };
  } catch {
    return null;
  }
}

export function saveTabLayout(
  storage: { setItem(key: string, value: string): void } | null,
  layout: TabLayout,
) {
  try {
    storage?.setItem(TABS_KEY, JSON.stringify(layout));
  } catch {
    // Storage disabled: a reload starts from the live list.
  }
}
