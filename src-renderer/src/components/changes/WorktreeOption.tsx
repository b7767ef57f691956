import { useEffect, useRef, useState } from 'react';
import type { RepositoryInfo, WorktreeRequest } from '../../../../src-shared/worktrees.ts';
import './changes.css';

/**
 * "Isolate in a worktree" for the new-session dialog: shown when the working directory is in a git
 * repository, on by default for agent providers. Reports the `worktree` part of the create request
 * (or undefined: run in the directory itself).
 */
export function WorktreeOption({
  directory,
  agent,
  inspect,
  onChange,
}: {
  directory: string;
  /** Agent providers get a worktree by default; a plain shell does not. */
  agent: boolean;
  inspect(path: string): Promise<RepositoryInfo>;
  onChange(request: WorktreeRequest | undefined): void;
}) {
  const [info, setInfo] = useState<RepositoryInfo | null>(null);
  const [enabled, setEnabled] = useState(agent);
  const [touched, setTouched] = useState(false);
  const [base, setBase] = useState('');
  const [branch, setBranch] = useState('');
  // The latest inspect function, without re-asking when only its identity changed.
  const inspectRef = useRef(inspect);
  inspectRef.current = inspect;

  // Which repository (if any) the typed directory is in: asked once typing pauses.
  useEffect(() => {
    const dir = directory.trim();
    setInfo(null);
    if (!dir.startsWith('/')) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      inspectRef
        .current(dir)
        .then((r) => {
          if (cancelled) return;
          setInfo(r.is_repo ? r : null);
          setBase(r.current_branch ?? r.branches[0] ?? '');
        })
        .catch(() => !cancelled && setInfo(null));
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [directory]);

  // The default follows the provider until the user chose.
  useEffect(() => {
    if (!touched) setEnabled(agent);
  }, [agent, touched]);

  useEffect(() => {
    if (!info || !enabled) onChange(undefined);
    else onChange({ ...(base ? { base } : {}), ...(branch.trim() ? { branch: branch.trim() } : {}) });
  }, [info, enabled, base, branch, onChange]);

  if (!info) return null;
  return (
    <fieldset className="worktree-option field">
      <label className="field-check">
        <input
          type="checkbox"
          checked={enabled}
          onChange={(e) => {
            setTouched(true);
            setEnabled(e.target.checked);
          }}
        />
        <span>Isolate in a worktree (its own branch; review and merge its changes later)</span>
      </label>
      {enabled ? (
        <span className="field-row">
          <select aria-label="Base branch" value={base} onChange={(e) => setBase(e.target.value)}>
            {info.branches.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
          <input
            type="text"
            aria-label="New branch (optional)"
            placeholder="branch: autodev/<session name>"
            value={branch}
            spellCheck={false}
            onChange={(e) => setBranch(e.target.value)}
          />
        </span>
      ) : null}
      <p className="hint">
        {enabled
          ? `A new worktree of ${info.repo} under AutoDev's managed folder, branched from ${base || 'the current branch'}.`
          : `The session works directly in ${info.repo}.`}
      </p>
    </fieldset>
  );
}
