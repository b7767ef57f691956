import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gitIn, makeRepo, startWorktreeCore, until } from './helpers.ts';

// Sessions in their own worktree, against real git repositories in temp folders: what the agent
// changed (committed, uncommitted, untracked), then commit and each merge strategy into the base.

test('the agent edits its worktree; changes show committed, uncommitted and untracked files against the merge base', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo, { name: 'Fix answer' });
  const wt = s.worktree;
  assert.ok(wt, 'session info has its worktree');
  assert.equal(wt.repo, repo.dir);
  assert.equal(wt.branch, 'autodev/fix-answer');
  assert.equal(wt.base, 'main');
  assert.equal(wt.base_commit, repo.head('main'));
  assert.ok(wt.path.startsWith(path.join(h.dataDir, 'worktrees', 'app-')), wt.path);
  assert.equal(s.current_directory, wt.path, 'the agent runs in the worktree');
  assert.equal(gitIn(wt.path, 'branch', '--show-current'), 'autodev/fix-answer');

  await h.tell(s.session_id, 'write src/main.ts export const answer = 42;');
  await h.tell(s.session_id, 'commit change the answer');
  await h.tell(s.session_id, 'append src/util.ts // more');
  await h.tell(s.session_id, 'write notes/todo.md - ship it');
  // The main checkout is untouched.
  assert.equal(repo.read('src/main.ts'), 'export const answer = 41;\n');

  const c = await h.core.worktrees.changes(s.session_id);
  assert.equal(c.branch, 'autodev/fix-answer');
  assert.equal(c.base, 'main');
  assert.equal(c.merge_base, repo.head('main'));
  assert.equal(c.ahead, 1);
  assert.equal(c.behind, 0);
  const byPath = Object.fromEntries(c.files.map((f) => [f.path, f]));
  assert.deepEqual(Object.keys(byPath).sort(), ['notes/todo.md', 'src/main.ts', 'src/util.ts']);
  assert.deepEqual(
    {
      s: byPath['src/main.ts']!.status,
      a: byPath['src/main.ts']!.additions,
      d: byPath['src/main.ts']!.deletions,
      u: byPath['src/main.ts']!.uncommitted,
    },
    { s: 'modified', a: 1, d: 1, u: false },
  );
  assert.deepEqual(
    {
      s: byPath['src/util.ts']!.status,
      a: byPath['src/util.ts']!.additions,
      u: byPath['src/util.ts']!.uncommitted,
    },
    { s: 'modified', a: 1, u: true },
  );
  assert.deepEqual(
    {
      s: byPath['notes/todo.md']!.status,
      a: byPath['notes/todo.md']!.additions,
      u: byPath['notes/todo.md']!.uncommitted,
    },
    { s: 'added', a: 1, u: true },
  );
  assert.equal(c.uncommitted_files, 2);
  assert.equal(c.additions, 3);
  assert.match(c.diff, /^diff --git a\/notes\/todo\.md b\/notes\/todo\.md$/m);
  assert.match(c.diff, /^\+export const answer = 42;$/m);
  assert.match(c.diff, /^\+\/\/ more$/m);
  assert.equal(c.truncated, false);
  // The agent's own index was not touched: the untracked file is still untracked there.
  assert.match(gitIn(wt.path, 'status', '--porcelain'), /^\?\? notes\/$/m);

  const one = await h.core.worktrees.changes(s.session_id, { path: 'src/util.ts' });
  assert.deepEqual(
    one.files.map((f) => f.path),
    ['src/util.ts'],
  );
  assert.doesNotMatch(one.diff, /answer/);
  assert.match(one.diff, /^\+\/\/ more$/m);
});

