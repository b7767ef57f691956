import type { StateReason } from '../../../src-shared/session.ts';
import type { DetectedState, ScreenRegion } from '../providers/types.ts';
import type { Event } from '../util/event.ts';

/** What the screen says right now, with provenance. Never claims more than the evidence shows. */
export interface Detection {
  state: DetectedState;
  authentication_required: boolean;
  auth_prompt: string | null;
  reason: StateReason;
}

/**
 * One headless terminal mirror per session (@xterm/headless): PTY output is written into it, screen
 * rules read the rendered grid (not raw bytes), a stability window tells processing from waiting,
 * OSC titles are tracked. Also the source of screen snapshots for reconnecting viewers.
 */
export interface ScreenStateDetector {
  /** Feed PTY output; `onParsed` runs after xterm parsed it (the flow-control ack point). */
  write(data: string, onParsed?: () => void): void;
  resize(cols: number, rows: number): void;
  /** The user submitted input: the agent is expected to work; a stale "waiting" must not stick.
   *  Pass the raw `data` for kind 'input' so plain keystrokes (no Enter) are not taken as a submission. */
  noteInput(kind: 'command' | 'input', data?: string): void;
  /** Re-evaluate now (the manager calls this on a timer while output flows and once it stops). */
  evaluate(now?: number): Detection;
  readonly onDidDetect: Event<Detection>;
  /** Serialized screen (serialize addon), alternate buffer included so full-screen TUIs restore as
   *  drawn; used for snapshots of reconnecting viewers. */
  serialize(): string;
  /** Plain text of the visible screen, for tests and diagnostics. */
  screenText(): string;
  /** Plain text of one region of the screen now (e.g. the agent's input box: submit confirmation). */
  regionText(region: ScreenRegion): string;
  /**
   * The mirror's answers to terminal queries in the output it parsed (device attributes, cursor
   * position, mode reports, colour queries). The session writes them to the PTY: the one place a live
   * query is answered, whether zero or ten viewers watch (viewers never answer).
   */
  readonly onReply: Event<string>;
  readonly title: string | null;
  dispose(): void;
}
