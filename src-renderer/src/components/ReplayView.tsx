import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { describeError } from '../api/api-error.ts';
import type { Theme } from '../model/preferences.ts';
import { TERMINAL_THEMES } from '../terminal/themes.ts';
import { loadTranscript } from '../terminal/transcript.ts';

/**
 * Read-only replay of a session's transcript in its own terminal (no input, no PTY): the stored
 * output, falling back to the text export.
 */
export function ReplayView({
  api,
  session,
  theme,
  fontSize,
  onClose,
}: {
  api: AutoDevApi;
  session: SessionInfo;
  theme: Theme;
  fontSize: number;
  onClose(): void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('Loading transcript…');

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const term = new Terminal({
      disableStdin: true,
      // Stored transcripts may hold bare \n line ends.
      convertEol: true,
      cursorBlink: false,
      cols: Math.max(20, session.cols),
      rows: Math.max(5, Math.min(session.rows, 40)),
      scrollback: 100_000,
      fontSize,
      theme: TERMINAL_THEMES[theme],
      // Links in a replay are inert: no handler opens anything.
      linkHandler: { activate: () => {}, allowNonHttpProtocols: false },
    });
    term.open(el);
    let cancelled = false;
    loadTranscript(api, session.session_id)
      .then((text) => {
        if (cancelled) return;
        term.write(text, () => setStatus(text ? 'End of transcript.' : 'This session printed nothing.'));
      })
      .catch((e) => !cancelled && setStatus(`Could not load the transcript: ${describeError(e)}`));
    return () => {
      cancelled = true;
      term.dispose();
    };
  }, [api, session.session_id, session.cols, session.rows, theme, fontSize]);

  return (
    <section className="replay" aria-label={`Transcript of ${session.name}`}>
      <header className="replay-header">
        <h2>Transcript: {session.name}</h2>
        <span role="status" className="muted">
          {status}
        </span>
        <button type="button" className="button" onClick={onClose}>
          Close replay
        </button>
      </header>
      <div className="terminal-host replay-host" ref={host} data-testid="replay-terminal" />
    </section>
  );
}
