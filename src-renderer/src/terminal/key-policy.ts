/**
 * Keys the terminal hands back to the browser instead of encoding them for the agent. Paste goes
 * through the browser's own paste event (the only clipboard read a page gets without a permission
 * prompt): Ctrl+V, Ctrl+Shift+V and Shift+Insert fire `paste`, which the controller turns into a
 * bracketed paste with ESC stripped. Copy: Ctrl+C while text is selected (as in Windows Terminal and
 * VS Code) and Ctrl+Insert are the browser's copy; Ctrl+Shift+C has no browser meaning, so the
 * controller runs the copy command itself. Ctrl+C without a selection still interrupts the agent.
 */
export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

/** `browser`: let the browser's default action run (paste/copy event); `copy`: run the copy command. */
export type KeyDecision = 'terminal' | 'browser' | 'copy';

export function keyDecision(event: KeyLike, hasSelection: boolean): KeyDecision {
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  // Cmd on macOS, Ctrl elsewhere.
  const mod = event.ctrlKey || event.metaKey;
  if (event.altKey) return 'terminal';
  if (mod && key === 'v') return 'browser';
  if (event.shiftKey && !mod && key === 'Insert') return 'browser';
  if (mod && !event.shiftKey && key === 'Insert') return 'browser';
  if (mod && event.shiftKey && key === 'c') return 'copy';
  if (mod && !event.shiftKey && key === 'c' && hasSelection) return 'browser';
  // Cmd+C on macOS always copies (it never meant interrupt there).
  if (event.metaKey && key === 'c') return 'browser';
  return 'terminal';
}
