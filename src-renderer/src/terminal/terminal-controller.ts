import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import type { AutoDevApi, TerminalAttachment } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { ConnectionState } from '../api/client-extras.ts';
import type { Theme } from '../model/preferences.ts';
import { keyDecision } from './key-policy.ts';
import { fitGridLocally } from './local-fit-dom.ts';
import { guardQueries, isFocusReport } from './query-guard.ts';
import { lastLines } from './screen-lines.ts';
import { clampSize, type LocalFit, type Size, sameSize } from './size-policy.ts';
import { TERMINAL_THEMES } from './themes.ts';
import { WebglRenderer } from './webgl-renderer.ts';

/**
 * One xterm.js terminal bound to one session. Lives outside React so switching tabs never recreates
 * it: a hidden tab keeps its screen (and its stream), and only the visible one holds a WebGL context.
 *
 * Input integrity: only what a person types, pastes or composes reaches the agent. Terminal queries in
 * the output (replayed or live) are swallowed before xterm can answer them (query-guard.ts), focus
 * reports are dropped, and a read-only view never writes at all.
 *
 * Size: the view in use sets the PTY size (see size-policy.ts). This view reports its fitted size as a
 * preference (`resize`), says when a person starts using it (`focus`: a pointer press on the terminal or
 * a tab the user activated), and always draws the PTY's exact grid, fitted locally.
 */
export interface TerminalControllerOptions {
  api: AutoDevApi;
  sessionId: string;
  readOnly: boolean;
  fontSize: number;
  theme: Theme;
  /** Use WebGL while visible (falls back to the DOM renderer when unavailable or lost). */
  webgl: boolean;
  /** The PTY size known before the stream starts (the session's cols/rows). */
  initialSize?: Size;
  /** Open a link the user clicked (already checked to be http/https by the caller's policy). */
  openLink: (uri: string) => void;
  onStatus?: (session: SessionInfo) => void;
  onConnection?: (state: ConnectionState) => void;
  onError?: (error: { error: string; error_code: string }) => void;
  onRendererChange?: (renderer: 'webgl' | 'dom') => void;
  onSizeInfo?: (info: SizeInfo) => void;
  /** Scrollback search results changed (index is 0-based, -1 when the match is not highlighted). */
  onSearchResults?: (results: { index: number; count: number }) => void;
}

export interface SizeInfo {
  /** The PTY's size: what this view draws. */
  pty: Size;
  /** What this view's space would fit (null while hidden or not laid out). */
  fitted: Size | null;
  /** The grid is drawn scaled/scrolled because another view sets the size. */
  fit: LocalFit;
}

const RESIZE_DEBOUNCE_MS = 60;

export class TerminalController {
  readonly term: Terminal;
  private readonly _options: TerminalControllerOptions;
  private readonly _fit = new FitAddon();
  private readonly _search = new SearchAddon();
  private readonly _webgl: WebglRenderer;
  private _attachment: TerminalAttachment | null = null;
  private _element: HTMLElement | null = null;
  private _visible = false;
  private _lastSeq = 0;
  private _resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private _observer: ResizeObserver | null = null;
  /** The PTY's size as the server last said; the local grid follows it in stream order. */
  private _pty: Size;
  private _fitted: Size | null = null;
  private _sentSize: Size | null = null;
  private _disposed = false;
  private _ended = false;
  private readonly _cleanups: (() => void)[] = [];

