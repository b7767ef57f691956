import { useEffect, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { ConnectionState } from '../api/client-extras.ts';
import type { Theme } from '../model/preferences.ts';
import { hasEnded } from '../model/session-life.ts';
import { type SizeInfo, TerminalController } from '../terminal/terminal-controller.ts';
import { loadTranscript } from '../terminal/transcript.ts';
import { EndedBar } from './EndedBar.tsx';
import { PhoneKeys } from './PhoneKeys.tsx';
import { ScrollbackSearch } from './ScrollbackSearch.tsx';
import { SessionBanner } from './SessionBanner.tsx';
import { panelDomId, tabDomId } from './TabBar.tsx';
import type { SessionActions } from './Workspace.tsx';

export interface TerminalPaneProps {
  api: AutoDevApi;
  session: SessionInfo;
  visible: boolean;
  readOnly: boolean;
  fontSize: number;
  theme: Theme;
  webgl: boolean;
  searchOpen: boolean;
  registry: Map<string, TerminalController>;
  actions: SessionActions;
  /** Bumped when a person activates this session: the view takes the PTY size once visible. */
  claimTick: number;
  openLink(uri: string): void;
  onStatus(session: SessionInfo): void;
  onSearchClose(): void;
  /** Phone: a row of keys phones lack (Esc, Tab, Ctrl+C, arrows). */
  phoneKeys: boolean;
}

/**
 * One tab's panel: state notes, the search box, the terminal, and for an ended session its
 * transcript with what can be done next (Replay, Resume, Remove) instead of a live prompt.
 */
export function TerminalPane(props: TerminalPaneProps) {
  const { session, visible } = props;
  const host = useRef<HTMLDivElement>(null);
  const controller = useRef<TerminalController | null>(null);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [streamError, setStreamError] = useState<string | null>(null);
  const [renderer, setRenderer] = useState<'webgl' | 'dom'>('dom');
  const [size, setSize] = useState<SizeInfo | null>(null);
  const [results, setResults] = useState<{ index: number; count: number } | null>(null);
  const ended = hasEnded(session);
  // Latest callbacks without re-creating the terminal.
  const callbacks = useRef(props);
  callbacks.current = props;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the terminal is created once per session
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const startedEnded = hasEnded(callbacks.current.session);
    const c = new TerminalController({
      api: props.api,
      sessionId: session.session_id,
      readOnly: props.readOnly || startedEnded,
      fontSize: props.fontSize,
      theme: props.theme,
      webgl: props.webgl,
      initialSize: { cols: session.cols, rows: session.rows },
      onRendererChange: setRenderer,
      onSizeInfo: setSize,
      onSearchResults: setResults,
      openLink: (uri) => callbacks.current.openLink(uri),
      onStatus: (s) => callbacks.current.onStatus(s),
      onConnection: (state) => {
        setConnection(state);
        if (state === 'open') setStreamError(null);
      },
      onError: (error) => {
        // The session ended while we were attaching (or the server restarted): its transcript is
        // what there is to see; the ended bar says what happened, so no error text is shown.
        if (error.error_code === 'NOT_FOUND' || hasEnded(callbacks.current.session)) {
          showTranscript(c);
          return;
        }
        setStreamError(friendlyStreamError(error.error_code));
      },
    });
    const showTranscript = (target: TerminalController) =>
      void loadTranscript(props.api, session.session_id)
        .then((text) => target.showTranscript(text))
        .catch(() => setStreamError('The recorded output of this session could not be loaded.'));
    // An ended session is never attached: nothing runs to stream from, and nobody may type into it.
    c.mount(el, !startedEnded);
    if (startedEnded) showTranscript(c);
    controller.current = c;
    props.registry.set(session.session_id, c);
    return () => {
      props.registry.delete(session.session_id);
      controller.current = null;
      c.dispose();
    };
  }, [session.session_id, props.api, props.readOnly]);

  useEffect(() => {
    controller.current?.setVisible(visible);
    if (visible && !props.searchOpen) controller.current?.focus();
  }, [visible, props.searchOpen]);
  // After the visibility effect: the view is laid out, so its fitted size goes with the claim.
  useEffect(() => {
    if (visible && props.claimTick > 0) controller.current?.claim();
  }, [visible, props.claimTick]);
  useEffect(() => {
    if (ended) controller.current?.end();
  }, [ended]);
  useEffect(() => controller.current?.setFontSize(props.fontSize), [props.fontSize]);
  useEffect(() => controller.current?.setTheme(props.theme), [props.theme]);
  useEffect(() => controller.current?.setWebgl(props.webgl), [props.webgl]);

  // Another view sets the size: this one draws the PTY's grid as it is (scaled down when bigger).
  const sizedElsewhere =
    !!size?.fitted && (size.fitted.cols !== size.pty.cols || size.fitted.rows !== size.pty.rows);
  return (
    <section
      role="tabpanel"
      id={panelDomId(session.session_id)}
      aria-labelledby={tabDomId(session.session_id)}
      className="terminal-pane"
      hidden={!visible}
      data-session-id={session.session_id}
      data-connection={ended ? 'ended' : connection}
      data-renderer={renderer}
      data-pty-size={size ? `${size.pty.cols}x${size.pty.rows}` : undefined}
      data-fitted-size={size?.fitted ? `${size.fitted.cols}x${size.fitted.rows}` : undefined}
    >
      <div className="terminal-frame">
        {props.searchOpen && visible ? (
          <ScrollbackSearch
            results={results}
            onFind={(text, backwards) =>
              backwards ? controller.current?.findPrevious(text) : controller.current?.findNext(text)
            }
            onClose={() => {
              controller.current?.clearSearch();
              setResults(null);
              props.onSearchClose();
              controller.current?.focus();
            }}
          />
        ) : null}
        <SessionBanner
          session={session}
          readOnly={props.readOnly}
          connection={ended ? 'open' : connection}
          streamError={streamError}
        />
        <div className="terminal-host" ref={host} data-testid="terminal" />
        {sizedElsewhere && size ? (
          <p className="size-chip" role="status" data-testid="size-chip">
            {props.readOnly
              ? `Shown at the agent's size, ${size.pty.cols}×${size.pty.rows}`
              : `Sized by another view (${size.pty.cols}×${size.pty.rows}). Tap to fit here.`}
          </p>
        ) : null}
      </div>
      {ended ? (
        <EndedBar session={session} api={props.api} actions={props.actions} readOnly={props.readOnly} />
      ) : props.phoneKeys && visible ? (
        <PhoneKeys
          onKey={(data) => controller.current?.sendKeys(data)}
          onPaste={(text) => controller.current?.paste(text)}
        />
      ) : null}
    </section>
  );
}

/** The stream's failure in words a person can act on (no ids, no internal codes). */
function friendlyStreamError(code: string): string {
  switch (code) {
    case 'FORBIDDEN':
      return 'This token may not open this session.';
    case 'UNAUTHORIZED':
      return 'The server refused the token.';
    case 'RATE_LIMITED':
      return 'Too many viewers are watching this session; retrying shortly.';
    case 'POLICY':
      return 'The server closed the connection (too many messages). Reload to reconnect.';
    default:
      return 'The live output could not be shown. Reload to try again.';
  }
}
