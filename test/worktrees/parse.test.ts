import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capFileBlock,
  capPatch,
  parseNameStatus,
  parseNumstat,
  parseRawNumstat,
  splitPatch,
} from '../../src-main/core/worktrees/diff-parse.ts';
import {
  branchCandidates,
  defaultBranchName,
  slugify,
  worktreeFolder,
} from '../../src-main/core/worktrees/names.ts';
import { BranchNameSchema } from '../../src-shared/worktrees.ts';

test('name-status and numstat (-z): renames, binaries, paths with spaces and non-ASCII', () => {
  const names = parseNameStatus('M\0src/a b.ts\0R087\0old name.txt\0new näme.txt\0A\0x\0D\0gone\0');
  assert.deepEqual(names, [
    { path: 'src/a b.ts', old_path: null, status: 'modified' },
    { path: 'new näme.txt', old_path: 'old name.txt', status: 'renamed' },
    { path: 'x', old_path: null, status: 'added' },
    { path: 'gone', old_path: null, status: 'deleted' },
  ]);
  const stats = parseNumstat('3\t1\tsrc/a b.ts\x002\t0\t\0old name.txt\0new näme.txt\0-\t-\timg.png\0');
  assert.deepEqual(stats, [
    { path: 'src/a b.ts', additions: 3, deletions: 1, binary: false },
    { path: 'new näme.txt', additions: 2, deletions: 0, binary: false },
    { path: 'img.png', additions: 0, deletions: 0, binary: true },
  ]);
});

test('raw and numstat of one `git diff -z --raw --numstat` run', () => {
  const out =
    ':100644 100644 0c02ccc a793aec M\0f.txt\0:000000 100644 0000000 bca70f3 A\0new file.txt\0' +
    ':100644 100644 1111111 2222222 R090\0old.txt\0moved.txt\0' +
    '1\t0\tf.txt\x001\t0\tnew file.txt\x002\t1\t\0old.txt\0moved.txt\0';
  const { names, stats } = parseRawNumstat(out);
  assert.deepEqual(names, [
    { path: 'f.txt', old_path: null, status: 'modified' },
    { path: 'new file.txt', old_path: null, status: 'added' },
    { path: 'moved.txt', old_path: 'old.txt', status: 'renamed' },
  ]);
  assert.deepEqual(
    stats.map((s) => [s.path, s.additions, s.deletions]),
    [
      ['f.txt', 1, 0],
      ['new file.txt', 1, 0],
      ['moved.txt', 2, 1],
    ],
  );
});

const block = (name: string, hunks: number, linesPerHunk: number) =>
  `diff --git a/${name} b/${name}\nindex 1..2 100644\n--- a/${name}\n+++ b/${name}\n${Array.from(
    { length: hunks },
    (_, h) =>
      `@@ -${h * 100 + 1},${linesPerHunk} +${h * 100 + 1},${linesPerHunk} @@\n${Array.from({ length: linesPerHunk }, (_, i) => `+line ${h}.${i}\n`).join('')}`,
  ).join('')}`;

test('patches are cut at hunk boundaries, never inside a hunk; files past the total keep their header', () => {
  const a = block('a.txt', 3, 10);
  const b = block('b.txt', 1, 2);
  assert.deepEqual(
    splitPatch(a + b).map((x) => x.split('\n')[0]),
    ['diff --git a/a.txt b/a.txt', 'diff --git a/b.txt b/b.txt'],
  );
  const oneHunk = Buffer.byteLength(a) / 3;
  const cut = capFileBlock(a, Math.floor(oneHunk * 2));
  assert.equal(cut.truncated, true);
  const hunks = cut.text.split('\n').filter((l) => l.startsWith('@@'));
  assert.ok(hunks.length >= 1 && hunks.length < 3, `${hunks.length} hunks kept`);
  // Every kept hunk is whole: its header's count equals its lines.
  for (const hunk of cut.text.split(/^(?=@@ )/m).slice(1)) {
    const lines = hunk.split('\n').filter((l) => l.startsWith('+'));
    assert.equal(lines.length, 10);
  }
  // a fits the total whole; b does not fit what is left (header only); a third file never came.
  const capped = capPatch(a + b, 3, Buffer.byteLength(a) + 10, 1 << 20);
  assert.deepEqual(capped.truncated, [false, true, true]);
  assert.match(capped.diff, /^diff --git a\/b\.txt b\/b\.txt$/m);
  assert.equal(capped.diff.split('+line 0.0\n').length - 1, 1, 'only a has hunks; b kept its header only');
  assert.ok(
    Buffer.byteLength(capped.diff) <=
      Buffer.byteLength(a) + Buffer.byteLength('diff --git a/b.txt b/b.txt\n') * 4,
  );
  // The per-file cap cuts a, and b still fits.
  const perFile = capPatch(a + b, 2, 1 << 20, Math.floor(oneHunk * 2));
  assert.deepEqual(perFile.truncated, [true, false]);
  assert.match(perFile.diff, /\+line 0\.0\n/);
  assert.doesNotMatch(perFile.diff, /\+line 2\.0\n/);
  const whole = capPatch(a + b, 2, 1 << 20, 1 << 20);
  assert.deepEqual(whole.truncated, [false, false]);
  assert.equal(whole.diff, a + b);
});

test('branch names: slugs from session names, unique candidates, never outside the managed folder', () => {
  assert.equal(slugify('Fix the login page!'), 'fix-the-login-page');
  assert.equal(slugify('Ünïcode  ..  dots'), 'unicode-.-dots');
  assert.equal(slugify('///'), 'session');
  assert.equal(defaultBranchName('Claude Code'), 'autodev/claude-code');
  assert.deepEqual([...branchCandidates('autodev/x', 3)], ['autodev/x', 'autodev/x-2', 'autodev/x-3']);
  assert.equal(worktreeFolder('/data/wt', 'app-1234', 'feature/x'), '/data/wt/app-1234/feature/x');
  assert.throws(() => worktreeFolder('/data/wt', 'app-1234', '../../etc'));
  for (const bad of ['-rf', 'a..b', 'a b', 'x.lock', 'a//b', 'x/', '$(id)', 'a;b', '@{x}'])
    assert.equal(BranchNameSchema.safeParse(bad).success, false, bad);
  for (const good of ['feature/x', 'autodev/fix-1', 'v1.2', 'a+b'])
    assert.equal(BranchNameSchema.safeParse(good).success, true, good);
});
