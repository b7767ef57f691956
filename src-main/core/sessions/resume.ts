import { statSync } from 'node:fs';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { ProviderDefinition, ProviderRegistry } from '../providers/types.ts';
import { SessionCoreError } from './errors.ts';
import type { SessionManager } from './types.ts';

/** The provider's resume arguments for one conversation (empty when it cannot resume). */
export function resumeArgs(provider: ProviderDefinition, conversationId: string): string[] {
  return (provider.resume_args ?? []).map((a) => a.replaceAll('{conversation_id}', conversationId));
}

/** Ended, with a conversation id its agent knows how to resume. */
export function isResumable(session: SessionInfo, provider: ProviderDefinition | undefined): boolean {
  return (
    session.ended_at !== null &&
    typeof session.conversation_id === 'string' &&
    session.conversation_id.length > 0 &&
    (provider?.resume_args?.length ?? 0) > 0
  );
}

/** The session as the boundaries show it: with `resumable` said outright. */
export function withResumable(session: SessionInfo, providers: Pick<ProviderRegistry, 'get'>): SessionInfo {
  return { ...session, resumable: isResumable(session, providers.get(session.cli_tool)) };
}

/** Why an ended session cannot be resumed, or null when it can. */
export function whyNotResumable(
  session: SessionInfo,
  provider: ProviderDefinition | undefined,
): string | null {
  if (session.ended_at === null) return 'the session is still running';
  if (!provider) return `the provider "${session.cli_tool}" is not configured any more`;
  if (!provider.resume_args?.length) return `${provider.name} cannot resume a conversation`;
  if (!session.conversation_id) return 'the agent never reported its conversation id';
  return null;
}

/**
 * A new session continuing an ended one's conversation, in the same folder with the same options,
 * linked to it (`resumed_from`). Throws a CONFLICT SessionCoreError saying why when it cannot.
 */
export async function resumeSession(
  deps: { sessions: Pick<SessionManager, 'create'>; providers: Pick<ProviderRegistry, 'get'> },
  session: SessionInfo,
  userId?: string,
): Promise<SessionInfo> {
  const why = whyNotResumable(session, deps.providers.get(session.cli_tool));
  if (why) throw new SessionCoreError(`cannot resume: ${why}`, 'CONFLICT');
  if (!isDirectory(session.current_directory))
    throw new SessionCoreError(`cannot resume: its folder ${session.current_directory} is gone`, 'CONFLICT');
  return deps.sessions.create({
    cli_tool: session.cli_tool,
    name: session.name.endsWith(' (resumed)') ? session.name : `${session.name} (resumed)`,
    working_directory: session.current_directory,
    full_access: session.full_access,
    user_id: userId ?? session.user_id,
    cols: session.cols,
    rows: session.rows,
    metadata: session.metadata,
    resume: { conversation_id: session.conversation_id as string, from_session_id: session.session_id },
  });
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
