import type { SearchHit } from '../../../src-shared/rest.ts';

/**
 * Full-text hits, grouped: a word on a screen an agent redraws is stored once per redraw, so one
 * moment of one session can give dozens of identical hits. Hits of the same session and kind within
 * WINDOW_MS of each other form one group, shown once with its count and time span.
 */
export interface HitGroup {
  key: string;
  session_id: string;
  kind: SearchHit['kind'];
  /** Newest hit first: its snippet is shown. */
  hits: SearchHit[];
  /** Distinct snippets in the group (at most 3, newest first). */
  snippets: string[];
  from: string;
  to: string;
}

export const WINDOW_MS = 60_000;

export function groupHits(hits: readonly SearchHit[], windowMs = WINDOW_MS): HitGroup[] {
  const sorted = hits.slice().sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const groups: HitGroup[] = [];
  const open = new Map<string, HitGroup>();
  for (const hit of sorted) {
    const id = `${hit.session_id}\u0000${hit.kind}`;
    const current = open.get(id);
    const t = Date.parse(hit.at);
    if (current && Date.parse(current.from) - t <= windowMs) {
      current.hits.push(hit);
      current.from = hit.at;
      const snippet = normalise(hit.snippet);
      if (current.snippets.length < 3 && !current.snippets.some((s) => normalise(s) === snippet))
        current.snippets.push(hit.snippet);
      continue;
    }
    const group: HitGroup = {
      key: `${id}\u0000${hit.at}`,
      session_id: hit.session_id,
      kind: hit.kind,
      hits: [hit],
      snippets: [hit.snippet],
      from: hit.at,
      to: hit.at,
    };
    open.set(id, group);
    groups.push(group);
  }
  return groups;
}

function normalise(snippet: string): string {
  return snippet.replace(/\s+/g, ' ').trim();
}
