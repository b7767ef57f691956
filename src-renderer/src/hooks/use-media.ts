import { useEffect, useState } from 'react';

/** A media query's current answer, kept up to date (false where matchMedia is missing). */
export function useMedia(query: string): boolean {
  const get = () => (typeof window !== 'undefined' && window.matchMedia?.(query).matches) || false;
  const [matches, setMatches] = useState(get);
  useEffect(() => {
    const list = window.matchMedia?.(query);
    if (!list) return;
    const onChange = () => setMatches(list.matches);
    onChange();
    list.addEventListener('change', onChange);
    return () => list.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

/** Phone-sized screens: the inbox and side panels become drawers, the app bar wraps. */
export const NARROW_QUERY = '(max-width: 760px)';
