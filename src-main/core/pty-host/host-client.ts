import { connect, type Socket } from 'node:net';
import {
  HostAttachResultSchema,
  HostEventSchema,
  type HostManifest,
  type HostMethod,
  type HostParams,
  HostResponseSchema,
  HostSessionStateSchema,
  type HostWelcome,
  HostWelcomeSchema,
  PTY_HOST_PROTOCOL_VERSION,
} from '../../../src-shared/pty-host-protocol.ts';
import type { OutputChunk } from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import type { Detection } from '../state/types.ts';
import { Emitter } from '../util/event.ts';
import { encodeJson, FrameDecoder } from './framing.ts';
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

/** The host answered with another protocol: reattaching could misread it, so we do not. */
export class HostVersionError extends Error {
  override readonly name = 'HostVersionError';
  readonly welcome: HostWelcome;
  constructor(welcome: HostWelcome) {
    super(
      `the running PTY host speaks protocol ${welcome.protocol} (AutoDev ${welcome.host_version}); this AutoDev speaks ${PTY_HOST_PROTOCOL_VERSION}`,
    );
    this.welcome = welcome;
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * The core's end of the PTY host socket: PtyHost over the wire. Output arrives as binary frames;
 * everything from the host is validated before use. A lost connection fails pending calls and fires
 * onDidDisconnect (the supervisor decides whether the host is gone).
 */
export class PtyHostClient implements PtyHost {
  readonly welcome: HostWelcome;
  private readonly _socket: Socket;
  private readonly _log: Logger;
  private readonly _pending = new Map<number, Pending>();
  private _nextId = 1;
  private _closedByUs = false;
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

  /** Connect and prove ourselves with the manifest's secret. Rejects on any failure. */
  static async connect(
    manifest: HostManifest,
    options: { logger: Logger; client: string; timeoutMs?: number },
  ): Promise<PtyHostClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(manifest.socket);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error('PTY host did not accept the connection in time'));
      }, options.timeoutMs ?? 5000);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const decoder = new FrameDecoder();
    const welcome = await new Promise<HostWelcome>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('PTY host did not answer hello')),
        options.timeoutMs ?? 5000,
      );
      const onData = (chunk: Buffer) => {
        try {
          for (const frame of decoder.push(chunk)) {
            if (frame.kind !== 'json') continue;
            const response = HostResponseSchema.parse(frame.message);
            clearTimeout(timer);
            socket.off('data', onData);
            if (!response.ok) reject(new Error(`PTY host refused: ${response.error?.message ?? 'unknown'}`));
            else resolve(HostWelcomeSchema.parse(response.result));
            return;
          }
        } catch (error) {
          clearTimeout(timer);
          reject(error as Error);
        }
      };
      socket.on('data', onData);
      socket.once('close', () => {
        // (A host dying while we say hello — the supervisor probing a killed host: no 5 s timer left.)
        clearTimeout(timer);
        reject(new Error('PTY host closed the connection'));
      });
      const hello: HostParams<'hello'> = {
        secret: manifest.secret,
        protocol: PTY_HOST_PROTOCOL_VERSION,
        client: options.client,
      };
      socket.write(encodeJson({ id: 0, method: 'hello', params: hello }));
    }).catch((error: Error) => {
      socket.destroy();
      throw error;
    });
    if (welcome.protocol !== PTY_HOST_PROTOCOL_VERSION) {
      socket.destroy();
      throw new HostVersionError(welcome);
    }
    return new PtyHostClient(socket, decoder, welcome, options.logger);
  }

  private constructor(socket: Socket, decoder: FrameDecoder, welcome: HostWelcome, logger: Logger) {
    this._socket = socket;
    this.welcome = welcome;
    this._log = logger;
    socket.on('data', (chunk) => {
      let frames: ReturnType<FrameDecoder['push']>;
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        this._log.error('pty host sent a bad frame; disconnecting', { error: String(error) });
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.kind === 'data') {
          this._onData.fire(frame.chunk);
          continue;
        }
        this._onMessage(frame.message);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      const error = new Error('the PTY host connection closed');
      for (const p of this._pending.values()) p.reject(error);
      this._pending.clear();
      if (!this._closedByUs) this._onDidDisconnect.fire({ reason: 'the PTY host connection closed' });
    });
  }

  private _onMessage(message: unknown): void {
    if (message && typeof message === 'object' && 'event' in message) {
      const event = HostEventSchema.safeParse(message);
      if (!event.success) {
        this._log.warn('pty host sent an invalid event', { issue: event.error.issues[0]?.message });
        return;
      }
      const e = event.data;
      if (e.event === 'detect')
        this._onDetect.fire({
          session_id: e.session_id,
          detection: e.detection as Detection,
          title: e.title,
        });
      else
        this._onExit.fire({
          session_id: e.session_id,
          exit_code: e.exit_code,
          signal: e.signal,
          last_lines: e.last_lines,
        });
      return;
    }
    const response = HostResponseSchema.safeParse(message);
    if (!response.success) return;
    const pending = this._pending.get(response.data.id);
    if (!pending) return;
    this._pending.delete(response.data.id);
    if (response.data.ok) pending.resolve(response.data.result);
    else pending.reject(new Error(response.data.error?.message ?? 'PTY host error'));
  }

  private _request<M extends HostMethod>(method: M, params: HostParams<M>): Promise<unknown> {
    if (this._socket.destroyed) return Promise.reject(new Error('the PTY host is not connected'));
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this._socket.write(encodeJson({ id, method, params }));
    });
  }

  /** Calls whose answer nobody waits for (keystrokes, acks): a failure shows as a disconnect. */
  private _send<M extends HostMethod>(method: M, params: HostParams<M>): void {
    this._request(method, params).catch(() => {});
  }

  async spawn(spec: HostSpawnSpec): Promise<HostSpawned> {
    const result = (await this._request('spawn', spec as unknown as HostParams<'spawn'>)) as HostSpawned;
    return {
      pid: Number(result.pid),
      start_ticks: Number(result.start_ticks),
      boot_id: String(result.boot_id),
    };
  }

  write(sessionId: string, data: string, kind: 'input' | 'command'): void {
    this._send('write', { session_id: sessionId, data, kind });
  }

  async submit(sessionId: string, text: string): Promise<SubmitOutcome> {
    try {
      return (await this._request('submit', { session_id: sessionId, text })) as SubmitOutcome;
    } catch (error) {
      return { ok: false, attempts: 0, detail: (error as Error).message };
    }
  }

  resize(sessionId: string, cols: number, rows: number): void {
    this._send('resize', { session_id: sessionId, cols, rows });
  }

  setPaused(sessionId: string, paused: boolean): void {
    this._send('set_paused', { session_id: sessionId, paused });
  }

  ackPersisted(sessionId: string, seq: number): void {
    this._send('ack_persisted', { session_id: sessionId, seq });
  }

  async snapshot(sessionId: string): Promise<HostSnapshot> {
    return (await this._request('snapshot', { session_id: sessionId })) as HostSnapshot;
  }

  async attach(sessionId: string, afterSeq: number): Promise<HostAttached> {
    const result = await this._request('attach', { session_id: sessionId, after_seq: afterSeq });
    return HostAttachResultSchema.parse(result) as HostAttached;
  }

  async kill(sessionId: string, graceMs: number): Promise<void> {
    await this._request('kill', { session_id: sessionId, grace_ms: graceMs });
  }

  async sweep(sessionId: string, graceMs: number): Promise<void> {
    await this._request('sweep', { session_id: sessionId, grace_ms: graceMs });
  }

  release(sessionId: string): void {
    this._send('release', { session_id: sessionId });
  }

  async list(): Promise<HostSessionState[]> {
    const result = await this._request('list', {});
    return HostSessionStateSchema.array().parse(result) as HostSessionState[];
  }

  /** Ask the host to exit (force: kill every tree first). */
  async shutdown(force: boolean): Promise<void> {
    try {
      await this._request('shutdown', { force });
    } catch (error) {
      // The host stopping may close the socket before its answer is read: that is the shutdown done.
      // (A refusal — sessions still running — comes as an answer on an open socket.)
      if (this.connected) throw error;
    }
  }

  get connected(): boolean {
    return !this._socket.destroyed;
  }

  /** Leave the host running (its sessions go on); stop listening to it. */
  dispose(): void {
    this._closedByUs = true;
    this._socket.end();
    this._socket.destroy();
    this._onData.dispose();
    this._onDetect.dispose();
    this._onExit.dispose();
    this._onDidDisconnect.dispose();
  }
}
