import { useMemo } from 'react';
import { Diff, type FileData, Hunk, type HunkTokens, markEdits, parseDiff, tokenize } from 'react-diff-view';
import { refractor } from 'refractor';
import 'react-diff-view/style/index.css';
import { type DiffViewType, diffPath, languageFor } from './changes-model.ts';

/**
 * A git unified diff rendered by react-diff-view (unified or side by side), with Prism syntax colours
 * (refractor) and word-level edit marks. Nothing here parses or lays out diffs by hand.
 */

// react-diff-view's tokenizer expects the refractor 2/3 API (highlight → nodes); refractor 5 returns a root.
const highlighter = {
  highlight: (text: string, language: string) => refractor.highlight(text, language).children,
} as unknown as Parameters<typeof tokenize>[1] extends { refractor?: infer R } ? R : never;

function tokensFor(file: FileData): HunkTokens | undefined {
  const language = languageFor(diffPath(file));
  if (file.hunks.length === 0) return undefined;
  const enhancers = [markEdits(file.hunks, { type: 'block' })];
  try {
    if (language && refractor.registered(language)) {
      return tokenize(file.hunks, { highlight: true, refractor: highlighter, language, enhancers });
    }
    return tokenize(file.hunks, { enhancers });
  } catch {
    return undefined; // a hunk the highlighter cannot take is shown plain
  }
}

export function parseFiles(diff: string): FileData[] {
  if (diff.trim() === '') return [];
  try {
    // (The parser yields a nameless entry for text that is not a diff: dropped.)
    return parseDiff(diff, { nearbySequences: 'zip' }).filter((f) => f.newPath || f.oldPath);
  } catch {
    return [];
  }
}

function FileDiff({
  file,
  viewType,
  truncated,
}: {
  file: FileData;
  viewType: DiffViewType;
  truncated: boolean;
}) {
  const tokens = useMemo(() => tokensFor(file), [file]);
  const path = diffPath(file);
  return (
    <section className="changes-file-diff" aria-label={`Diff of ${path}`} data-path={path}>
      <header className="changes-file-diff-header">
        <span className="mono">{file.type === 'rename' ? `${file.oldPath} → ${file.newPath}` : path}</span>
        {truncated ? <span className="changes-badge changes-badge-warn">cut short</span> : null}
      </header>
      {file.hunks.length === 0 ? (
        <p className="muted changes-empty-diff">
          {file.isBinary
            ? 'Binary file'
            : truncated
              ? 'Too large to show here; select it alone.'
              : 'No text changes (mode or rename only).'}
        </p>
      ) : (
        <Diff viewType={viewType} diffType={file.type} hunks={file.hunks} {...(tokens ? { tokens } : {})}>
          {(hunks) => hunks.map((hunk) => <Hunk key={hunk.content} hunk={hunk} />)}
        </Diff>
      )}
    </section>
  );
}

export function DiffView({
  diff,
  viewType,
  truncatedPaths,
  only = null,
}: {
  diff: string;
  viewType: DiffViewType;
  truncatedPaths: ReadonlySet<string>;
  /** Show just this file. */
  only?: string | null;
}) {
  const parsed = useMemo(() => parseFiles(diff), [diff]);
  const files = only === null ? parsed : parsed.filter((f) => diffPath(f) === only);
  if (files.length === 0)
    return (
      <p className="muted">{only && truncatedPaths.has(only) ? 'Loading the whole file…' : 'No changes.'}</p>
    );
  return (
    <div className={`changes-diff changes-diff-${viewType}`}>
      {files.map((file) => (
        <FileDiff
          key={`${file.oldRevision}-${file.newRevision}-${diffPath(file)}`}
          file={file}
          viewType={viewType}
          truncated={truncatedPaths.has(diffPath(file))}
        />
      ))}
    </div>
  );
}
