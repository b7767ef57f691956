import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
import { Terminal } from '@xterm/xterm';
import type { AutoDevApi, TerminalAttachment } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { ConnectionState } from '../api/client-extras.ts';
import type { Theme } from '../model/preferences.ts';
import { TERMINAL_THEMES } from './themes.ts';

/**
 * One xterm.js terminal bound to one session. Lives outside React so switching tabs never recreates
 * it: a hidden tab keeps its screen (and its stream), and only the visible one holds a WebGL context
 * (Chromium allows ~16; past that the oldest is lost and a live terminal blanks).
 */
export interface TerminalControllerOptions {
  api: AutoDevApi;
  sessionId: string;
  readOnly: boolean;
  fontSize: number;
  theme: Theme;
  /** Use WebGL while visible (falls back to the DOM renderer when unavailable or lost). */
  webgl: boolean;
  /** Open a link the user clicked (already checked to be http/https by the caller's policy). */
  openLink: (uri: string) => void;
  onStatus?: (session: SessionInfo) => void;
  onConnection?: (state: ConnectionState) => void;
  onError?: (error: { error: string; error_code: string }) => void;
  onRendererChange?: (renderer: 'webgl' | 'dom') => void;
}

const RESIZE_DEBOUNCE_MS = 60;
const MAX_WEBGL_FAILURES = 3;

export class TerminalController {
  readonly term: Terminal;
  private readonly _options: TerminalControllerOptions;
  private readonly _fit = new FitAddon();
  private readonly _search = new SearchAddon();
  private _webgl: WebglAddon | undefined;
  private _webglFailures = 0;
  private _webglWanted: boolean;
  private _attachment: TerminalAttachment | null = null;
  private _element: HTMLElement | null = null;
  private _visible = false;
  private _lastSeq = 0;
  private _resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private _observer: ResizeObserver | null = null;
  private _sentSize = { cols: 0, rows: 0 };
  private _disposed = false;
  private readonly _cleanups: (() => void)[] = [];

  constructor(options: TerminalControllerOptions) {
    this._options = options;
    this._webglWanted = options.webgl;
    this.term = new Terminal({
      fontSize: options.fontSize,
      fontFamily: '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, monospace',
      theme: TERMINAL_THEMES[options.theme],
      scrollback: 10_000,
      allowProposedApi: true,
      disableStdin: options.readOnly,
      cursorBlink: !options.readOnly,
      // OSC 8 hyperlinks go through the same http(s)-only policy as detected URLs (the default
      // handler would show a confirm() and open anything).
      linkHandler: {
        activate: (_event, text) => options.openLink(text),
        allowNonHttpProtocols: false,
      },
    });
    this.term.loadAddon(this._fit);
    this.term.loadAddon(this._search);
    this.term.loadAddon(new WebLinksAddon((_event, uri) => options.openLink(uri)));
    if (!options.readOnly) {
      const input = this.term.onData((data) => this._attachment?.input(data));
      this._cleanups.push(() => input.dispose());
    }
  }

  get sessionId(): string {
    return this._options.sessionId;
  }

  get lastSeq(): number {
    return this._lastSeq;
  }

  /** Put the terminal in the page and start streaming (snapshot/replay first, then live output). */
  mount(element: HTMLElement): void {
    if (this._element || this._disposed) return;
    this._element = element;
    this.term.open(element);
    // Pastes: strip ESC so pasted text cannot smuggle control sequences or end bracketed paste.
    const onPaste = (event: ClipboardEvent) => {
      const text = event.clipboardData?.getData('text/plain');
      event.preventDefault();
      event.stopPropagation();
      if (text) this.paste(text);
    };
    element.addEventListener('paste', onPaste, true);
    this._cleanups.push(() => element.removeEventListener('paste', onPaste, true));
    this._observer = new ResizeObserver(() => this._scheduleFit());
    this._observer.observe(element);
    this._attach();
  }

  private _attach(): void {
    const { api, sessionId } = this._options;
    this._attachment = api.attach(
      sessionId,
      {
        onOutput: (seq, data, parsed) => {
          // Already on screen (replayed after a reconnect): acknowledge without writing twice.
          if (seq <= this._lastSeq) {
            parsed();
            return;
          }
          this._lastSeq = seq;
          // Flow control: acknowledge only once xterm has parsed the data (VS Code's scheme).
          this.term.write(data, parsed);
        },
        onSnapshot: (snapshot) => {
          this._lastSeq = snapshot.seq;
          this.term.reset();
          if (this._options.readOnly || !this._visible) {
            // A viewer that cannot resize the PTY mirrors its size, so the screen lays out exactly.
            if (snapshot.cols > 0 && snapshot.rows > 0) this.term.resize(snapshot.cols, snapshot.rows);
          }
          this.term.write(snapshot.screen);
          if (this._visible) this._scheduleFit(true);
        },
        onStatus: (session) => {
          if (this._options.readOnly && (session.cols !== this.term.cols || session.rows !== this.term.rows))
            this.term.resize(session.cols, session.rows);
          this._options.onStatus?.(session);
        },
        onError: (error) => this._options.onError?.(error),
        onConnectionChange: (state) => {
          // The server forgets our size when we reconnect: send it again.
          if (state === 'open') this._sentSize = { cols: 0, rows: 0 };
          if (state === 'open' && this._visible) this._scheduleFit(true);
          this._options.onConnection?.(state);
        },
      },
      { lastSeq: this._lastSeq },
    );
  }

