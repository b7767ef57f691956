import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { loadRenderer } from './helpers/renderer.ts';
import { session } from './helpers/session.ts';

// The Changes panel's pieces without a browser (the whole panel runs in Chromium: e2e/dashboard/changes.test.ts).

// biome-ignore lint/suspicious/noExplicitAny: components are loaded through a computed import (see helpers/tsx.ts)
type Component = (props: any) => unknown;
const model = await loadRenderer<{
  languageFor(path: string): string | null;
  counts(file: { additions: number; deletions: number; binary: boolean }): string;
  statusLetter(status: string): string;
  loadViewType(storage: { getItem(k: string): string | null } | null): string;
  saveViewType(storage: { setItem(k: string, v: string): void } | null, view: 'unified' | 'split'): void;
  isAgentProvider(p: { supports_full_access: boolean; supports_one_shot: boolean }): boolean;
}>('components/changes/changes-model.ts');
const { DiffView, parseFiles } = await loadRenderer<{
  DiffView: Component;
  parseFiles(diff: string): { newPath: string; hunks: unknown[] }[];
}>('components/changes/DiffView.tsx');
const { ChangesPanel } = await loadRenderer<{ ChangesPanel: Component }>(
  'components/changes/ChangesPanel.tsx',
);

const render = (c: Component, props: object) => renderToString(h(c as never, props as never));

const DIFF = `diff --git a/src/main.ts b/src/main.ts
index 1111111..2222222 100644
--- a/src/main.ts
+++ b/src/main.ts
@@ -1,2 +1,2 @@
-export const answer = 41;
+export const answer = 42;
 const keep = "same";
diff --git a/notes.md b/notes.md
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/notes.md
@@ -0,0 +1 @@
+# notes
`;

test('languages come from the file name; counts, status letters and the layout preference', () => {
  assert.equal(model.languageFor('src/main.ts'), 'typescript');
  assert.equal(model.languageFor('a/b/App.TSX'), 'tsx');
  assert.equal(model.languageFor('Makefile'), 'makefile');
  assert.equal(model.languageFor('README'), null);
  assert.equal(model.languageFor('.gitignore'), null);
  assert.equal(model.counts({ additions: 3, deletions: 1, binary: false }), '+3 −1');
  assert.equal(model.counts({ additions: 0, deletions: 0, binary: true }), 'binary');
  assert.equal(model.statusLetter('renamed'), 'R');
  const store = new Map<string, string>();
  const storage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
  };
  assert.equal(model.loadViewType(storage), 'unified');
  model.saveViewType(storage, 'split');
  assert.equal(model.loadViewType(storage), 'split');
  assert.equal(model.loadViewType(null), 'unified');
  assert.equal(model.isAgentProvider({ supports_full_access: true, supports_one_shot: false }), true);
  assert.equal(model.isAgentProvider({ supports_full_access: false, supports_one_shot: false }), false);
});

test('the diff is parsed and laid out by react-diff-view, with Prism tokens for the language', () => {
  const files = parseFiles(DIFF);
  assert.deepEqual(
    files.map((f) => [f.newPath, f.hunks.length]),
    [
      ['src/main.ts', 1],
      ['notes.md', 1],
    ],
  );
  const unified = render(DiffView, { diff: DIFF, viewType: 'unified', truncatedPaths: new Set() });
  assert.match(unified, /<table class="diff diff-unified/);
  assert.match(unified, /class="token keyword">export</);
  // The changed digit is marked as the edit inside the line, and still coloured as a number.
  assert.match(unified, /class="diff-code-edit"><span class="token number">2</);
  assert.match(unified, /class="token string">&quot;same&quot;</);
  assert.match(unified, /diff-code-insert/);
  assert.match(unified, /diff-code-delete/);
  const split = render(DiffView, { diff: DIFF, viewType: 'split', truncatedPaths: new Set(['notes.md']) });
  assert.match(split, /<table class="diff diff-split/);
  assert.match(split, /data-path="notes.md"[\s\S]*cut short/);
  const only = render(DiffView, {
    diff: DIFF,
    viewType: 'unified',
    truncatedPaths: new Set(),
    only: 'notes.md',
  });
  assert.doesNotMatch(only, /answer/);
  assert.match(only, / notes</);
  assert.match(render(DiffView, { diff: '', viewType: 'unified', truncatedPaths: new Set() }), /No changes/);
  // Agent output is text, never markup.
  const hostile = render(DiffView, {
    diff: DIFF.replace('# notes', '<img src=x onerror=alert(1)>'),
    viewType: 'unified',
    truncatedPaths: new Set(),
  });
  assert.doesNotMatch(hostile, /<img/);
  assert.match(hostile, /&lt;/);
});

test('the panel without a worktree says so; with one it names branch and base, and read-only hides actions', () => {
  const api = { getChanges: async () => ({}), onEvent: () => () => {} };
  const plain = render(ChangesPanel, { api, session: session({ session_id: 's' }), readOnly: false });
  assert.match(plain, /does not run in a worktree/);
  const wt = session({
    session_id: 's',
    name: 'agent',
    worktree: { repo: '/r', path: '/w', branch: 'autodev/x', base: 'main', base_commit: 'abc' },
  });
  const control = render(ChangesPanel, { api, session: wt, readOnly: false });
  assert.match(control, /autodev\/x/);
  assert.match(control, /Merge into main/);
  assert.match(control, /Commit all/);
  const readOnly = render(ChangesPanel, { api, session: wt, readOnly: true });
  assert.match(readOnly, /Read-only access/);
  assert.doesNotMatch(readOnly, /Commit all|Merge into|Discard/);
});
