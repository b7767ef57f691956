import { FONT_SIZE } from './shortcuts.ts';

/** UI preferences kept in localStorage (never secrets). */
export type Theme = 'dark' | 'light';

export interface Preferences {
  theme: Theme;
  fontSize: number;
}

const KEY = 'autodev.preferences';

type StorageLike = { getItem(key: string): string | null; setItem(key: string, value: string): void };

export function loadPreferences(storage: StorageLike | null, prefersDark = true): Preferences {
  const fallback: Preferences = { theme: prefersDark ? 'dark' : 'light', fontSize: FONT_SIZE.default };
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

export function loadTabLayout(storage: { getItem(key: string): string | null } | null): {
  tabs: string[];
  active: string | null;
} {
  try {
    const value = JSON.parse(storage?.getItem(TABS_KEY) ?? 'null') as {
      tabs?: unknown;
      active?: unknown;
    } | null;
    const tabs = Array.isArray(value?.tabs)
      ? value.tabs.filter((t): t is string => typeof t === 'string')
      : [];
    return { tabs, active: typeof value?.active === 'string' ? value.active : null };
  } catch {
    return { tabs: [], active: null };
  }
}

export function saveTabLayout(
  storage: { setItem(key: string, value: string): void } | null,
  tabs: readonly string[],
  active: string | null,
) {
  try {
    storage?.setItem(TABS_KEY, JSON.stringify({ tabs, active }));
  } catch {
    // ignore
  }
}
