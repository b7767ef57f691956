/**
 * Provider look: a colour and a short glyph per known id, drawn as inline SVG (no external fetch).
 * Unknown providers get a neutral look derived from their id, so configured CLIs need no code.
 */
export interface ProviderLook {
  color: string;
  glyph: string;
}

const LOOKS: Readonly<Record<string, ProviderLook>> = {
  claude: { color: '#c15f3c', glyph: 'C' },
  codex: { color: '#10a37f', glyph: 'Cx' },
  gemini: { color: '#4f6bed', glyph: 'G' },
  cursor: { color: '#5c5c66', glyph: 'Cu' },
  shell: { color: '#3f7d4a', glyph: '>_' },
};

export function providerLook(id: string): ProviderLook {
  const known = LOOKS[id];
  if (known) return known;
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  // Dark enough hues that white text on them keeps WCAG AA contrast.
  return {
    color: `hsl(${hash % 360} 45% 36%)`,
    glyph: (id.slice(0, 2) || '?').replace(/^./, (c) => c.toUpperCase()),
  };
}
