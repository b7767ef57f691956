import { type LocalFit, localFit } from './size-policy.ts';

/** xterm 6's overlay scrollbar width (the fit addon leaves room for it). */
const SCROLLBAR_PX = 14;
const STYLE_PROPS = [
  'width',
  'height',
  'transform',
  'transformOrigin',
  'marginRight',
  'marginBottom',
] as const;

/**
 * Draw an xterm grid that is bigger than its host scaled down (and scrolled below MIN_SCALE) without
 * changing its cols/rows. The layout box shrinks with the drawing (negative margins), so the host
 * scrolls over the scaled size only. Returns null when the terminal is not laid out yet.
 */
export function fitGridLocally(host: HTMLElement, xterm: HTMLElement): LocalFit | null {
  const screen = xterm.querySelector<HTMLElement>('.xterm-screen');
  if (!screen || host.clientWidth === 0) return null;
  const style = getComputedStyle(xterm);
  const padX = Number.parseFloat(style.paddingLeft) + Number.parseFloat(style.paddingRight);
  const padY = Number.parseFloat(style.paddingTop) + Number.parseFloat(style.paddingBottom);
  const grid = { width: screen.offsetWidth + padX + SCROLLBAR_PX, height: screen.offsetHeight + padY };
  const fit = localFit(grid, { width: host.clientWidth, height: host.clientHeight });
  if (fit.scale < 1) {
    xterm.style.width = `${grid.width}px`;
    xterm.style.height = `${grid.height}px`;
    xterm.style.transform = `scale(${fit.scale})`;
    xterm.style.transformOrigin = '0 0';
    xterm.style.marginRight = `${-grid.width * (1 - fit.scale)}px`;
    xterm.style.marginBottom = `${-grid.height * (1 - fit.scale)}px`;
  } else {
    for (const prop of STYLE_PROPS) xterm.style[prop] = '';
  }
  host.dataset.scroll = fit.scrollX || fit.scrollY ? 'true' : 'false';
  host.dataset.scale = String(fit.scale);
  return fit;
}