test('the diff is capped: files past the cap are marked truncated and ?path= gives one file whole', async (t) => {
  const h = await startWorktreeCore(t, {
    coreOptions: {
      worktrees: { diffLimits: { maxTotalBytes: 4096, maxFileBytes: 2048, maxSingleFileBytes: 1 << 20 } },
    },
  });
  const repo = makeRepo(t);
  const s = await h.agent(repo);
  const big = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');
  writeFileSync(path.join(s.worktree!.path, 'big.txt'), `${big}\n`);
  writeFileSync(path.join(s.worktree!.path, 'small.txt'), 'small\n');
  const c = await h.core.worktrees.changes(s.session_id);
  const f = Object.fromEntries(c.files.map((x) => [x.path, x]));
  assert.equal(f['big.txt']!.truncated, true);
  assert.equal(f['big.txt']!.additions, 400, 'counts stay exact when the diff is cut');
  assert.equal(f['small.txt']!.truncated, false);
  assert.equal(c.truncated, true);
  assert.ok(Buffer.byteLength(c.diff) <= 4096, `diff ${Buffer.byteLength(c.diff)} bytes`);
  assert.match(c.diff, /^\+small$/m);
  const whole = await h.core.worktrees.changes(s.session_id, { path: 'big.txt' });
  assert.equal(whole.files[0]!.truncated, false);
  assert.equal(whole.diff.split('\n').filter((l) => l.startsWith('+line ')).length, 400);
});

test('commit, then squash-merge: one commit on main, the main checkout updated and clean, the branch continues from it', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo, { name: 'Feature' });
  await h.tell(s.session_id, 'write src/feature.ts export const feature = true;');
  await h.tell(s.session_id, 'commit add feature');
  await h.tell(s.session_id, 'append src/feature.ts export const more = 1;');
  const committed = await h.core.worktrees.commit(s.session_id, 'more feature');
  assert.equal(committed.files, 1);
  assert.equal(gitIn(s.worktree!.path, 'log', '-1', '--format=%s'), 'more feature');
  assert.equal(gitIn(s.worktree!.path, 'status', '--porcelain'), '');
  await assert.rejects(h.core.worktrees.commit(s.session_id, 'again'), /nothing to commit/);

  const before = repo.head('main');
  const merged = await h.core.worktrees.merge(s.session_id, { strategy: 'squash' });
  assert.equal(merged.previous_base_commit, before);
  assert.equal(merged.base_commit, repo.head('main'));
  assert.equal(merged.updated_checkout, repo.dir);
  assert.equal(repo.git('rev-list', '--count', `${before}..main`), '1', 'one squashed commit');
  assert.equal(repo.git('rev-parse', 'main^'), before, 'a single parent');
  assert.equal(repo.git('log', '-1', '--format=%s', 'main'), 'Feature');
  assert.match(repo.git('log', '-1', '--format=%b', 'main'), /- add feature\n- more feature/);
  assert.equal(repo.read('src/feature.ts'), 'export const feature = true;\nexport const more = 1;\n');
  assert.equal(repo.git('status', '--porcelain'), '', 'main checkout left clean');
  const after = await h.core.worktrees.changes(s.session_id);
  assert.deepEqual([after.ahead, after.files.length], [0, 0], 'nothing left to merge');
  await assert.rejects(h.core.worktrees.merge(s.session_id, { strategy: 'squash' }), /nothing to merge/);
});

test('merge strategy makes a merge commit with both parents; rebase replays the commits on a base that moved', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const a = await h.agent(repo, { name: 'merge me' });
  const b = await h.agent(repo, { name: 'rebase me' });
  await h.tell(a.session_id, 'write a.txt from a');
  await h.tell(a.session_id, 'commit a work');
  await h.tell(b.session_id, 'write b.txt from b');
  await h.tell(b.session_id, 'commit b one');
  await h.tell(b.session_id, 'append b.txt second');
  await h.tell(b.session_id, 'commit b two');

  const baseBefore = repo.head('main');
  const m = await h.core.worktrees.merge(a.session_id, { strategy: 'merge', message: 'Merge a' });
  const parents = repo.git('rev-list', '--parents', '-n', '1', 'main').split(' ');
  assert.deepEqual(parents.slice(1), [baseBefore, gitIn(a.worktree!.path, 'rev-parse', 'HEAD')]);
  assert.equal(repo.git('log', '-1', '--format=%s'), 'Merge a');
  assert.equal(m.base_commit, repo.head('main'));
  assert.equal(repo.read('a.txt'), 'from a\n');

  // main moved (a's merge): b is behind; rebase puts its two commits on top, linear.
  const r = await h.core.worktrees.merge(b.session_id, { strategy: 'rebase' });
  assert.equal(r.previous_base_commit, m.base_commit);
  assert.equal(
    repo.head('main'),
    gitIn(b.worktree!.path, 'rev-parse', 'HEAD'),
    'main fast-forwarded to the rebased branch',
  );
  assert.deepEqual(repo.git('log', '--format=%s', '-3', 'main').split('\n'), ['b two', 'b one', 'Merge a']);
  assert.equal(repo.read('b.txt'), 'from b\nsecond\n');
  assert.equal(repo.git('status', '--porcelain'), '');
});

