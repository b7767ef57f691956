import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type WebSocket from 'ws';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { MockModelServer } from '../mock-model/server.ts';
import type { AutodevServe, Json, StateSample } from './autodev-serve.ts';
import type { CliProfile, HomeOptions } from './profiles.ts';
import { Recorder } from './recorder.ts';
import { ScreenMirror } from './screen-mirror.ts';

/**
 * One real agent CLI session driven through `autodev serve`: a temporary HOME with the CLI's config,
 * the session created over REST with per-session env, its terminal watched over the session socket
 * (the test's own screen), its states over the events socket, and a Recorder for ground truth.
 */
export interface CliSessionOptions {
  serve: AutodevServe;
  profile: CliProfile;
  mock: MockModelServer;
  scenario: string;
  home?: Omit<HomeOptions, 'home' | 'project' | 'mockUrl'>;
  cols?: number;
  rows?: number;
  /** Extra per-session env (wins over the profile's). */
  env?: Record<string, string>;
}

export class CliSession {
  readonly id: string;
  readonly profile: CliProfile;
  readonly mock: MockModelServer;
  readonly serve: AutodevServe;
  readonly home: string;
  readonly project: string;
  readonly screen: ScreenMirror;
  readonly recorder: Recorder;
  readonly createdAt: number;
  /** Every output message (and the attach snapshot) as it arrived: replayable recordings. */
  readonly raw: { at: number; data: string }[];
  private readonly _ws: WebSocket;

  private constructor(o: {
    info: SessionInfo;
    options: CliSessionOptions;
    home: string;
    project: string;
    screen: ScreenMirror;
    ws: WebSocket;
    createdAt: number;
    raw: { at: number; data: string }[];
  }) {
    this.id = o.info.session_id;
    this.profile = o.options.profile;
    this.mock = o.options.mock;
    this.serve = o.options.serve;
    this.home = o.home;
    this.project = o.project;
    this.screen = o.screen;
    this._ws = o.ws;
    this.createdAt = o.createdAt;
    this.raw = o.raw;
    const events = this.serve.events;
    this.recorder = new Recorder(
      this.profile.id,
      o.options.scenario,
      () => events.forSession(this.id),
      (listener) => events.onSample((s) => s.session.session_id === this.id && listener(s)),
    );
  }

  static async start(options: CliSessionOptions): Promise<CliSession> {
    const cols = options.cols ?? 100;
    const rows = options.rows ?? 30;
    const home = mkdtempSync(path.join(os.tmpdir(), `autodev-${options.profile.id}-home-`));
    const project = path.join(home, 'project');
    mkdirSync(project);
    if (options.home?.gitRepo)
      execFileSync('git', ['init', '-q'], { cwd: project, env: { ...process.env, HOME: home } });
    const homeOptions: HomeOptions = { ...options.home, home, project, mockUrl: options.mock.url };
    options.profile.writeHome(homeOptions);
    const createdAt = Date.now();
    const info = await options.serve.createSession({
      cli_tool: options.profile.provider,
      working_directory: project,
      cols,
      rows,
      name: `${options.profile.id} ${options.scenario}`,
      env: {
        HOME: home,
        // The CLIs' own runtime (gemini is a Node script) and basics; the login shell's PATH may lack them.
        PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        ...options.profile.env(homeOptions),
        ...options.env,
      },
    });
    const screen = new ScreenMirror(cols, rows);
    const ws = await options.serve.openSessionSocket(info.session_id);
    const recorded: { at: number; data: string }[] = [];
    ws.on('message', (raw) => {
      const at = Date.now();
      let msg: Json;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        return;
      }
      if (msg.type === 'output') {
        recorded.push({ at, data: String(msg.data.output) });
        screen.write(String(msg.data.output), at);
      } else if (msg.type === 'snapshot') {
        recorded.length = 0;
        recorded.push({ at, data: String(msg.data.screen) });
        screen.reset(String(msg.data.screen), at);
      }
    });
    return new CliSession({ info, options, home, project, screen, ws, createdAt, raw: recorded });
  }

  /** The terminal output up to `at` (attach snapshot first): replays to the screen seen then. */
  recording(at = Number.POSITIVE_INFINITY): string {
    return this.raw
      .filter((r) => r.at <= at)
      .map((r) => r.data)
      .join('');
  }

  /** AutoDev's states for this session, as published (first: creation). */
  get states(): StateSample[] {
    return this.serve.events.forSession(this.id);
  }

  get current(): SessionInfo | undefined {
    return this.states[this.states.length - 1]?.session;
  }

  /** Raw keystrokes, as a person typing in the terminal. */
  keys(data: string): number {
    this._send({ type: 'input', data: { data } });
    return Date.now();
  }

  /** AutoDev's command path (bracketed paste, then Enter after the provider's delay). */
  command(text: string): number {
    this._send({ type: 'command', data: { command: text } });
    return Date.now();
  }

  /** Send a prompt the way this CLI accepts it today (see CliProfile.submitVia). Returns the time the
   *  submission was sent (the command, or the Enter after the typed text). */
  async submit(text: string): Promise<number> {
    if (this.profile.submitVia === 'command') return this.command(text);
    this.keys(text);
    await sleep(150);
    return this.keys('\r');
  }

  /** Keys one after another, `gapMs` apart (menus need a frame between a move and Enter). */
  async keySequence(keys: readonly string[], gapMs = 300): Promise<number> {
    const at = Date.now();
    for (const k of keys) {
      this.keys(k);
      await sleep(gapMs);
    }
    return at;
  }

  async waitState(
    predicate: (s: SessionInfo) => boolean,
    options: { since?: number; timeoutMs?: number } = {},
  ): Promise<StateSample> {
    const since = options.since ?? 0;
    const seen = this.states.find((s) => s.at >= since && predicate(s.session));
    if (seen) return seen;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`state not reached within ${timeoutMs} ms; timeline:\n${this.recorder.timeline()}`));
      }, timeoutMs);
      const off = this.serve.events.onSample((s) => {
        if (s.session.session_id === this.id && s.at >= since && predicate(s.session)) {
          clearTimeout(timer);
          off();
          resolve(s);
        }
      });
    });
  }

  async close(): Promise<void> {
    this._ws.close();
    const live =
      this.current && !['completed', 'terminated'].includes(this.current.state) && !this.current.ended_at;
    if (live) await this.serve.api('DELETE', `/cli/sessions/${this.id}`).catch(() => {});
    this.screen.dispose();
    rmSync(this.home, { recursive: true, force: true });
  }

  private _send(message: { type: string; data: unknown }): void {
    this._ws.send(JSON.stringify(message));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
