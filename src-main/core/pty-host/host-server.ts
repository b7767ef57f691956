import { timingSafeEqual } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import {
  type HostMethod,
  HostRequestSchema,
  HostRequestSchemas,
  PTY_HOST_PROTOCOL_VERSION,
} from '../../../src-shared/pty-host-protocol.ts';
import type { OutputChunk } from '../../../src-shared/session.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderDefinition } from '../providers/types.ts';
import { encodeData, encodeJson, FrameDecoder } from './framing.ts';
import { LocalPtyHost } from './local-host.ts';
import { OutputRetention } from './retention.ts';
import type { HostExit, HostSpawnSpec } from './types.ts';

export interface HostServerOptions {
  socketPath: string;
  /** Per-host secret a client must show in `hello` (from the 0600 manifest). */
  secret: string;
  version: string;
  /** Spool files of sessions whose output the core has not acked yet. */
  spoolDir: string;
  logger: Logger;
  /** Unacked output per session kept in memory / spooled before the oldest is dropped. */
  retention?: { memoryChars: number; maxSpoolBytes: number };
  /** With no session and no client for this long, the host exits (a host never lingers). */
  idleExitMs?: number;
  /** The host decided to stop (shutdown request or idle). */
  onStop(reason: string): void;
}

/** A socket's writes past this are backpressure: the sessions it streams pause until it drains. */
const SOCKET_HIGH_WATER = 8 * 1024 * 1024;

interface Peer {
  socket: Socket;
  decoder: FrameDecoder;
  authed: boolean;
  /** Sessions whose output and events this peer receives (the core that spawned or adopted them). */
  subscribed: Set<string>;
  /** Sessions paused because this peer's socket is full. */
  blocked: Set<string>;
}

/**
 * The PTY host process's server: the mechanism (LocalPtyHost: PTYs, mirrors, trees) behind a Unix
 * socket, plus what lets sessions outlive their core: output retained until the core acks it as
 * stored (spooled to disk while no core is attached), exits remembered until a core releases them,
 * and `attach` for a restarted core to take a session over with contiguous seqs.
 */
export class HostServer {
  private readonly _o: HostServerOptions;
  private readonly _host: LocalPtyHost;
  private readonly _server: Server;
  private readonly _peers = new Set<Peer>();
  private readonly _retention = new Map<string, OutputRetention>();
  private readonly _exits = new Map<string, HostExit>();
  private readonly _corePaused = new Set<string>();
  private readonly _startedAt = new Date().toISOString();
  private _idleTimer: NodeJS.Timeout | undefined;
  private _stopping = false;

  constructor(options: HostServerOptions) {
    this._o = options;
    this._host = new LocalPtyHost({ logger: options.logger });
    this._host.onData((chunk) => this._onData(chunk));
    this._host.onDetect((e) => this._broadcast(e.session_id, { event: 'detect', ...e }));
    this._host.onExit((exit) => {
      this._exits.set(exit.session_id, exit);
      this._broadcast(exit.session_id, { event: 'exit', ...exit });
      this._armIdle();
    });
    this._server = createServer((socket) => this._onConnection(socket));
  }

  listen(): Promise<void> {
    rmSync(this._o.socketPath, { force: true });
    return new Promise((resolve, reject) => {
      this._server.once('error', reject);
      this._server.listen(this._o.socketPath, () => {
        this._server.off('error', reject);
        chmodSync(this._o.socketPath, 0o600);
        this._armIdle();
        resolve();
      });
    });
  }