  constructor(options: TerminalControllerOptions) {
    this._options = options;
    this._pty = clampSize(options.initialSize ?? { cols: 80, rows: 24 });
    this.term = new Terminal({
      cols: this._pty.cols,
      rows: this._pty.rows,
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
    this._webgl = new WebglRenderer(this.term, options.webgl, (r) => options.onRendererChange?.(r));
    this.term.loadAddon(this._fit);
    this.term.loadAddon(this._search);
    this.term.loadAddon(new WebLinksAddon((_event, uri) => options.openLink(uri)));
    const guard = guardQueries(this.term.parser);
    this._cleanups.push(() => guard.dispose());
    const results = this._search.onDidChangeResults((r) =>
      options.onSearchResults?.({ index: r.resultIndex, count: r.resultCount }),
    );
    this._cleanups.push(() => results.dispose());
    this.term.attachCustomKeyEventHandler((event) => {
      const decision = keyDecision(event, this.term.hasSelection());
      if (decision === 'copy' && event.type === 'keydown') {
        // No browser default copies on Ctrl+Shift+C: run the copy command (xterm fills the clipboard
        // from its selection in its copy handler), in this user gesture.
        event.preventDefault();
        if (this.term.hasSelection()) document.execCommand('copy');
      }
      return decision === 'terminal';
    });
    if (!options.readOnly) {
      const input = this.term.onData((data) => {
        if (!isFocusReport(data)) this._attachment?.input(data);
      });
      this._cleanups.push(() => input.dispose());
    }
  }

  get sessionId(): string {
    return this._options.sessionId;
  }

  get lastSeq(): number {
    return this._lastSeq;
  }

  /** Put the terminal in the page; `live` streams from the server, otherwise the caller shows a transcript. */
  mount(element: HTMLElement, live = true): void {
    if (this._element || this._disposed) return;
    this._element = element;
    this.term.open(element);
    this._webgl.attach(element);
    // Pastes (the browser's paste event: Ctrl+V, Ctrl+Shift+V, Shift+Insert, the context menu): strip
    // ESC so pasted text cannot smuggle control sequences or end bracketed paste early.
    const onPaste = (event: ClipboardEvent) => {
      const text = event.clipboardData?.getData('text/plain');
      event.preventDefault();
      event.stopPropagation();
      if (text) this.paste(text);
    };
    element.addEventListener('paste', onPaste, true);
    // A person pressing on this terminal is using this view: it takes the PTY size.
    const onPointer = () => this.claim();
    element.addEventListener('pointerdown', onPointer, true);
    this._cleanups.push(() => {
      element.removeEventListener('paste', onPaste, true);
      element.removeEventListener('pointerdown', onPointer, true);
    });
    this._observer = new ResizeObserver(() => this._scheduleFit());
    this._observer.observe(element);
    if (live) this._attach();
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
          // In stream order: output queued before the snapshot is parsed first, then replaced.
          this.term.write('', () => {
            this.term.reset();
            if (snapshot.cols > 0 && snapshot.rows > 0)
              this._setPtySize({ cols: snapshot.cols, rows: snapshot.rows });
          });
          this.term.write(snapshot.screen);
        },
        onStatus: (session) => {
          if (session.cols > 0 && session.rows > 0) {
            const size = { cols: session.cols, rows: session.rows };
            // The grid changes size where the PTY did: after the output printed for the old size.
            this.term.write('', () => this._setPtySize(size));
          }
          this._options.onStatus?.(session);
        },
        onError: (error) => this._options.onError?.(error),
        onConnectionChange: (state) => {
          // The server forgets our size when we reconnect: send it again.
          if (state === 'open') this._sentSize = null;
          if (state === 'open' && this._visible) this._scheduleFit(true);
          this._options.onConnection?.(state);
        },
      },
      { lastSeq: this._lastSeq },
    );
  }

  /** What this view's space fits (null while hidden or not laid out): a new session can start at it. */
  get fittedSize(): Size | null {
    return this._fitted ? { ...this._fitted } : null;
  }

  /** This view is the one in use (a person pressed on it or activated its tab): it sets the PTY size. */
  claim(): void {
    if (this._options.readOnly || this._ended || !this._visible || this._disposed) return;
    // The size this view prefers goes first, so the server applies it together with the focus.
    this._fitNow();
    this._attachment?.focus();
  }

  setVisible(visible: boolean): void {
    if (this._visible === visible || this._disposed) return;
    this._visible = visible;
    if (visible) {
      this._webgl.enable();
      this._scheduleFit(true);
    } else {
      this._webgl.disable();
    }
  }

  setWebgl(enabled: boolean): void {
    this._webgl.setWanted(enabled, this._visible);
  }

  /** Renderer in use, for diagnostics and tests. */
  get renderer(): 'webgl' | 'dom' {
    return this._webgl.active ? 'webgl' : 'dom';
  }

  private _setPtySize(size: Size): void {
    if (this._disposed) return;
    this._pty = clampSize(size);
    if (this.term.cols !== this._pty.cols || this.term.rows !== this._pty.rows)
      this.term.resize(this._pty.cols, this._pty.rows);
    this._applyLocalFit();
  }

  private _scheduleFit(immediate = false): void {
    clearTimeout(this._resizeTimer);
    if (immediate) this._fitNow();
    else this._resizeTimer = setTimeout(() => this._fitNow(), RESIZE_DEBOUNCE_MS);
  }

  private _fitNow(): void {
    if (!this._visible || this._disposed || !this._element) return;
    const proposed = this._fit.proposeDimensions();
    if (proposed && Number.isFinite(proposed.cols) && Number.isFinite(proposed.rows)) {
      this._fitted = clampSize(proposed);
      // Hidden and read-only views never resize; the server keeps this size as our preference and
      // applies it only while this view is the one in use.
      if (!this._options.readOnly && !sameSize(this._fitted, this._sentSize)) {
        this._sentSize = this._fitted;
        this._attachment?.resize(this._fitted.cols, this._fitted.rows);
      }
    }
    this._applyLocalFit();
  }

  /** Scale (then scroll) the PTY's grid into this view's space; never reflow it. */
  private _applyLocalFit(): void {
    const host = this._element;
    const xterm = this.term.element;
    if (!host || !xterm || !this._visible) return;
    const fit = fitGridLocally(host, xterm);
    if (fit) this._options.onSizeInfo?.({ pty: { ...this._pty }, fitted: this._fitted, fit });
    this._webgl.verify();
  }

  setFontSize(size: number): void {
    this.term.options.fontSize = size;
    this._scheduleFit(true);
  }

  setTheme(theme: Theme): void {
    this.term.options.theme = TERMINAL_THEMES[theme];
  }

  /** Keyboard focus only; using the view (and taking the size) is `claim`. */
  focus(): void {
    this.term.focus();
  }

  findNext(text: string): boolean {
    return text
      ? this._search.findNext(text, { incremental: false, decorations: SEARCH_DECORATIONS })
      : false;
  }

  findPrevious(text: string): boolean {
    return text ? this._search.findPrevious(text, { decorations: SEARCH_DECORATIONS }) : false;
  }

  clearSearch(): void {
    this._search.clearDecorations();
    this.term.clearSelection();
  }

  getSelection(): string {
    return this.term.getSelection();
  }

  /** The last non-blank lines on screen (for the inbox: what the agent said last). */
  lastLines(count: number): string[] {
    return lastLines(this.term.buffer.active, this.term.rows, count);
  }

  paste(text: string): void {
    if (this._options.readOnly || this._ended) return;
    this.claim();
    // eslint-disable-next-line no-control-regex
    this.term.paste(text.replace(/\x1b/g, ''));
  }

  /**
   * The live stream is gone (an ended session): show its recorded transcript instead, as plain
   * history. Line ends are normalised because stored transcripts may hold bare LF.
   */
  showTranscript(text: string): void {
    this.term.reset();
    this.term.options.disableStdin = true;
    // History, not a live prompt: no cursor.
    this.term.write(`${text.replace(/\r?\n/g, '\r\n')}\x1b[?25l`);
  }

  /** Keys a person pressed outside the terminal (the phone key row). */
  sendKeys(data: string): void {
    if (this._options.readOnly || this._ended) return;
    this.claim();
    this._attachment?.input(data);
  }

  /** The process ended: keep the screen, stop the cursor and all input. */
  end(): void {
    if (this._ended) return;
    this._ended = true;
    this.term.options.disableStdin = true;
    this.term.options.cursorBlink = false;
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
    this._webgl.dispose();
    for (const cleanup of this._cleanups.splice(0)) cleanup();
    this.term.dispose();
  }
}

/** Match highlighting (the search addon counts results only when decorations are on). */
const SEARCH_DECORATIONS = {
  matchBackground: '#6b5a1a',
  matchOverviewRuler: '#d8b24a',
  activeMatchBackground: '#b08a00',
  activeMatchColorOverviewRuler: '#ffd866',
};
