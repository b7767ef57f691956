import type { AutoDevApi } from '../../../src-shared/api.ts';

/**
 * A session's recorded output, in order, for read-only replay: the stored output chunks, or the text
 * export when history is unavailable (sessions of an earlier run whose buffer is gone).
 */
export async function loadTranscript(api: AutoDevApi, sessionId: string): Promise<string> {
  const parts: string[] = [];
  try {
    for (let offset = 0; offset < 100_000; offset += 1000) {
      // raw: the recorded bytes (redacted, ANSI kept) so colours and cursor moves replay as they ran.
      const page = await api.getHistory(sessionId, {
        message_type: 'output',
        raw: true,
        limit: 1000,
        offset,
      });
      for (const entry of page) if (entry.message_type === 'output') parts.push(entry.output);
      if (page.length < 1000) break;
    }
  } catch {
    parts.length = 0;
  }
  const history = parts.join('');
  if (history.trim()) return history;
  return api.exportSession(sessionId, 'text');
}
