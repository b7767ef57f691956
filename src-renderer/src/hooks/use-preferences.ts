import { useCallback, useEffect, useState } from 'react';
import { loadPreferences, type Preferences, savePreferences } from '../model/preferences.ts';
import { browserStorage } from './storage.ts';

export function systemPrefersDark(): boolean {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? true;
}

/** Preferences (localStorage), with the theme applied to the page as it changes. */
export function usePreferences(): [Preferences, (next: Preferences) => void] {
  const [prefs, setState] = useState<Preferences>(() =>
    loadPreferences(browserStorage('local'), systemPrefersDark()),
  );
  const setPrefs = useCallback((next: Preferences) => {
    setState(next);
    savePreferences(browserStorage('local'), next);
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = prefs.theme;
  }, [prefs.theme]);
  return [prefs, setPrefs];
}
