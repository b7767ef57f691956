/** Small inline SVG icons (no icon font, no external fetch); decorative: buttons carry aria-labels. */
import type { ReactNode } from 'react';

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

type IconProps = { size?: number };

function Svg({ size = 16, children }: IconProps & { children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noSvgWithoutTitle: decorative (aria-hidden); the button has the label
    <svg {...common} width={size} height={size}>
      {children}
    </svg>
  );
}

export function InfoIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <circle cx="8" cy="8" r="6.5" />
      <path d="M8 7.2v4" />
      <path d="M8 4.8v.1" />
    </Svg>
  );
}
export function SearchIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <circle cx="7" cy="7" r="4.5" />
      <path d="M10.5 10.5 14 14" />
    </Svg>
  );
}
export function RefreshIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M13 8a5 5 0 1 1-1.5-3.6" />
      <path d="M13 2.5v3h-3" />
    </Svg>
  );
}
export function TerminalIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="1.5" y="2.5" width="13" height="11" rx="2" />
      <path d="m4.5 6 2 2-2 2" />
      <path d="M8.5 10.5h3" />
    </Svg>
  );
}
export function ListIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M5.5 4h8M5.5 8h8M5.5 12h8" />
      <path d="M2.5 4h.1M2.5 8h.1M2.5 12h.1" />
    </Svg>
  );
}
export function TasksIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m2.5 4 1.2 1.2L6 3" />
      <path d="m2.5 10 1.2 1.2L6 9" />
      <path d="M8.5 4.2h5M8.5 10.2h5" />
    </Svg>
  );
}
export function GearIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <circle cx="8" cy="8" r="2.2" />
      <path d="M8 1.5v1.8M8 12.7v1.8M1.5 8h1.8M12.7 8h1.8M3.4 3.4l1.3 1.3M11.3 11.3l1.3 1.3M3.4 12.6l1.3-1.3M11.3 4.7l1.3-1.3" />
    </Svg>
  );
}
export function PlusIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M8 3v10M3 8h10" />
    </Svg>
  );
}
export function CloseIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m4 4 8 8M12 4l-8 8" />
    </Svg>
  );
}
export function BellIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M4 11V7a4 4 0 0 1 8 0v4l1.2 1.5H2.8Z" />
      <path d="M6.5 14a1.6 1.6 0 0 0 3 0" />
    </Svg>
  );
}
export function InboxIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2 9.5 3.8 3h8.4L14 9.5V13H2Z" />
      <path d="M2 9.5h3.5l1 1.5h3l1-1.5H14" />
    </Svg>
  );
}
export function PlayIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M5 3.5v9l7-4.5Z" />
    </Svg>
  );
}
export function PauseIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M5.5 3.5v9M10.5 3.5v9" />
    </Svg>
  );
}
export function ReplayIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M3 8a5 5 0 1 0 1.5-3.6" />
      <path d="M3 2.5v3h3" />
      <path d="m7 6 3 2-3 2Z" />
    </Svg>
  );
}
export function ResumeIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M3 3.5v9" />
      <path d="M6 3.5v9l7-4.5Z" />
    </Svg>
  );
}
export function TrashIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2.5 4.5h11M6 4.5V3h4v1.5M4 4.5l.7 9h6.6l.7-9" />
    </Svg>
  );
}
export function SignOutIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M6 2.5H3.5v11H6" />
      <path d="M10 5l3 3-3 3M13 8H6.5" />
    </Svg>
  );
}
export function ChevronDownIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m4 6 4 4 4-4" />
    </Svg>
  );
}
export function ArrowUpIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M8 13V3M4 7l4-4 4 4" />
    </Svg>
  );
}
export function ArrowDownIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M8 3v10M4 9l4 4 4-4" />
    </Svg>
  );
}
export function JumpIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M3 8h8" />
      <path d="m8 4.5 3.5 3.5L8 11.5" />
      <path d="M13.5 3v10" />
    </Svg>
  );
}

export function DiffIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M5 2.5v6M2 5.5h6" />
      <path d="M2 12.5h6" />
      <path d="M11 2.5v11" />
      <circle cx="11" cy="4" r="1.5" />
    </Svg>
  );
}

/** The AutoDev mark (assets/icon.svg) inline: no image request, nothing for the CSP to allow. */
export function BrandMark({ size = 20 }: IconProps) {
  return (
    <svg width={size} height={size} viewBox="64 64 896 896" aria-hidden="true" focusable="false">
      <defs>
        <linearGradient id="autodev-mark-bg" x1="0" y1="0" x2="0" y2="1">
          <stop offset="0" stopColor="#2b3350" />
          <stop offset="1" stopColor="#141824" />
        </linearGradient>
      </defs>
      <rect x="64" y="64" width="896" height="896" rx="200" fill="url(#autodev-mark-bg)" />
      <path
        d="M300 340 L480 512 L300 684"
        fill="none"
        stroke="#7dd3fc"
        strokeWidth="96"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
      <rect x="540" y="636" width="220" height="96" rx="48" fill="#a78bfa" />
    </svg>
  );
}
