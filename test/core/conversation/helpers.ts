import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type ConversationService,
  createConversationService,
  SessionRecords,
} from '../../../src-main/core/conversation/index.ts';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';
import type { SessionManager } from '../../../src-main/core/sessions/types.ts';
import { createSignalService, type SignalService } from '../../../src-main/core/signals/index.ts';
import type { ConversationTurnEvent } from '../../../src-shared/conversation.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { fixture, registry, testManager, waitFor } from '../sessions/helpers.ts';

export interface TestContext {
  after(fn: () => void | Promise<void>): void;
}

export function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The bundled provider (all its data: screen rules, signals, conversation layout, prices) running a
 *  fixture script instead of the real CLI. */
export function asFixture(
  id: string,
  script: string,
  change: Partial<ProviderDefinition> = {},
): ProviderDefinition {
  const def = defaultProviders({}).find((p) => p.id === id) as ProviderDefinition;
  return { ...def, binary: process.execPath, interactive_args: [fixture(script)], ...change };
}

export interface ConversationRig {
  manager: SessionManager;
  conversations: ConversationService;
  records: SessionRecords;
  signals: SignalService | null;
  events: ConversationTurnEvent[];
  /** A temporary HOME for the agents (their records go under it). */
  home: string;
  cwd: string;
  start(cliTool: string, env?: Record<string, string>): Promise<SessionInfo>;
}

export async function conversationRig(
  t: TestContext,
  defs: ProviderDefinition[],
  options: { signals?: boolean; admitTurn?: (s: SessionInfo) => string | null } = {},
): Promise<ConversationRig> {
  const signals =
    options.signals === false
      ? null
      : await createSignalService({ dataDir: tempDir(t, 'autodev-conv-sig-') });
  const home = tempDir(t, 'autodev-conv-home-');
  const cwd = tempDir(t, 'autodev-conv-cwd-');
  // AutoDev's own HOME differs from the agents' (each session gets `home`): records are found through
  // the running agent's environment, not AutoDev's.
  const env = { ...process.env, HOME: tempDir(t, 'autodev-conv-core-home-') };
  const { manager } = testManager(defs, { ...(signals ? { signals } : {}), env });
  const records = new SessionRecords({ providers: registry(defs), env });
  const conversations = createConversationService({
    sessions: manager,
    records,
    providers: registry(defs),
    progressMs: 300,
    ...(options.admitTurn ? { admitTurn: options.admitTurn } : {}),
  });
  const events: ConversationTurnEvent[] = [];
  conversations.onTurn((e) => events.push(e));
  t.after(async () => {
    conversations.dispose();
    await manager.shutdown();
    await signals?.close();
  });
  return {
    manager,
    conversations,
    records,
    signals,
    events,
    home,
    cwd,
    async start(cliTool, extraEnv = {}) {
      const s = await manager.create({
        cli_tool: cliTool,
        working_directory: cwd,
        env: { HOME: home, FAKE_WORK_MS: '700', ...extraEnv },
      });
      await waitFor(
        `${cliTool} ready`,
        () => (manager.get(s.session_id)?.state === 'waiting_input' ? true : null),
        15_000,
      );
      return manager.get(s.session_id) as SessionInfo;
    },
  };
}
