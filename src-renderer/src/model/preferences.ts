import { FONT_SIZE } from './shortcuts.ts';

/** UI preferences kept in localStorage (never secrets). */
export type Theme = 'dark' | 'light';

export interface Preferences {
  theme: Theme;
  fontSize: number;
  /** WebGL renderer for the visible terminal ('auto'), or always the DOM renderer ('off'). */
  gpu: 'auto' | 'off';
}

const KEY = 'autodev.preferences';

type StorageLike = { getItem(key: string): string | null; setItem(key: string, value: string): void };

export function loadPreferences(storage: StorageLike | null, prefersDark = true): Preferences {
  const fallback: Preferences = {
    theme: prefersDark ? 'dark' : 'light',
    fontSize: FONT_SIZE.default,
    gpu: 'auto',
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
