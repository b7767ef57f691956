import type { RecordFormat } from '../../providers/conversation-spec.ts';
import { claudeTranscript } from './claude.ts';
import { codexRollout } from './codex.ts';
import { geminiChat } from './gemini.ts';
import type { RecordParser } from './types.ts';

/** One parser per record format (the provider's data names the format). */
export const RECORD_PARSERS: Readonly<Record<RecordFormat, RecordParser>> = {
  'claude-jsonl': claudeTranscript,
  'codex-rollout': codexRollout,
  'gemini-chat': geminiChat,
};

export {
  type AgentEnvironment,
  type LocateQuery,
  locateById,
  locateCandidates,
  recordRoots,
} from './locate.ts';
export { RecordReader } from './record-reader.ts';
export type { ParsedRecord, RecordMessage, RecordUsage } from './types.ts';
