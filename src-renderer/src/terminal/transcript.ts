import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { HistoryEntry } from '../../../src-shared/rest.ts';

const PAGE = 1000;
const MAX_ROWS = 100_000;

async function allOf(
  api: AutoDevApi,
  sessionId: string,
  messageType: 'output' | 'command',
): Promise<HistoryEntry[]> {
  const rows: HistoryEntry[] = [];
  for (let offset = 0; offset < MAX_ROWS; offset += PAGE) {
    // raw: the recorded bytes (redacted, ANSI kept) so colours and cursor moves replay as they ran.
    // keys: a session recorded before lines were assembled has only its keys (model/replay.ts).
    const page = await api.getHistory(sessionId, {
      message_type: messageType,
      ...(messageType === 'output' ? { raw: true } : { keys: true }),
      limit: PAGE,
      offset,
    });
    rows.push(...page.filter((e) => e.message_type === messageType));
    if (page.length < PAGE) break;
  }
  return rows;
}

/**
 * A session's recorded output, in order, for a read-only view: the stored output chunks, or the text
 * export when history is unavailable (sessions of an earlier run whose buffer is gone).
 */
export async function loadTranscript(api: AutoDevApi, sessionId: string): Promise<string> {
  let history = '';
  try {
    history = (await allOf(api, sessionId, 'output'))
      .map((e) => (e.message_type === 'output' ? e.output : ''))
      .join('');
  } catch {
    history = '';
  }
  if (history.trim()) return history;
  return api.exportSession(sessionId, 'text');
}

/** Output chunks and submitted input, for the replay timeline (model/replay.ts). */
export async function loadReplayHistory(api: AutoDevApi, sessionId: string): Promise<HistoryEntry[]> {
  const [outputs, commands] = await Promise.all([
    allOf(api, sessionId, 'output'),
    allOf(api, sessionId, 'command').catch(() => []),
  ]);
  if (outputs.length > 0) return [...outputs, ...commands];
  // Nothing stored as chunks (an earlier run): the text export as one frame.
  const text = await api.exportSession(sessionId, 'text');
  const at = new Date().toISOString();
  return [
    { message_type: 'output', at, seq_start: 1, seq_end: 1, output: text.replace(/\r?\n/g, '\r\n') },
    ...commands,
  ];
}
