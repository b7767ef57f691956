import { useState } from 'react';
import { ArrowDownIcon, ArrowUpIcon, CloseIcon } from './Icons.tsx';

/**
 * Find in the terminal's scrollback: Enter / Shift+Enter step through matches, Esc closes. The count
 * ("3 of 12") and the outcome are announced (role=status) whichever renderer draws the highlight.
 * It floats over the terminal, so opening it never resizes the PTY or the page.
 */
export function ScrollbackSearch({
  results,
  onFind,
  onClose,
}: {
  results: { index: number; count: number } | null;
  onFind(text: string, backwards: boolean): boolean | undefined;
  onClose(): void;
}) {
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<'found' | 'missing' | null>(null);
  const find = (backwards: boolean) => {
    if (text === '') return setOutcome(null);
    setOutcome(onFind(text, backwards) === false ? 'missing' : 'found');
  };
  const status =
    outcome === 'missing'
      ? 'No match'
      : outcome === 'found'
        ? results && results.count > 0
          ? `${results.index >= 0 ? results.index + 1 : '?'} of ${results.count}${results.count >= 1000 ? '+' : ''}`
          : 'Match selected'
        : '';
  return (
    <search className="search-box" aria-label="Search in scrollback">
      <input
        // biome-ignore lint/a11y/noAutofocus: opening the search box is an explicit request to type in it
        autoFocus
        type="search"
        aria-label="Search text"
        placeholder="Find in scrollback"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOutcome(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            find(e.shiftKey);
          }
          if (e.key === 'Escape') {
            e.preventDefault();
            onClose();
          }
        }}
      />
      <span role="status" className="search-status" data-outcome={outcome ?? ''}>
        {status}
      </span>
      <button type="button" className="icon-button" aria-label="Previous match" onClick={() => find(true)}>
        <ArrowUpIcon />
      </button>
      <button type="button" className="icon-button" aria-label="Next match" onClick={() => find(false)}>
        <ArrowDownIcon />
      </button>
      <button type="button" className="icon-button" aria-label="Close search" onClick={onClose}>
        <CloseIcon />
      </button>
    </search>
  );
}
