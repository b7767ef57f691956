/**
 * Keys a phone keyboard lacks, under the terminal on small screens: Esc, Tab, Ctrl+C, arrows, and
 * Paste where the browser lets a page read the clipboard on a tap. Each is something the person
 * pressed, sent as input like a key typed in the terminal.
 */
const KEYS: readonly { label: string; name: string; data: string }[] = [
  { label: 'Esc', name: 'Escape', data: '\x1b' },
  { label: 'Tab', name: 'Tab', data: '\t' },
  { label: '^C', name: 'Control C', data: '\x03' },
  { label: '↑', name: 'Up', data: '\x1b[A' },
  { label: '↓', name: 'Down', data: '\x1b[B' },
  { label: '←', name: 'Left', data: '\x1b[D' },
  { label: '→', name: 'Right', data: '\x1b[C' },
  { label: '⏎', name: 'Enter', data: '\r' },
];

export function PhoneKeys({ onKey, onPaste }: { onKey(data: string): void; onPaste(text: string): void }) {
  const canRead = typeof navigator !== 'undefined' && typeof navigator.clipboard?.readText === 'function';
  return (
    <div className="phone-keys" role="toolbar" aria-label="Terminal keys">
      {KEYS.map((k) => (
        <button
          key={k.name}
          type="button"
          className="phone-key"
          aria-label={k.name}
          // Keep the terminal focused (and the soft keyboard up) while tapping a key.
          onPointerDown={(e) => e.preventDefault()}
          onClick={() => onKey(k.data)}
        >
          {k.label}
        </button>
      ))}
      {canRead ? (
        <button
          type="button"
          className="phone-key"
          onPointerDown={(e) => e.preventDefault()}
          onClick={() =>
            void navigator.clipboard
              .readText()
              .then((text) => text && onPaste(text))
              .catch(() => {})
          }
        >
          Paste
        </button>
      ) : null}
    </div>
  );
}
