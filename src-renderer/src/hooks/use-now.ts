import { useEffect, useState } from 'react';

/**
 * The current time, re-read every `intervalMs` while the component is mounted: relative times ("3 s
 * ago") keep moving without any event from the server.
 */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}
