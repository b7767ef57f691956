/** Small inline SVG icons (no icon font, no external fetch); decorative: buttons carry aria-labels. */
const common = {
  width: 16,
  height: 16,
  viewBox: '0 0 16 16',
  fill: 'none',
  stroke: 'currentColor',
  strokeWidth: 1.6,
  strokeLinecap: 'round',
  strokeLinejoin: 'round',
  'aria-hidden': true,
  focusable: false,
} as const;

export function InfoIcon() {
  return (
    // biome-ignore lint/a11y/noSvgWithoutTitle: decorative (aria-hidden); the button has the label
    <svg {...common}>
      <circle cx="8" cy="8" r="6.5" />
      <path d="M8 7.2v4" />
      <path d="M8 4.8v.1" />
    </svg>
  );
}

export function SearchIcon() {
  return (
    // biome-ignore lint/a11y/noSvgWithoutTitle: decorative (aria-hidden); the button has the label
    <svg {...common}>
      <circle cx="7" cy="7" r="4.5" />
      <path d="M10.5 10.5 14 14" />
    </svg>
  );
}

export function RefreshIcon() {
  return (
    // biome-ignore lint/a11y/noSvgWithoutTitle: decorative (aria-hidden); the button has the label
    <svg {...common}>
      <path d="M13 8a5 5 0 1 1-1.5-3.6" />
      <path d="M13 2.5v3h-3" />
    </svg>
  );
}
