/** localStorage / sessionStorage, or null where the browser refuses them (private modes, sandboxes). */
export function browserStorage(kind: 'local' | 'session'): Storage | null {
  try {
    return kind === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    return null;
  }
}
