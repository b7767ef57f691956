/**
 * Who sets the terminal size, seen from one view. The PTY has one size; the view in use (focused or
 * last to type, tmux's `window-size latest`) sets it. Every view draws the PTY's exact grid — never a
 * reflowed copy of the agent's screen — and fits that grid into its own space locally: scaled down when
 * it is bigger (not below MIN_SCALE, then scrolled), drawn at its natural size when it is smaller.
 */
export interface Size {
  cols: number;
  rows: number;
}

export interface LocalFit {
  /** CSS scale applied to the drawn grid (1 = natural size). */
  scale: number;
  /** The scaled grid is still wider/taller than the space: the host scrolls in that direction. */
  scrollX: boolean;
  scrollY: boolean;
}

/** Below this the text is unreadable; the host scrolls instead of shrinking further. */
export const MIN_SCALE = 0.5;

/** Fit a drawn grid of `grid` CSS pixels into `space` CSS pixels without changing its cols/rows. */
export function localFit(
  grid: { width: number; height: number },
  space: { width: number; height: number },
  minScale = MIN_SCALE,
): LocalFit {
  if (grid.width <= 0 || grid.height <= 0 || space.width <= 0 || space.height <= 0)
    return { scale: 1, scrollX: false, scrollY: false };
  const wanted = Math.min(1, space.width / grid.width, space.height / grid.height);
  const scale = Math.max(minScale, Math.floor(wanted * 1000) / 1000);
  return {
    scale,
    scrollX: grid.width * scale > space.width + 0.5,
    scrollY: grid.height * scale > space.height + 0.5,
  };
}

/** Terminal sizes the server accepts (src-shared/ws-protocol.ts). */
export function clampSize(size: Size): Size {
  return {
    cols: Math.max(2, Math.min(1000, Math.floor(size.cols))),
    rows: Math.max(1, Math.min(500, Math.floor(size.rows))),
  };
}

export function sameSize(a: Size | null, b: Size | null): boolean {
  return !!a && !!b && a.cols === b.cols && a.rows === b.rows;
}
