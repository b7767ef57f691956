import { WebglAddon } from '@xterm/addon-webgl';
import type { Terminal } from '@xterm/xterm';

const MAX_WEBGL_FAILURES = 3;

/**
 * WebGL for the visible terminal only. Chromium allows ~16 contexts per page; past that the oldest is
 * lost and a live terminal blanks (Eugeny/tabby#3664), so hidden tabs give theirs back at once
 * (`WEBGL_lose_context`, xterm.js#6068). A lost or missing context falls back to the DOM renderer.
 *
 * A canvas whose backing store does not match its CSS box at the device pixel ratio also falls back:
 * the addon sizes its drawing buffer from the `device-pixel-content-box` the browser reports, and
 * under Chromium's device-metrics emulation (DevTools' phone mode, Playwright's deviceScaleFactor)
 * that report disagrees with `devicePixelRatio`, so the GL viewport lies outside the buffer and the
 * terminal draws nothing (a blank terminal at a device pixel ratio of 2 or 3).
 */
export class WebglRenderer {
  private readonly _term: Terminal;
  private readonly _onChange: (renderer: 'webgl' | 'dom') => void;
  private _wanted: boolean;
  private _addon: WebglAddon | undefined;
  private _failures = 0;
  private _element: HTMLElement | null = null;

  constructor(term: Terminal, wanted: boolean, onChange: (renderer: 'webgl' | 'dom') => void) {
    this._term = term;
    this._wanted = wanted;
    this._onChange = onChange;
  }

  get active(): boolean {
    return this._addon !== undefined;
  }

  attach(element: HTMLElement): void {
    this._element = element;
  }

  setWanted(wanted: boolean, visible: boolean): void {
    this._wanted = wanted;
    if (!wanted) this.disable();
    else if (visible) this.enable();
  }

  enable(): void {
    if (!this._wanted || this._addon || this._failures >= MAX_WEBGL_FAILURES || !this._element) return;
    try {
      const addon = new WebglAddon();
      addon.onContextLoss(() => {
        // Lost (GPU reset or too many contexts): drop to the DOM renderer, which always works.
        this._failures += 1;
        if (this._addon === addon) this._addon = undefined;
        addon.dispose();
        this._onChange('dom');
      });
      this._term.loadAddon(addon);
      this._addon = addon;
      this._onChange('webgl');
      this.verify();
    } catch {
      // No WebGL (e.g. --disable-gpu): the DOM renderer stays in place.
      this._failures = MAX_WEBGL_FAILURES;
    }
  }

  /** After layout settles (two frames), fall back to the DOM renderer if the canvas cannot draw. */
  verify(): void {
    const addon = this._addon;
    if (!addon) return;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (this._addon !== addon || !this._element) return;
        const canvas = Array.from(
          this._element.querySelectorAll<HTMLCanvasElement>('.xterm-screen canvas:not(.xterm-link-layer)'),
        ).find((c) => c.style.display !== 'none' && c.clientWidth > 0);
        if (!canvas) return;
        const expected = Math.round(canvas.clientWidth * window.devicePixelRatio);
        if (Math.abs(canvas.width - expected) <= 2) return;
        this._failures = MAX_WEBGL_FAILURES;
        this.disable();
      }),
    );
  }

  disable(): void {
    const addon = this._addon;
    if (!addon) return;
    this._addon = undefined;
    const canvases = Array.from(this._element?.querySelectorAll('canvas') ?? []);
    addon.dispose();
    // Give the context back now rather than at garbage collection (xterm.js#6068).
    for (const canvas of canvases) {
      const gl = canvas.getContext('webgl2');
      gl?.getExtension('WEBGL_lose_context')?.loseContext();
    }
    this._onChange('dom');
  }

  dispose(): void {
    this.disable();
  }
}
