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
  // Real time → replay time at each frame, for placing markers.
  const anchors: { real: number; t: number }[] = [];
  let t = 0;
  let previous: number | null = null;
  for (const out of outputs) {
    const real = Date.parse(out.at);
    const at: number = Number.isNaN(real) ? (previous ?? 0) : real;
    if (previous !== null) t += Math.min(Math.max(0, at - previous), maxGap);
    previous = at;
    frames.push({ t, data: out.output });
    anchors.push({ real: at, t });
  }
  const markers = history
    .filter((h): h is Extract<HistoryEntry, { message_type: 'command' }> => h.message_type === 'command')
    .map((h) => ({
      t: replayTimeOf(Date.parse(h.at), anchors, maxGap),
      at: h.at,
      text: h.command,
      kind: h.kind,
    }))
    .sort((a, b) => a.t - b.t)
    .map((m, id) => ({ id, ...m }));
  const duration = Math.max(frames.at(-1)?.t ?? 0, markers.at(-1)?.t ?? 0);
  return { frames, markers, duration, startedAt: outputs[0]?.at ?? null };
}

/** Replay time of a real instant: just before the first frame printed after it. */
function replayTimeOf(real: number, anchors: readonly { real: number; t: number }[], maxGap: number): number {
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
