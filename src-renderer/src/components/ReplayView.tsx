import { Terminal } from '@xterm/xterm';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { describeError } from '../api/api-error.ts';
import type { Theme } from '../model/preferences.ts';
import { buildTimeline, formatClock, framesAt, REPLAY_SPEEDS, type ReplayTimeline } from '../model/replay.ts';
import { fitGridLocally } from '../terminal/local-fit-dom.ts';
import { guardQueries } from '../terminal/query-guard.ts';
import { TERMINAL_THEMES } from '../terminal/themes.ts';
import { loadReplayHistory } from '../terminal/transcript.ts';
import { CloseIcon, PauseIcon, PlayIcon } from './Icons.tsx';

const TICK_MS = 50;

/**
 * Replay of a recorded session in its own terminal (no input, no PTY) with a timeline: play, pause,
 * speed, a scrubber, a marker for every command typed, and a list to jump to any of them. Seeking back
 * redraws from the start; playing forward writes only the frames in between.
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
  const term = useRef<Terminal | null>(null);
  /** Frames currently written to the terminal. */
  const shown = useRef(0);
  const [timeline, setTimeline] = useState<ReplayTimeline | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [position, setPosition] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(4);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const t = new Terminal({
      disableStdin: true,
      cursorBlink: false,
      cols: Math.max(20, session.cols),
      rows: Math.max(5, session.rows),
      scrollback: 100_000,
      fontSize,
      theme: TERMINAL_THEMES[theme],
      // Links in a replay are inert: no handler opens anything.
      linkHandler: { activate: () => {}, allowNonHttpProtocols: false },
    });
    // A replay answers nothing: it has no PTY, and its queries are history.
    guardQueries(t.parser);
    t.open(el);
    term.current = t;
    shown.current = 0;
    const observer = new ResizeObserver(() => t.element && fitGridLocally(el, t.element));
    observer.observe(el);
    let cancelled = false;
    loadReplayHistory(api, session.session_id)
      .then((history) => {
        if (cancelled) return;
        const built = buildTimeline(history);
        setTimeline(built);
        // Open at the end: the final screen, as a transcript reads.
        setPosition(built.duration);
      })
      .catch((e) => !cancelled && setError(describeError(e)));
    return () => {
      cancelled = true;
      observer.disconnect();
      term.current = null;
      t.dispose();
    };
  }, [api, session.session_id, session.cols, session.rows, theme, fontSize]);

  // Draw the screen at `position`.
  useEffect(() => {
    const t = term.current;
    if (!t || !timeline) return;
    const target = framesAt(timeline, position);
    if (target < shown.current) {
      t.reset();
      shown.current = 0;
    }
    if (target > shown.current) {
      t.write(
        timeline.frames
          .slice(shown.current, target)
          .map((f) => f.data)
          .join(''),
        () => {
          if (t.element && host.current) fitGridLocally(host.current, t.element);
        },
      );
      shown.current = target;
    }
  }, [timeline, position]);

  // The clock.
  useEffect(() => {
    if (!playing || !timeline) return;
    let last = performance.now();
    const id = setInterval(() => {
      const now = performance.now();
      const step = (now - last) * speed;
      last = now;
      setPosition((p) => {
        const next = Math.min(timeline.duration, p + step);
        if (next >= timeline.duration) setPlaying(false);
        return next;
      });
    }, TICK_MS);
    return () => clearInterval(id);
  }, [playing, speed, timeline]);

  const duration = timeline?.duration ?? 0;
  const togglePlay = useCallback(() => {
    if (!timeline) return;
    if (!playing && position >= timeline.duration) setPosition(0);
    setPlaying((p) => !p);
  }, [playing, position, timeline]);

  const markers = useMemo(() => timeline?.markers.slice(0, 500) ?? [], [timeline]);
  const status = error
    ? `Could not load the recording: ${error}`
    : !timeline
      ? 'Loading the recording…'
      : timeline.frames.length === 0
        ? 'This session printed nothing.'
        : playing
          ? 'Playing'
          : position >= duration
            ? 'End of recording'
            : 'Paused';

  return (
    <section className="replay" aria-label={`Replay of ${session.name}`}>
      <header className="replay-header">
        <h2>
          <span className="muted">Replay</span> {session.name}
        </h2>
        <span role="status" className="muted replay-status" data-status={status}>
          {status}
        </span>
        <button type="button" className="icon-button" aria-label="Close replay" onClick={onClose}>
          <CloseIcon />
        </button>
      </header>
      <div className="replay-body">
        <div className="terminal-host replay-host" ref={host} data-testid="replay-terminal" />
        {markers.length > 0 ? (
          <nav className="replay-commands" aria-label="Commands">
            <h3>Commands</h3>
            <ol className="plain-list">
              {markers.map((m) => (
                <li key={m.id}>
                  <button
                    type="button"
                    className={`replay-command${position >= m.t ? ' replay-command-past' : ''}`}
                    onClick={() => {
                      setPlaying(false);
                      setPosition(m.t);
                    }}
                  >
                    <span className="mono replay-command-text">{m.text.trim() || '⏎'}</span>
                    <span className="muted replay-command-time">{formatClock(m.t)}</span>
                  </button>
                </li>
              ))}
            </ol>
          </nav>
        ) : null}
      </div>
      <div className="replay-controls">
        <button
          type="button"
          className="button button-primary replay-play"
          aria-label={playing ? 'Pause' : 'Play'}
          disabled={!timeline || timeline.frames.length === 0}
          onClick={togglePlay}
        >
          {playing ? <PauseIcon /> : <PlayIcon />}
        </button>
        <span className="mono replay-clock" data-testid="replay-clock">
          {formatClock(position)} / {formatClock(duration)}
        </span>
        <div className="replay-track">
          <input
            type="range"
            aria-label="Replay position"
            min={0}
            max={Math.max(1, Math.round(duration))}
            step={1}
            value={Math.round(position)}
            disabled={!timeline}
            onChange={(e) => {
              setPlaying(false);
              setPosition(Number(e.target.value));
            }}
          />
          <div className="replay-markers" aria-hidden="true">
            {markers.map((m) => (
              <span
                key={m.id}
                className="replay-marker"
                data-kind={m.kind}
                title={m.text}
                style={{ left: `${duration > 0 ? (m.t / duration) * 100 : 0}%` }}
              />
            ))}
          </div>
        </div>
        <label className="replay-speed">
          <span className="visually-hidden">Speed</span>
          <select value={speed} aria-label="Speed" onChange={(e) => setSpeed(Number(e.target.value))}>
            {REPLAY_SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
      </div>
    </section>
  );
}
