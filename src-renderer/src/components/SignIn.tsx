import { type FormEvent, useState } from 'react';
import { normalizeToken } from '../api/token-store.ts';
import { BrandMark } from './Icons.tsx';

/**
 * Dashboard sign-in: paste a token printed by `autodev token` (or shown in the desktop app's settings).
 * The token goes to the server only in an Authorization header, never in the address bar.
 */
export function SignIn({
  onSignIn,
  initialError,
}: {
  onSignIn(token: string): Promise<void>;
  initialError?: string | null;
}) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(initialError ?? null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const token = normalizeToken(value);
    if (!token) {
      setError('That is not an AutoDev token: paste the whole token printed by `npx autodev token`.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSignIn(token);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">
          <BrandMark size={30} />
          AutoDev dashboard
        </h1>
        <p className="muted">
          Sign in with an access token. Create one on the machine running AutoDev with{' '}
          <code>npx autodev token</code>, or copy it from the desktop app's settings.
        </p>
        <label className="field">
          <span>Access token</span>
          <input
            // biome-ignore lint/a11y/noAutofocus: the only thing to do on this screen
            autoFocus
            type="password"
            name="token"
            autoComplete="off"
            spellCheck={false}
            value={value}
            onChange={(e) => setValue(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'signin-error' : undefined}
          />
        </label>
        {error ? (
          <p id="signin-error" className="hint hint-danger" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={busy || !value.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
