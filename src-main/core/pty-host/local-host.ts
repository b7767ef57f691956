import type { OutputChunk } from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderDefinition } from '../providers/types.ts';
import { createPassiveDetector } from '../sessions/passive-detector.ts';
import { createSessionContainment, type SessionContainment } from '../sessions/session-containment.ts';
import { createStateDetector } from '../state/detector.ts';
import type { Detection, ScreenStateDetector } from '../state/types.ts';
import { Emitter } from '../util/event.ts';
import { HostSession, type MirrorTuning } from './host-session.ts';
import type {
  HostAttached,
  HostExit,
  HostSessionState,
  HostSnapshot,
  HostSpawned,
  HostSpawnSpec,
  PtyHost,
  SubmitOutcome,
} from './types.ts';

export type DetectorFactory = (context: {
  sessionId: string;
  provider: ProviderDefinition;
  cols: number;
  rows: number;
}) => ScreenStateDetector;

export const defaultDetectorFactory: DetectorFactory = ({ provider, cols, rows }) =>
  createStateDetector(provider, { cols, rows });

export interface LocalPtyHostOptions {
  logger: Logger;
  /** One screen-state detector (headless mirror) per session; the passive one if the factory throws. */
  detectorFactory?: DetectorFactory;
  mirror?: MirrorTuning;
  /** Re-evaluate detectors this often while output flows or settles (so stability windows close
   *  without new output). Default 200. */
  evaluateIntervalMs?: number;
  /** Keeps each session's processes together and ends them all: a cgroup per session where the
   *  system allows it, else /proc lookups. Default: createSessionContainment() (detected once). */
  containment?: SessionContainment;
}

/** The PTY host in this process: the same mechanism the host process runs, without the socket. */
export class LocalPtyHost implements PtyHost {
  private readonly _o: LocalPtyHostOptions;
  private readonly _sessions = new Map<string, HostSession>();
  private readonly _onData = new Emitter<OutputChunk>();
  private readonly _onDetect = new Emitter<{
    session_id: string;
    detection: Detection;
    title: string | null;
  }>();
  private readonly _onExit = new Emitter<HostExit>();
  private readonly _onDidDisconnect = new Emitter<{ reason: string }>();
  readonly onData = this._onData.event;
  readonly onDetect = this._onDetect.event;
  readonly onExit = this._onExit.event;
  readonly onDidDisconnect = this._onDidDisconnect.event;

  private _evaluateTimer: NodeJS.Timeout | undefined;
  private readonly _containment: SessionContainment;

  constructor(options: LocalPtyHostOptions) {
    this._o = options;
    this._containment =
      options.containment ??
      createSessionContainment({ log: (event, fields) => options.logger.info(event, fields) });
  }

  private _ensureTicker(): void {
    this._evaluateTimer ??= setInterval(() => {
      const now = Date.now();
      for (const session of this._sessions.values()) session.tick(now);
    }, this._o.evaluateIntervalMs ?? 200);
    this._evaluateTimer.unref();
  }

  async spawn(spec: HostSpawnSpec): Promise<HostSpawned> {
    if (this._sessions.has(spec.session_id)) throw new Error(`session ${spec.session_id} already exists`);
    const log = this._o.logger.child({ session_id: spec.session_id, provider: spec.provider.id });
    let detector: ScreenStateDetector;
    try {
      detector = (this._o.detectorFactory ?? defaultDetectorFactory)({
        sessionId: spec.session_id,
        provider: spec.provider,
        cols: spec.cols,
        rows: spec.rows,
      });
    } catch (error) {
      log.error('detector factory failed; using the passive detector', { error });
      detector = createPassiveDetector();
    }
    let session: HostSession;
    try {
      session = new HostSession({
        spec,
        detector,
        log,
        containment: this._containment,
        ...(this._o.mirror ? { mirror: this._o.mirror } : {}),
        onData: (chunk) => this._onData.fire(chunk),
        onDetect: (detection, title) =>
          this._onDetect.fire({ session_id: spec.session_id, detection, title }),
        onExit: (exit) => this._onExit.fire(exit),
      });
    } catch (error) {
      detector.dispose();
      throw error;
    }
    this._sessions.set(spec.session_id, session);
    this._ensureTicker();
    return session.spawned;
  }

  private _get(sessionId: string): HostSession | undefined {
    return this._sessions.get(sessionId);
  }

  write(sessionId: string, data: string, kind: 'input' | 'command'): void {
    this._get(sessionId)?.write(data, kind);
  }

  async submit(sessionId: string, text: string): Promise<SubmitOutcome> {
    const session = this._get(sessionId);
    if (!session) return { ok: false, attempts: 0, detail: 'the session is not running' };
    return session.submit(text);
  }

  resize(sessionId: string, cols: number, rows: number): void {
    this._get(sessionId)?.resize(cols, rows);
  }

  setPaused(sessionId: string, paused: boolean): void {
    this._get(sessionId)?.setCorePaused(paused);
  }

  ackPersisted(_sessionId: string, _seq: number): void {
    // In one process the core cannot restart without the host: nothing to keep for it.
  }

  async snapshot(sessionId: string): Promise<HostSnapshot> {
    const session = this._get(sessionId);
    if (!session) throw new Error(`session ${sessionId} is not in the PTY host`);
    return session.snapshot();
  }

  async attach(sessionId: string): Promise<HostAttached> {
    // One process: the core never left, there is nothing to take over.
    throw new Error(`session ${sessionId} cannot be attached: the in-process host has no detached sessions`);
  }

  async kill(sessionId: string, graceMs: number): Promise<void> {
    await this._get(sessionId)?.kill(graceMs);
  }

  async sweep(sessionId: string, graceMs: number): Promise<void> {
    await this._get(sessionId)?.sweep(graceMs);
  }

  release(sessionId: string): void {
    const session = this._sessions.get(sessionId);
    if (!session) return;
    this._sessions.delete(sessionId);
    session.dispose();
  }

  async list(): Promise<HostSessionState[]> {
    return [...this._sessions.values()].map((s) => s.state());
  }

  /** The session's mirror (in-process only: tests and diagnostics read the screen). */
  detectorOf(sessionId: string): ScreenStateDetector | undefined {
    return this._get(sessionId)?.detector;
  }

  dispose(): void {
    clearInterval(this._evaluateTimer);
    for (const id of [...this._sessions.keys()]) this.release(id);
    this._onData.dispose();
    this._onDetect.dispose();
    this._onExit.dispose();
    this._onDidDisconnect.dispose();
  }
}