test('a merge conflict is refused with the conflicting files and leaves nothing half-merged', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo);
  await h.tell(s.session_id, 'write src/main.ts export const answer = 43;');
  await h.tell(s.session_id, 'commit agent answer');
  repo.write('src/main.ts', 'export const answer = 44;\n');
  const mainBefore = repo.commit('human answer');
  const branchBefore = gitIn(s.worktree!.path, 'rev-parse', 'HEAD');

  for (const strategy of ['merge', 'squash', 'rebase'] as const) {
    const error = await h.core.worktrees.merge(s.session_id, { strategy }).then(
      () => assert.fail(`${strategy} should conflict`),
      (e: { error_code: string; files: string[]; message: string }) => e,
    );
    assert.equal(error.error_code, 'CONFLICT', strategy);
    assert.deepEqual(error.files, ['src/main.ts'], strategy);
    assert.match(error.message, /conflict.*src\/main\.ts/, strategy);
    assert.equal(repo.head('main'), mainBefore, `${strategy}: main unchanged`);
    assert.equal(repo.git('status', '--porcelain'), '', `${strategy}: main checkout clean`);
    assert.equal(gitIn(s.worktree!.path, 'rev-parse', 'HEAD'), branchBefore, `${strategy}: branch unchanged`);
    assert.equal(gitIn(s.worktree!.path, 'status', '--porcelain'), '', `${strategy}: worktree clean`);
    for (const marker of ['MERGE_HEAD', 'rebase-merge', 'rebase-apply']) {
      assert.equal(existsSync(path.join(repo.dir, '.git', marker)), false);
      assert.equal(
        existsSync(gitIn(s.worktree!.path, 'rev-parse', '--git-path', marker)),
        false,
        `${strategy} ${marker}`,
      );
    }
  }
  assert.equal(readFileSync(path.join(repo.dir, 'src/main.ts'), 'utf8'), 'export const answer = 44;\n');
});

test('merging onto a base checkout with uncommitted changes is refused with its files; nothing moves', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo);
  await h.tell(s.session_id, 'write feature.txt on');
  await h.tell(s.session_id, 'commit feature');
  repo.write('README.md', '# app (editing)\n');
  const before = repo.head('main');
  await assert.rejects(
    h.core.worktrees.merge(s.session_id, { strategy: 'squash' }),
    (e: { error_code: string; files: string[]; message: string }) => {
      assert.equal(e.error_code, 'CONFLICT');
      assert.deepEqual(e.files, ['README.md']);
      assert.match(
        e.message,
        new RegExp(
          `main is checked out at ${repo.dir.replace(/[/.]/g, '\\$&')} with uncommitted changes \\(README\\.md\\)`,
        ),
      );
      return true;
    },
  );
  assert.equal(repo.head('main'), before);
  assert.equal(repo.read('README.md'), '# app (editing)\n', 'the user’s edit is untouched');
  // Uncommitted work in the session's own worktree is refused too (merge takes commits only).
  await h.tell(s.session_id, 'write loose.txt not committed');
  await assert.rejects(
    h.core.worktrees.merge(s.session_id, { strategy: 'merge' }),
    /worktree has uncommitted changes \(loose\.txt\)/,
  );
  // A base nobody has checked out moves by compare-and-swap.
  repo.git('checkout', '-q', '-b', 'elsewhere');
  repo.git('checkout', '-q', '--', 'README.md');
  await h.core.worktrees.commit(s.session_id, 'loose');
  const done = await h.core.worktrees.merge(s.session_id, { strategy: 'merge' });
  assert.equal(done.updated_checkout, null);
  assert.equal(repo.head('main'), done.base_commit);
  await until('events for the merge', () =>
    h.events.some(
      (e) => e.kind === 'worktree_changes' && e.session_id === s.session_id && e.summary.ahead === 0,
    ),
  );
});

