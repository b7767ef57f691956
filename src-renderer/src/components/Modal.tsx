import { type ReactNode, useEffect, useId, useRef } from 'react';

/**
 * A modal dialog: labelled, focus moved inside on open and restored on close, Esc closes, Tab stays
 * inside (a simple focus trap).
 */
export function Modal({
  title,
  onClose,
  children,
  className,
}: {
  title: string;
  onClose(): void;
  children: ReactNode;
  className?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const titleId = useId();
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const el = box.current;
    if (el && !el.contains(document.activeElement)) {
      const first = el.querySelector<HTMLElement>('[autofocus], input, select, textarea, button');
      first?.focus();
    }
    return () => previous?.focus?.();
  }, []);
  return (
    <div className="modal-backdrop">
      <div
        ref={box}
        className={`modal ${className ?? ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            onClose();
          }
          if (e.key === 'Tab') trapTab(e.nativeEvent, box.current);
        }}
      >
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
    </div>
  );
}

function trapTab(event: KeyboardEvent, container: HTMLElement | null) {
  if (!container) return;
  const focusable = Array.from(
    container.querySelectorAll<HTMLElement>(
      'input, select, textarea, button, [tabindex]:not([tabindex="-1"])',
    ),
  ).filter((el) => !el.hasAttribute('disabled'));
  if (focusable.length === 0) return;
  const first = focusable[0]!;
  const last = focusable[focusable.length - 1]!;
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

export function ConfirmDialog({
  title,
  message,
  actions,
  onCancel,
}: {
  title: string;
  message: string;
  actions: { label: string; tone?: 'danger' | 'primary'; onClick(): void }[];
  onCancel(): void;
}) {
  return (
    <Modal title={title} onClose={onCancel}>
      <p>{message}</p>
      <div className="dialog-actions">
        {actions.map((a, i) => (
          <button
            key={a.label}
            type="button"
            className={`button ${a.tone ? `button-${a.tone}` : ''}`}
            // biome-ignore lint/a11y/noAutofocus: the first action of a confirmation takes focus (Enter confirms)
            autoFocus={i === 0}
            onClick={a.onClick}
          >
            {a.label}
          </button>
        ))}
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
