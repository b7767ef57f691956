import { useEffect, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { ConnectionState } from '../api/client-extras.ts';
import type { Theme } from '../model/preferences.ts';
import { isEnded } from '../model/state-badge.ts';
import { TerminalController } from '../terminal/terminal-controller.ts';
import { loadTranscript } from '../terminal/transcript.ts';
import { SessionBanner } from './SessionBanner.tsx';
import { panelDomId, tabDomId } from './TabBar.tsx';

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
  openLink(uri: string): void;
  onStatus(session: SessionInfo): void;
  onSearchClose(): void;
  onRestart?: () => void;
}

/** One tab's panel: state banner, optional search box, and the live terminal. */
export function TerminalPane(props: TerminalPaneProps) {
  const { session, visible } = props;
  const host = useRef<HTMLDivElement>(null);
  const controller = useRef<TerminalController | null>(null);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [streamError, setStreamError] = useState<string | null>(null);
  const [renderer, setRenderer] = useState<'webgl' | 'dom'>('dom');
  // Latest callbacks without re-creating the terminal.
  const callbacks = useRef(props);
  callbacks.current = props;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the terminal is created once per session
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const c = new TerminalController({
      api: props.api,
      sessionId: session.session_id,
      readOnly: props.readOnly,
      fontSize: props.fontSize,
      theme: props.theme,
      webgl: props.webgl,
      onRendererChange: setRenderer,
      openLink: (uri) => callbacks.current.openLink(uri),
      onStatus: (s) => callbacks.current.onStatus(s),
      onConnection: (state) => {
        setConnection(state);
        if (state === 'open') setStreamError(null);
      },
      onError: (error) => {
        // An ended session the server no longer streams: fall back to its recorded transcript.
        if (error.error_code === 'NOT_FOUND' && isEnded(callbacks.current.session)) {
          void loadTranscript(props.api, session.session_id)
            .then((text) => controller.current?.showTranscript(text))
            .catch(() => setStreamError(error.error));
          return;
        }
        setStreamError(error.error);
      },
    });
    c.mount(el);
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
  useEffect(() => controller.current?.setFontSize(props.fontSize), [props.fontSize]);
  useEffect(() => controller.current?.setTheme(props.theme), [props.theme]);
  useEffect(() => controller.current?.setWebgl(props.webgl), [props.webgl]);

  return (
    <section
      role="tabpanel"
      id={panelDomId(session.session_id)}
      aria-labelledby={tabDomId(session.session_id)}
      className="terminal-pane"
      hidden={!visible}
      data-session-id={session.session_id}
      data-connection={connection}
      data-renderer={renderer}
    >
      <SessionBanner
        session={session}
        readOnly={props.readOnly}
        connection={connection}
        streamError={streamError}
      />
      {props.searchOpen && visible ? (
        <SearchBox
          onFind={(text, backwards) =>
            backwards ? controller.current?.findPrevious(text) : controller.current?.findNext(text)
          }
          onClose={() => {
            controller.current?.clearSearch();
            props.onSearchClose();
            controller.current?.focus();
          }}
        />
      ) : null}
      <div className="terminal-host" ref={host} data-testid="terminal" />
    </section>
  );
}

function SearchBox({
  onFind,
  onClose,
}: {
  onFind(text: string, backwards: boolean): boolean | undefined;
  onClose(): void;
}) {
  const [text, setText] = useState('');
  // The outcome is announced (role=status) whichever renderer draws the selection (DOM or WebGL).
  const [outcome, setOutcome] = useState<'found' | 'missing' | null>(null);
  const find = (backwards: boolean) => {
    if (text === '') return setOutcome(null);
    setOutcome(onFind(text, backwards) === false ? 'missing' : 'found');
  };
  return (
    <search className="search-box" aria-label="Search in scrollback">
      <input
        // biome-ignore lint/a11y/noAutofocus: opening the search box is an explicit request to type in it
        autoFocus
        type="search"
        aria-label="Search text"
        placeholder="Search scrollback"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOutcome(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            find(e.shiftKey);
          }
          if (e.key === 'Escape') {
            e.preventDefault();
            onClose();
          }
        }}
      />
      <button type="button" className="icon-button" aria-label="Previous match" onClick={() => find(true)}>
        ↑
      </button>
      <button type="button" className="icon-button" aria-label="Next match" onClick={() => find(false)}>
        ↓
      </button>
      <span role="status" className="search-status">
        {outcome === 'missing' ? 'No match' : outcome === 'found' ? 'Match selected' : ''}
      </span>
      <button type="button" className="icon-button" aria-label="Close search" onClick={onClose}>
        ×
      </button>
    </search>
  );
}