test('discard resets the worktree to its base and keeps what it dropped under a ref', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo);
  await h.tell(s.session_id, 'write kept-by-ref.txt committed');
  await h.tell(s.session_id, 'commit one');
  await h.tell(s.session_id, 'write loose.txt uncommitted');
  await h.tell(s.session_id, 'append README.md edited');
  const result = await h.core.worktrees.discard(s.session_id);
  assert.equal(result.reset_to, repo.head('main'));
  assert.ok(result.saved_ref?.startsWith('refs/autodev/discarded/autodev/'), String(result.saved_ref));
  const wt = s.worktree!.path;
  assert.equal(gitIn(wt, 'rev-parse', 'HEAD'), repo.head('main'));
  assert.equal(gitIn(wt, 'status', '--porcelain'), '');
  assert.equal(existsSync(path.join(wt, 'loose.txt')), false);
  // Everything dropped is one `git checkout <ref>` away.
  assert.equal(gitIn(wt, 'show', `${result.saved_ref}:loose.txt`), 'uncommitted');
  assert.equal(gitIn(wt, 'show', `${result.saved_ref}:kept-by-ref.txt`), 'committed');
  assert.match(gitIn(wt, 'show', `${result.saved_ref}:README.md`), /edited/);
  const c = await h.core.worktrees.changes(s.session_id);
  assert.equal(c.files.length, 0);
});

test("reading changes never runs a program named by the repository's config (core.fsmonitor)", async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo);
  const marker = path.join(path.dirname(repo.dir), 'fsmonitor-ran');
  const hook = path.join(path.dirname(repo.dir), 'fsmonitor.sh');
  writeFileSync(hook, `#!/bin/sh\ntouch ${JSON.stringify(marker)}\nexit 1\n`, { mode: 0o755 });
  repo.git('config', 'core.fsmonitor', hook);
  // git itself would run it (the control: the hook works).
  gitIn(repo.dir, 'status', '--porcelain');
  assert.ok(existsSync(marker), 'git status runs the configured fsmonitor');
  rmSync(marker);
  writeFileSync(path.join(s.worktree!.path, 'x.txt'), 'x\n');
  const c = await h.core.worktrees.changes(s.session_id);
  assert.deepEqual(
    c.files.map((f) => f.path),
    ['x.txt'],
  );
  await h.core.worktrees.list();
  assert.equal(existsSync(marker), false, 'AutoDev never ran it');
});

test('a lock left on the snapshot index (an AutoDev killed mid-snapshot, or another one reading) fails no read and is not broken', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo);
  const wt = s.worktree!;
  writeFileSync(path.join(wt.path, 'first.txt'), '1\n');
  assert.deepEqual(
    (await h.core.worktrees.changes(s.session_id)).files.map((f) => f.path),
    ['first.txt'],
  );
  // The worktree's git dir holds the shared snapshot index; a fresh lock on it, as a kill -9 leaves.
  const gitDir = gitIn(wt.path, 'rev-parse', '--absolute-git-dir').trim();
  const lock = path.join(gitDir, 'autodev-snapshot.index.lock');
  writeFileSync(lock, '');
  writeFileSync(path.join(wt.path, 'second.txt'), '2\n');
  const c = await h.core.worktrees.changes(s.session_id);
  assert.deepEqual(
    c.files.map((f) => f.path),
    ['first.txt', 'second.txt'],
  );
  assert.ok(existsSync(lock), 'a lock that may be live is left alone');
  assert.deepEqual(
    readdirSync(gitDir).filter((f) => f.startsWith('autodev-snapshot-')),
    [],
    'the private copy is gone',
  );
});
