import { useCallback, useEffect, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { TokenScope } from '../../../src-shared/ws-protocol.ts';
import { ApiError, isUnauthorized } from '../api/api-error.ts';
import type { ClientExtras } from '../api/client-extras.ts';
import { createIpcApi, type DesktopBridge } from '../api/ipc.ts';
import { takePairingToken } from '../api/pairing.ts';
import type { TransportChoice } from '../api/pick-transport.ts';
import { RemoteApi } from '../api/remote.ts';
import { TokenStore } from '../api/token-store.ts';
import { SignIn } from './SignIn.tsx';
import { Workspace } from './Workspace.tsx';

type Identity = { user_id: string; scope: TokenScope; mode: 'desktop' | 'dashboard' };
type Connected = { api: AutoDevApi; extras: ClientExtras; identity: Identity };

export function Root({ choice }: { choice: TransportChoice }) {
  return choice.kind === 'ipc' ? <DesktopRoot /> : <DashboardRoot baseUrl={choice.baseUrl} />;
}

function DesktopRoot() {
  const [connected, setConnected] = useState<Connected | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const { api, extras } = createIpcApi((window as unknown as { autodev: DesktopBridge }).autodev);
    api
      .whoami()
      .then((identity) => setConnected({ api, extras, identity }))
      .catch((e) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  if (error) return <StartupError message={error} />;
  if (!connected) return <Loading />;
  return <Workspace {...connected} />;
}

const tokenStore = (() => {
  let storage: Storage | null = null;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = null;
  }
  return new TokenStore(storage);
})();

/** Browser: sign in with a token, then the workspace; back to sign-in when the token stops working. */
function DashboardRoot({ baseUrl }: { baseUrl: string }) {
  const [connected, setConnected] = useState<Connected | null>(null);
  const [signInError, setSignInError] = useState<string | null>(null);
  const [restoring, setRestoring] = useState(() => {
    // A paired link (`#pair=<jwt>` from the desktop's QR code) signs in like a pasted token.
    const paired = takePairingToken(window);
    if (paired) tokenStore.set(paired);
    return tokenStore.token !== null;
  });

  const signOut = useCallback((message: string | null) => {
    tokenStore.clear();
    setConnected((current) => {
      (current?.api as RemoteApi | undefined)?.dispose?.();
      return null;
    });
    setSignInError(message);
  }, []);

  const connect = useCallback(
    async (token: string) => {
      const api = new RemoteApi({
        baseUrl,
        token,
        onUnauthorized: () =>
          signOut('Your access ended: the token has expired or was revoked. Sign in with a new token.'),
      });
      let identity: Identity;
      try {
        identity = await api.whoami();
      } catch (e) {
        api.dispose();
        if (isUnauthorized(e))
          throw new ApiError(
            'The server refused this token: it is wrong, expired or revoked.',
            'UNAUTHORIZED',
            401,
          );
        throw e;
      }
      tokenStore.set(token);
      setSignInError(null);
      setConnected({
        api,
        identity: { ...identity, mode: 'dashboard' },
        extras: {
          onConnectionChange: (listener) => api.onConnectionChange(listener),
          signOut: () => signOut(null),
        },
      });
    },
    [baseUrl, signOut],
  );

  useEffect(() => {
    const token = tokenStore.token;
    if (!token) return;
    connect(token)
      .catch((e) => {
        tokenStore.clear();
        setSignInError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => setRestoring(false));
  }, [connect]);

  if (connected) return <Workspace key={connected.identity.user_id} {...connected} />;
  if (restoring) return <Loading />;
  return <SignIn onSignIn={connect} initialError={signInError} />;
}

function Loading() {
  return (
    <main className="loading" aria-busy="true">
      <p role="status">Connecting…</p>
    </main>
  );
}

function StartupError({ message }: { message: string }) {
  return (
    <main className="loading">
      <p role="alert">AutoDev could not start its interface: {message}</p>
    </main>
  );
}
