import type { HistoryEntry } from '../../../src-shared/rest.ts';

/**
 * A replay timeline built from a session's history: the recorded output chunks (raw, ANSI kept) as
 * frames and the submitted input as markers, on one clock. Long idle gaps are shortened to
 * MAX_GAP_MS so a session that waited an hour for its user does not play an hour of nothing; the
 * clock shows replay time, the markers keep their real time for their labels.
 */
export interface ReplayFrame {
  /** Replay time (ms from the start, idle gaps shortened). */
  t: number;
  data: string;
}

export interface ReplayMarker {
  /** Stable key (its place in the recording). */
  id: number;
  t: number;
  /** When it was typed (ISO). */
  at: string;
  text: string;
  kind: 'command' | 'input';
}

export interface ReplayTimeline {
  frames: ReplayFrame[];
  markers: ReplayMarker[];
  duration: number;
  /** Wall-clock start of the recording (ISO), or null when there is none. */
  startedAt: string | null;
}

export const MAX_GAP_MS = 2000;

export function buildTimeline(history: readonly HistoryEntry[], maxGap = MAX_GAP_MS): ReplayTimeline {
  const outputs = history
    .filter((h): h is Extract<HistoryEntry, { message_type: 'output' }> => h.message_type === 'output')
    .slice()
    .sort((a, b) => a.seq_start - b.seq_start);
  const frames: ReplayFrame[] = [];
  // Real time and output seq at each frame, for placing markers.
  const anchors: { real: number; t: number; seqEnd: number }[] = [];
  // Frames start at 1 ms so a marker before any output (t = 0) shows an empty screen; every frame
  // gets its own instant so a marker can sit between any two.
  let t = 0;
  let previous: number | null = null;
  for (const out of outputs) {
    const real = Date.parse(out.at);
    const at: number = Number.isNaN(real) ? (previous ?? 0) : real;
    t += previous === null ? 1 : Math.max(1, Math.min(at - previous, maxGap));
    previous = at;
    frames.push({ t, data: out.output });
    anchors.push({ real: at, t, seqEnd: out.seq_end });
  }
  const markers = submittedLines(
    history.filter(
      (h): h is Extract<HistoryEntry, { message_type: 'command' }> => h.message_type === 'command',
    ),
  )
    .map((h) => ({
      t: h.seq !== null ? replayTimeOfSeq(h.seq, anchors) : replayTimeOf(Date.parse(h.at), anchors, maxGap),
      at: h.at,
      text: h.command,
      kind: h.kind,
    }))
    .sort((a, b) => a.t - b.t)
    .map((m, id) => ({ id, ...m }));
  const duration = Math.max(frames.at(-1)?.t ?? 0, markers.at(-1)?.t ?? 0);
  return { frames, markers, duration, startedAt: outputs[0]?.at ?? null };
}

/**
 * Replay time of input typed when the output stood at `seq` (the journal records it): the screen
 * shows everything printed up to then and nothing after — exact, whatever the clocks of the rows.
 */
function replayTimeOfSeq(seq: number, anchors: readonly { t: number; seqEnd: number }[]): number {
  let t = 0;
  for (const a of anchors) {
    if (a.seqEnd > seq) break;
    t = a.t;
  }
  return t;
}

type CommandEntry = Extract<HistoryEntry, { message_type: 'command' }>;

/**
 * The lines a person submitted. The server records them as `command` entries (assembled from the keys
 * on Enter) beside the raw key journal (`input`); when a history has command entries they are the
 * lines. A history from before the server assembled lines has only keys: they are assembled here —
 * printable text accumulates, Backspace removes, escape sequences (arrows, function keys) are
 * skipped, Enter submits the line at the time of the Enter.
 */
export function submittedLines(entries: readonly CommandEntry[]): CommandEntry[] {
  if (entries.some((e) => e.kind === 'command')) return entries.filter((e) => e.kind === 'command');
  const out: CommandEntry[] = [];
  let line = '';
  let last: CommandEntry | null = null;
  const ordered = entries.slice().sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const entry of ordered) {
    const text = entry.command.replace(/\x1b\[200~|\x1b\[201~/g, '');
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\x1b') {
        // Skip CSI/SS3 sequences: ESC [ … final, or ESC O x.
        const m = /^\x1b(\[[0-?]*[ -/]*[@-~]|O.|.)/.exec(text.slice(i));
        i += (m?.[0].length ?? 1) - 1;
      } else if (ch === '\r' || ch === '\n') {
        if (line.trim()) out.push({ ...entry, command: line, kind: 'input' });
        line = '';
      } else if (ch === '\x7f' || ch === '\b') {
        line = line.slice(0, -1);
      } else if (ch === '\x03' || ch === '\x15') {
        line = '';
      } else if (ch >= ' ') {
        line += ch;
      }
    }
    last = entry;
  }
  if (line.trim() && last) out.push({ ...last, command: line, kind: 'input' });
  return out;
}

function replayTimeOf(real: number, anchors: readonly { real: number; t: number }[], maxGap: number): number {
  // Without a seq: by the clock, just before the first frame printed after it.
  if (anchors.length === 0 || Number.isNaN(real)) return 0;
  const next = anchors.findIndex((a) => a.real > real);
  if (next === -1) {
    const last = anchors.at(-1)!;
    return last.t + Math.min(Math.max(0, real - last.real), maxGap);
  }
  const after = anchors[next]!;
  if (next === 0) return 0;
  const before = anchors[next - 1]!;
  const gap = after.t - before.t;
  return Math.min(after.t, before.t + Math.min(Math.max(0, real - before.real), gap));
}

/** How many frames are on screen at replay time `t` (frames at exactly `t` included). */
export function framesAt(timeline: ReplayTimeline, t: number): number {
  let lo = 0;
  let hi = timeline.frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeline.frames[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** "1:05" (minutes and seconds; hours when needed). */
export function formatClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export const REPLAY_SPEEDS = [0.5, 1, 2, 4, 8, 16] as const;