  private _onConnection(socket: Socket): void {
    const peer: Peer = {
      socket,
      decoder: new FrameDecoder(),
      authed: false,
      subscribed: new Set(),
      blocked: new Set(),
    };
    this._peers.add(peer);
    this._disarmIdle();
    socket.on('data', (chunk) => {
      let frames: ReturnType<FrameDecoder['push']>;
      try {
        frames = peer.decoder.push(chunk);
      } catch (error) {
        this._o.logger.warn('pty host: bad frame, closing the connection', { error: String(error) });
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.kind !== 'json') {
          socket.destroy(); // clients never send output
          return;
        }
        void this._onRequest(peer, frame.message);
      }
    });
    socket.on('drain', () => this._unblock(peer));
    socket.on('error', () => {});
    socket.on('close', () => {
      this._peers.delete(peer);
      this._unblock(peer);
      this._armIdle();
    });
  }

  private async _onRequest(peer: Peer, raw: unknown): Promise<void> {
    const envelope = HostRequestSchema.safeParse(raw);
    if (!envelope.success) {
      peer.socket.destroy();
      return;
    }
    const { id, method } = envelope.data;
    const parsed = HostRequestSchemas[method].safeParse(envelope.data.params);
    const reply = (message: object) => {
      if (!peer.socket.destroyed) peer.socket.write(encodeJson({ id, ...message }));
    };
    if (!parsed.success) {
      reply({
        ok: false,
        error: {
          message: `invalid ${method}: ${parsed.error.issues[0]?.message ?? ''}`,
          code: 'VALIDATION_ERROR',
        },
      });
      return;
    }
    if (!peer.authed && method !== 'hello') {
      peer.socket.destroy();
      return;
    }
    try {
      const result = await this._handle(peer, method, parsed.data as never);
      reply({ ok: true, result: result ?? null });
    } catch (error) {
      reply({ ok: false, error: { message: error instanceof Error ? error.message : String(error) } });
    }
  }

  private async _handle(peer: Peer, method: HostMethod, p: Record<string, never>): Promise<unknown> {
    const params = p as Record<string, unknown>;
    const sid = params.session_id as string;
    switch (method) {
      case 'hello': {
        const given = Buffer.from(String(params.secret));
        const expected = Buffer.from(this._o.secret);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          this._o.logger.warn('pty host: a client showed a wrong secret');
          setImmediate(() => peer.socket.destroy());
          throw new Error('wrong secret');
        }
        peer.authed = true;
        return {
          protocol: PTY_HOST_PROTOCOL_VERSION,
          host_version: this._o.version,
          pid: process.pid,
          started_at: this._startedAt,
          sessions: await this._host.list(),
        };
      }
      case 'spawn': {
        const spec = params as unknown as HostSpawnSpec;
        this._retention.set(
          spec.session_id,
          new OutputRetention({
            spoolPath: path.join(this._o.spoolDir, `${spec.session_id}.spool`),
            memoryChars: this._o.retention?.memoryChars ?? 8 * 1024 * 1024,
            maxSpoolBytes: this._o.retention?.maxSpoolBytes ?? 64 * 1024 * 1024,
          }),
        );
        peer.subscribed.add(spec.session_id);
        try {
          return await this._host.spawn({ ...spec, provider: spec.provider as ProviderDefinition });
        } catch (error) {
          this._retention.get(spec.session_id)?.dispose();
          this._retention.delete(spec.session_id);
          throw error;
        }
      }
      case 'attach': {
        // Replay what this core has not stored, then stream live: in order on one socket, no race.
        const retention = this._retention.get(sid);
        const state = (await this._host.list()).find((s) => s.session_id === sid);
        if (!retention || !state) throw new Error(`session ${sid} is not in this host`);
        for (const chunk of retention.readAfter(params.after_seq as number))
          peer.socket.write(encodeData(chunk));
        peer.subscribed.add(sid);
        return { state, dropped_through: retention.droppedThrough, exit: this._exits.get(sid) ?? null };
      }
      case 'write':
        this._host.write(sid, params.data as string, params.kind as 'input' | 'command');
        return null;
      case 'submit':
        return this._host.submit(sid, params.text as string);
      case 'resize':
        this._host.resize(sid, params.cols as number, params.rows as number);
        return null;
      case 'set_paused':
        if (params.paused) this._corePaused.add(sid);
        else this._corePaused.delete(sid);
        this._applyPause(sid);
        return null;
      case 'ack_persisted':
        this._retention.get(sid)?.ack(params.seq as number);
        return null;
      case 'snapshot':
        return this._host.snapshot(sid);
      case 'kill':
        await this._host.kill(sid, params.grace_ms as number);
        return null;
      case 'sweep':
        await this._host.sweep(sid, params.grace_ms as number);
        return null;
      case 'release':
        this._host.release(sid);
        this._retention.get(sid)?.dispose();
        this._retention.delete(sid);
        this._exits.delete(sid);
        this._corePaused.delete(sid);
        for (const other of this._peers) other.subscribed.delete(sid);
        this._armIdle();
        return null;
      case 'list':
        return this._host.list();
      case 'shutdown': {
        const live = (await this._host.list()).filter((s) => !s.exited);
        if (live.length > 0 && !params.force)
          throw new Error(`${live.length} sessions are running; shutdown needs force`);
        await Promise.all(live.map((s) => this._host.kill(s.session_id, 3000)));
        setImmediate(() => this.stop('shutdown requested'));
        return null;
      }
      default:
        throw new Error(`unknown method ${method}`);
    }
  }

  private _onData(chunk: OutputChunk): void {
    this._retention.get(chunk.session_id)?.append(chunk);
    let frame: Buffer | null = null;
    for (const peer of this._peers) {
      if (!peer.subscribed.has(chunk.session_id) || peer.socket.destroyed) continue;
      frame ??= encodeData(chunk);
      peer.socket.write(frame);
      if (peer.socket.writableLength > SOCKET_HIGH_WATER && !peer.blocked.has(chunk.session_id)) {
        peer.blocked.add(chunk.session_id);
        this._applyPause(chunk.session_id);
      }
    }
  }

  private _unblock(peer: Peer): void {
    const sessions = [...peer.blocked];
    peer.blocked.clear();
    for (const sid of sessions) this._applyPause(sid);
  }

  /** A session reads its PTY unless its core asked for a pause or a core's socket is full. */
  private _applyPause(sessionId: string): void {
    let paused = this._corePaused.has(sessionId);
    for (const peer of this._peers) if (peer.blocked.has(sessionId)) paused = true;
    this._host.setPaused(sessionId, paused);
  }

  private _broadcast(sessionId: string, event: object): void {
    let frame: Buffer | null = null;
    for (const peer of this._peers) {
      if (!peer.subscribed.has(sessionId) || peer.socket.destroyed) continue;
      frame ??= encodeJson(event);
      peer.socket.write(frame);
    }
  }

  private _armIdle(): void {
    if (this._stopping || this._peers.size > 0) return;
    void this._host.list().then((sessions) => {
      if (sessions.some((s) => !s.exited) || this._peers.size > 0) return;
      this._disarmIdle();
      this._idleTimer = setTimeout(
        () => this.stop('idle: no session and no client'),
        this._o.idleExitMs ?? 30_000,
      );
    });
  }

  private _disarmIdle(): void {
    if (this._idleTimer) clearTimeout(this._idleTimer);
    this._idleTimer = undefined;
  }

  stop(reason: string): void {
    if (this._stopping) return;
    this._stopping = true;
    this._disarmIdle();
    this._o.logger.info('pty host stopping', { reason });
    for (const peer of this._peers) peer.socket.destroy();
    this._server.close();
    rmSync(this._o.socketPath, { force: true });
    for (const r of this._retention.values()) r.dispose();
    this._host.dispose();
    this._o.onStop(reason);
  }
}
