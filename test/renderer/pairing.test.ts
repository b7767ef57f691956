import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRenderer } from './helpers/renderer.ts';

type Win = {
  location: { hash: string; pathname: string; search: string };
  history: { state: unknown; replaceState(d: unknown, u: string, url?: string | null): void };
};
const { takePairingToken } = await loadRenderer<{ takePairingToken(w: Win): string | null }>(
  'api/pairing.ts',
);

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2NhbCJ9.c2lnbmF0dXJl';

function fakeWindow(hash: string) {
  const replaced: (string | null | undefined)[] = [];
  const win: Win = {
    location: { hash, pathname: '/', search: '?x=1' },
    history: {
      state: { keep: true },
      replaceState(data, _u, url) {
        assert.deepEqual(data, { keep: true }, 'history state is kept');
        replaced.push(url);
      },
    },
  };
  return { win, replaced };
}

test('pairing fragment: the token is taken and the fragment removed from the address', () => {
  const { win, replaced } = fakeWindow(`#pair=${encodeURIComponent(JWT)}`);
  assert.equal(takePairingToken(win), JWT);
  assert.deepEqual(replaced, ['/?x=1']);
});

test('pairing fragment: a malformed token is not used but still removed; other fragments are left alone', () => {
  const bad = fakeWindow('#pair=not-a-jwt');
  assert.equal(takePairingToken(bad.win), null);
  assert.deepEqual(bad.replaced, ['/?x=1']);
  for (const hash of ['', '#', '#section-2', '#other=1']) {
    const w = fakeWindow(hash);
    assert.equal(takePairingToken(w.win), null, hash);
    assert.deepEqual(w.replaced, [], `${hash} is not touched`);
  }
  const throwing = fakeWindow(`#pair=${JWT}`);
  throwing.win.history.replaceState = () => {
    throw new Error('SecurityError');
  };
  assert.equal(takePairingToken(throwing.win), JWT);
});
