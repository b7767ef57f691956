import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log/logger.ts';
import { findExecutable } from '../providers/resolve-binary.ts';
import type { ProviderDefinition } from '../providers/types.ts';
import { Emitter, type Event } from '../util/event.ts';
import { type SignalEndpoint, startSignalEndpoint } from './endpoint.ts';
import {
  type EndpointManifest,
  ensurePrivateDir,
  loadOrCreateSecret,
  type SignalPaths,
  safeEqual,
  sessionMac,
  signalPaths,
  writePrivateFile,
} from './files.ts';
import { SignalInterpreter } from './interpret.ts';
import { RELAY_SCRIPT } from './relay-script.ts';
import { SessionSignalFusion } from './session-fusion.ts';
import { isRootOwnedPath, wireSession } from './spawn-wiring.ts';

export interface SignalServiceOptions {
  /** AutoDev's data dir: the signal folder lives in `<dataDir>/signals`. */
  dataDir: string;
  logger?: Logger;
  /** Node binary that runs the relay. Default: this process's when it is Node; under Electron, `node`
   *  on the agent's PATH (Electron's own binary cannot run scripts with the RunAsNode fuse off). */
  relayNode?: string;
  /** Clock for the detectors (tests). */
  now?: () => number;
}

/** What the session manager calls (its only contact with signals). */
export interface SessionSignals {
  /** Args and env to add to a session's spawn (none for providers without signals, or when the relay
   *  cannot run here); writes the session's files. Never throws: a failure means screen rules only. */
  prepareSpawn(ctx: { sessionId: string; provider: ProviderDefinition; env: Record<string, string> }): {
    args: string[];
    env: Record<string, string>;
  };
  /** The session's fusion of screen verdicts and its signals; null for providers without signals.
   *  Also used to re-attach a session that outlived an earlier AutoDev (its credential still verifies). */
  attach(ctx: { sessionId: string; provider: ProviderDefinition }): SessionSignalFusion | null;
  /** The agent reported its conversation id (new or changed). */
  readonly onDidReportConversation: Event<{ session_id: string; conversation_id: string }>;
  /** The session ended: stop listening for it and delete its files. */
  releaseSession(sessionId: string): void;
}

export interface SignalService extends SessionSignals {
  readonly endpointUrl: string;
  readonly paths: SignalPaths;
  /** Counts of the endpoint's answers. */
  readonly counts: SignalEndpoint['counts'];
  /** The credential the relay of `sessionId` presents (tests, diagnostics). */
  macFor(sessionId: string): string;
  /** The session's fusion, if attached (tests, diagnostics). */
  fusionFor(sessionId: string): SessionSignalFusion | undefined;
  close(): Promise<void>;
}

export async function createSignalService(options: SignalServiceOptions): Promise<SignalService> {
  const paths = signalPaths(options.dataDir);
  ensurePrivateDir(paths.dir);
  const secret = loadOrCreateSecret(paths.secret);
  writePrivateFile(paths.relay, RELAY_SCRIPT, 0o700);
  const token = randomBytes(24).toString('hex');
  const log = options.logger?.child({ component: 'signals' });
  const detectors = new Map<string, SessionSignalFusion>();
  const conversations = new Map<string, string>();
  const onDidReportConversation = new Emitter<{ session_id: string; conversation_id: string }>((error) =>
    log?.error('signal listener threw', { error }),
  );

  const endpoint = await startSignalEndpoint({
    token,
    verify: (sessionId, mac) => safeEqual(mac, sessionMac(secret, sessionId)),
    onPost: (post) => {
      const detector = detectors.get(post.session_id);
      if (!detector) return false;
      const now = Date.now();
      // The relay's clock is this machine's; still, never let a post claim the future or the distant past.
      const at = Math.min(now, Math.max(now - 60_000, post.at));
      const result = detector.receive(post.source, post.payload, at);
      log?.debug('signal', { session_id: post.session_id, source: post.source, kind: result.kind });
      return true;
    },
  });
  // Rewritten at every start: relays of sessions that outlived the previous AutoDev find this one.
  const manifest: EndpointManifest = {
    version: 1,
    url: endpoint.url,
    token,
    pid: process.pid,
    started_at: new Date().toISOString(),
  };
  writePrivateFile(paths.manifest, `${JSON.stringify(manifest)}\n`);

  const sessionDir = (sessionId: string) =>
    path.join(paths.sessions, sessionId.replace(/[^A-Za-z0-9_-]/g, '_'));

  const relayNode = (env: Record<string, string>): string | null => {
    if (options.relayNode) return options.relayNode;
    if (!process.versions.electron) return process.execPath;
    return findExecutable('node', env.PATH ?? '', env.HOME);
  };

  return {
    endpointUrl: endpoint.url,
    paths,
    counts: endpoint.counts,
    onDidReportConversation: onDidReportConversation.event,
    macFor: (sessionId) => sessionMac(secret, sessionId),
    fusionFor: (sessionId) => detectors.get(sessionId),

    prepareSpawn({ sessionId, provider, env }) {
      const spec = provider.signals;
      if (!spec || spec.sources.length === 0) return { args: [], env: {} };
      if (spec.file_location === 'root-owned' && !isRootOwnedPath(sessionDir(sessionId))) {
        log?.debug('signal files need a root-owned path; screen rules only', { provider: provider.id });
        return { args: [], env: {} };
      }
      const node = relayNode(env);
      if (node === null) {
        log?.warn('no node binary for the signal relay; screen rules only', { provider: provider.id });
        return { args: [], env: {} };
      }
      try {
        const wiring = wireSession(spec, {
          sessionId,
          mac: sessionMac(secret, sessionId),
          manifest: paths.manifest,
          relayArgv: [node, paths.relay],
          sessionDir: sessionDir(sessionId),
          baseEnv: env,
        });
        return { args: wiring.args, env: wiring.env };
      } catch (error) {
        log?.warn('signal wiring failed; screen rules only', { provider: provider.id, error });
        return { args: [], env: {} };
      }
    },

    attach({ sessionId, provider }) {
      if (!provider.signals || provider.signals.sources.length === 0) return null;
      detectors.get(sessionId)?.dispose();
      const detector = new SessionSignalFusion({
        provider,
        interpreter: new SignalInterpreter(provider.signals),
        ...(options.now ? { now: options.now } : {}),
        onInterpretation: (i) => {
          if (i.conversationId === null || conversations.get(sessionId) === i.conversationId) return;
          conversations.set(sessionId, i.conversationId);
          onDidReportConversation.fire({ session_id: sessionId, conversation_id: i.conversationId });
        },
      });
      detectors.set(sessionId, detector);
      return detector;
    },

    releaseSession(sessionId) {
      detectors.get(sessionId)?.dispose();
      detectors.delete(sessionId);
      conversations.delete(sessionId);
      const dir = sessionDir(sessionId);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },

    async close() {
      // The sessions' fusions stay with the manager (screen verdicts and OSC reports still pass through
      // them); only the endpoint goes: relays then fail quietly and the screen decides.
      detectors.clear();
      await endpoint.close();
    },
  };
}