  setVisible(visible: boolean): void {
    if (this._visible === visible || this._disposed) return;
    this._visible = visible;
    if (visible) {
      this._enableWebgl();
      this._scheduleFit(true);
    } else {
      this._disableWebgl();
    }
  }

  setWebgl(enabled: boolean): void {
    this._webglWanted = enabled;
    if (!enabled) this._disableWebgl();
    else if (this._visible) this._enableWebgl();
  }

  private _enableWebgl(): void {
    if (!this._webglWanted || this._webgl || this._webglFailures >= MAX_WEBGL_FAILURES || !this._element)
      return;
    try {
      const addon = new WebglAddon();
      addon.onContextLoss(() => {
        // Lost (GPU reset or too many contexts): drop to the DOM renderer, which always works.
        this._webglFailures += 1;
        if (this._webgl === addon) this._webgl = undefined;
        addon.dispose();
        this._options.onRendererChange?.('dom');
      });
      this.term.loadAddon(addon);
      this._webgl = addon;
      this._options.onRendererChange?.('webgl');
    } catch {
      // No WebGL (e.g. --disable-gpu): the DOM renderer stays in place.
      this._webglFailures = MAX_WEBGL_FAILURES;
    }
  }

  private _disableWebgl(): void {
    const addon = this._webgl;
    if (!addon) return;
    this._webgl = undefined;
    const canvases = Array.from(this._element?.querySelectorAll('canvas') ?? []);
    addon.dispose();
    // Give the context back now rather than at garbage collection (xterm.js#6068).
    for (const canvas of canvases) {
      const gl = canvas.getContext('webgl2');
      gl?.getExtension('WEBGL_lose_context')?.loseContext();
    }
    this._options.onRendererChange?.('dom');
  }

  /** Renderer in use, for diagnostics and tests. */
  get renderer(): 'webgl' | 'dom' {
    return this._webgl ? 'webgl' : 'dom';
  }

  private _scheduleFit(immediate = false): void {
    clearTimeout(this._resizeTimer);
    if (immediate) this._fitNow();
    else this._resizeTimer = setTimeout(() => this._fitNow(), RESIZE_DEBOUNCE_MS);
  }

  private _fitNow(): void {
    if (!this._visible || this._disposed || !this._element || this._options.readOnly) return;
    const proposed = this._fit.proposeDimensions();
    if (!proposed || !Number.isFinite(proposed.cols) || !Number.isFinite(proposed.rows)) return;
    const cols = Math.max(2, Math.min(1000, proposed.cols));
    const rows = Math.max(1, Math.min(500, proposed.rows));
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
    if (cols !== this._sentSize.cols || rows !== this._sentSize.rows) {
      this._sentSize = { cols, rows };
      this._attachment?.resize(cols, rows);
    }
  }

  setFontSize(size: number): void {
    this.term.options.fontSize = size;
    this._scheduleFit(true);
  }

  setTheme(theme: Theme): void {
    this.term.options.theme = TERMINAL_THEMES[theme];
  }

  focus(): void {
    this.term.focus();
  }

  findNext(text: string): boolean {
    return text ? this._search.findNext(text, { incremental: false }) : false;
  }

  findPrevious(text: string): boolean {
    return text ? this._search.findPrevious(text) : false;
  }

  clearSearch(): void {
    this._search.clearDecorations();
    this.term.clearSelection();
  }

  getSelection(): string {
    return this.term.getSelection();
  }

  paste(text: string): void {
    if (this._options.readOnly) return;
    // eslint-disable-next-line no-control-regex
    this.term.paste(text.replace(/\x1b/g, ''));
  }

  /**
   * The live stream is gone (a session of an earlier run): show its recorded transcript instead, as
   * plain history. Line ends are normalised because stored transcripts may hold bare LF.
   */
  showTranscript(text: string): void {
    this.term.reset();
    this.term.options.disableStdin = true;
    // History, not a live prompt: no cursor.
    this.term.write(`${text.replace(/\r?\n/g, '\r\n')}\x1b[?25l`);
  }

  /** Send text then Enter (used for the first prompt of a new session). */
  command(text: string): void {
    if (!this._options.readOnly) this._attachment?.command(text);
  }

  interrupt(): void {
    if (!this._options.readOnly) this._attachment?.interrupt();
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    clearTimeout(this._resizeTimer);
    this._observer?.disconnect();
    this._attachment?.detach();
    this._attachment = null;
    this._disableWebgl();
    for (const cleanup of this._cleanups.splice(0)) cleanup();
    this.term.dispose();
  }
}
