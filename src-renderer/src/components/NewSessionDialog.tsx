import { type FormEvent, useEffect, useMemo, useState } from 'react';
import type { ProviderSummary } from '../../../src-shared/rest.ts';
import type { CreateSessionRequest } from '../../../src-shared/session.ts';
import type { RepositoryInfo, WorktreeRequest } from '../../../src-shared/worktrees.ts';
import { isAgentProvider } from './changes/changes-model.ts';
import { WorktreeOption } from './changes/WorktreeOption.tsx';
import { Modal } from './Modal.tsx';

export interface NewSessionDialogProps {
  providers: ProviderSummary[] | null;
  providersError?: string | null;
  defaultProvider?: string;
  defaultDirectory?: string;
  onCreate(request: CreateSessionRequest): Promise<void>;
  onClose(): void;
  selectDirectory?: () => Promise<string | null>;
  /** Offers "Isolate in a worktree" when the directory is in a git repository. */
  inspectRepository?: (path: string) => Promise<RepositoryInfo>;
}

/** "GNU bash, version 5.2.15(1)-release (x86_64…)" → "5.2.15": the number is what people compare. */
export function shortVersion(version: string | null): string | null {
  if (!version) return null;
  return /\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?/.exec(version)?.[0] ?? version.slice(0, 24);
}

/** Why a provider cannot start, in words (empty when it can). Only a missing binary stops it. */
export function providerProblem(p: ProviderSummary): string {
  if (!p.installed) return `${p.binary} is not installed or not on PATH`;
  return '';
}

/**
 * What is worth knowing about a provider that can start. A missing API key does not stop an agent
 * CLI: it starts and offers its own sign-in (claude, codex and gemini all do).
 */
export function providerNote(p: ProviderSummary): string {
  if (p.installed && p.env_missing.length > 0)
    return `no API key set (${p.env_missing.join(', ')}); the CLI's own sign-in will be used`;
  return '';
}

/** Keyboard-first: the provider list has focus on open, Enter creates, Esc closes. */
export function NewSessionDialog(props: NewSessionDialogProps) {
  const providers = props.providers ?? [];
  const firstUsable =
    providers.find((p) => p.id === props.defaultProvider && p.installed) ??
    providers.find((p) => p.installed);
  const [providerId, setProviderId] = useState(firstUsable?.id ?? providers[0]?.id ?? '');
  const [directory, setDirectory] = useState(props.defaultDirectory ?? '');
  const [fullAccess, setFullAccess] = useState(false);
  const [prompt, setPrompt] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [worktree, setWorktree] = useState<WorktreeRequest | undefined>(undefined);

  useEffect(() => {
    if (!providerId && firstUsable) setProviderId(firstUsable.id);
  }, [providerId, firstUsable]);

  const provider = useMemo(() => providers.find((p) => p.id === providerId), [providers, providerId]);
  const problem = provider ? providerProblem(provider) : '';
  const note = provider ? providerNote(provider) : '';
  const canCreate = !!provider && provider.installed && !busy;

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!canCreate || !provider) return;
    setBusy(true);
    setError(null);
    try {
      const request: CreateSessionRequest = {
        cli_tool: provider.id,
        full_access: fullAccess && provider.supports_full_access,
      };
      if (directory.trim()) request.working_directory = directory.trim();
      if (prompt.trim()) request.initial_prompt = prompt;
      if (name.trim()) request.name = name.trim();
      if (worktree && request.working_directory) request.worktree = worktree;
      await props.onCreate(request);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <Modal title="New session" onClose={props.onClose} className="new-session">
      <form onSubmit={submit} aria-describedby={error ? 'new-session-error' : undefined}>
        <label className="field">
          <span>Provider</span>
          <select
            // biome-ignore lint/a11y/noAutofocus: keyboard-first dialog
            autoFocus
            value={providerId}
            onChange={(e) => setProviderId(e.target.value)}
            aria-describedby="provider-status"
          >
            {providers.map((p) => (
              <option key={p.id} value={p.id}>
                {`${p.name} — ${p.installed ? `installed${p.version ? ` (${shortVersion(p.version)})` : ''}` : 'not installed'}`}
              </option>
            ))}
          </select>
        </label>
        <p
          id="provider-status"
          className={`hint ${problem ? 'hint-warn' : ''}`}
          role={problem ? 'alert' : undefined}
        >
          {props.providers === null
            ? props.providersError
              ? `Could not load providers: ${props.providersError}`
              : 'Loading providers…'
            : provider
              ? problem
                ? `Cannot start: ${problem}.`
                : note
                  ? `Ready: ${provider.resolved_path ?? provider.binary} — ${note}.`
                  : `Ready: ${provider.resolved_path ?? provider.binary}`
              : 'No providers configured.'}
        </p>
        <label className="field">
          <span>Working directory</span>
          <span className="field-row">
            <input
              type="text"
              value={directory}
              placeholder="Default: your home directory"
              onChange={(e) => setDirectory(e.target.value)}
              spellCheck={false}
            />
            {props.selectDirectory ? (
              <button
                type="button"
                className="button"
                onClick={async () => {
                  const picked = await props.selectDirectory?.();
                  if (picked) setDirectory(picked);
                }}
              >
                Browse…
              </button>
            ) : null}
          </span>
        </label>
        {props.inspectRepository ? (
          <WorktreeOption
            directory={directory}
            agent={provider ? isAgentProvider(provider) : false}
            inspect={props.inspectRepository}
            onChange={setWorktree}
          />
        ) : null}
        <label className="field">
          <span>Name (optional)</span>
          <input type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field field-check">
          <input
            type="checkbox"
            checked={fullAccess}
            disabled={!provider?.supports_full_access}
            onChange={(e) => setFullAccess(e.target.checked)}
            aria-describedby="full-access-warning"
          />
          <span>Full access (no permission prompts)</span>
        </label>
        <p
          id="full-access-warning"
          className={`hint ${fullAccess ? 'hint-danger' : ''}`}
          role={fullAccess ? 'alert' : undefined}
        >
          {provider && !provider.supports_full_access
            ? `${provider.name} has no full-access mode.`
            : fullAccess
              ? 'Warning: the agent will run commands, edit and delete files and use the network without asking you. Use it only in a directory you can afford to lose, ideally a disposable checkout or container.'
              : 'The agent asks before running commands or editing files.'}
        </p>
        <label className="field">
          <span>First prompt (optional, Ctrl+Enter to create)</span>
          <textarea
            rows={3}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit();
            }}
          />
        </label>
        {error ? (
          <p id="new-session-error" className="hint hint-danger" role="alert">
            {error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="submit" className="button button-primary" disabled={!canCreate}>
            {busy ? 'Starting…' : 'Create'}
          </button>
          <button type="button" className="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
