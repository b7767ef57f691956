import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TestClient } from '../server/harness.ts';
import { gitIn, makeRepo, startWorktreeServer, until } from './helpers.ts';

// The REST face of worktrees: create in a worktree, changes, actions and removal, scopes, and the
// events channel, against a real server on a real core and a real repository.

test('REST: a session in a worktree, its changes, and what a read token may and may not do', async (t) => {
  const h = await startWorktreeServer(t);
  const repo = makeRepo(t);
  const read = await h.token('read');

  const bad = await h.api('POST', '/cli/sessions', {
    body: { cli_tool: 'editagent', working_directory: os.tmpdir(), worktree: {} },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error_code, 'VALIDATION_ERROR');
  assert.match(bad.body.error, /is not inside a git repository/);
  const badBranch = await h.api('POST', '/cli/sessions', {
    body: { cli_tool: 'editagent', working_directory: repo.dir, worktree: { branch: '-x;rm -rf' } },
  });
  assert.equal(badBranch.status, 400);
  assert.match(badBranch.body.error, /worktree\.branch/);
  const badBase = await h.api('POST', '/cli/sessions', {
    body: { cli_tool: 'editagent', working_directory: repo.dir, worktree: { base: 'no-such-branch' } },
  });
  assert.equal(badBase.status, 400);
  assert.match(badBase.body.error, /worktree\.base: "no-such-branch" names no commit/);

  const created = await h.api('POST', '/cli/sessions', {
    body: {
      cli_tool: 'editagent',
      name: 'rest agent',
      working_directory: repo.dir,
      worktree: { base: 'main' },
    },
  });
  assert.equal(created.status, 201);
  const id: string = created.body.session_id;
  const wt = created.body.session.worktree;
  assert.deepEqual(
    { repo: wt.repo, branch: wt.branch, base: wt.base, base_commit: wt.base_commit },
    { repo: repo.dir, branch: 'autodev/rest-agent', base: 'main', base_commit: repo.head('main') },
  );
  await until('prompt', () => /> $/.test(h.output(id)));

  // The events channel (a read token) hears about changes.
  const events = new TestClient(`${h.server.wsUrl}/cli/events/ws`, {
    origin: null,
    protocols: [`autodev.bearer.${read}`],
  });
  await events.opened;
  await events.waitForType('auth');
  writeFileSync(path.join(wt.path, 'from-rest.txt'), 'hello\n');
  await until('a worktree_changes event', () =>
    events.messages.find(
      (m) =>
        m.type === 'event' &&
        m.data.kind === 'worktree_changes' &&
        m.data.session_id === id &&
        m.data.summary.files === 1,
    ),
  );
  events.ws.close();

  const changes = await h.api('GET', `/cli/sessions/${id}/changes`, { token: read });
  assert.equal(changes.status, 200);
  assert.deepEqual(
    changes.body.files.map((f: { path: string; status: string }) => [f.path, f.status]),
    [['from-rest.txt', 'added']],
  );
  assert.match(changes.body.diff, /^\+hello$/m);
  const one = await h.api('GET', `/cli/sessions/${id}/changes?path=from-rest.txt`, { token: read });
  assert.equal(one.status, 200);
  const escaping = await h.api('GET', `/cli/sessions/${id}/changes?path=../etc/passwd`, { token: read });
  assert.equal(escaping.status, 400);
  const listed = await h.api('GET', '/worktrees', { token: read });
  assert.equal(listed.status, 200);
  assert.equal(
    listed.body.worktrees.find((w: { session_id: string }) => w.session_id === id).state,
    'active',
  );

  // A read token sees; it never acts. Nothing changed afterwards.
  for (const [method, route, body] of [
    ['POST', `/cli/sessions/${id}/changes/commit`, { message: 'x' }],
    ['POST', `/cli/sessions/${id}/changes/merge`, { strategy: 'squash' }],
    ['POST', `/cli/sessions/${id}/changes/discard`, undefined],
    ['DELETE', `/cli/sessions/${id}?remove_worktree=true&force=true`, undefined],
    ['GET', `/worktrees/inspect?path=${encodeURIComponent(repo.dir)}`, undefined],
  ] as const) {
    const r = await h.api(method, route, { token: read, ...(body ? { body } : {}) });
    assert.equal(r.status, 403, `${method} ${route}`);
    assert.equal(r.body.error_code, 'FORBIDDEN');
  }
  assert.ok(existsSync(path.join(wt.path, 'from-rest.txt')));
  assert.equal(gitIn(wt.path, 'rev-parse', 'HEAD'), repo.head('main'));
  assert.equal(h.core.sessions.get(id)?.ended_at, null);

  const inspect = await h.api(
    'GET',
    `/worktrees/inspect?path=${encodeURIComponent(path.join(repo.dir, 'src'))}`,
  );
  assert.deepEqual(
    { is_repo: inspect.body.is_repo, repo: inspect.body.repo, current: inspect.body.current_branch },
    { is_repo: true, repo: repo.dir, current: 'main' },
  );
  assert.ok(inspect.body.branches.includes('autodev/rest-agent'));
  const notRepo = await h.api('GET', `/worktrees/inspect?path=${encodeURIComponent(os.tmpdir())}`);
  assert.equal(notRepo.body.is_repo, false);

  // Control: commit, then removal refused (unmerged), then merged and removed.
  const commit = await h.api('POST', `/cli/sessions/${id}/changes/commit`, {
    body: { message: 'from rest' },
  });
  assert.equal(commit.status, 200);
  assert.equal(commit.body.files, 1);
  const emptyMessage = await h.api('POST', `/cli/sessions/${id}/changes/commit`, { body: { message: '  ' } });
  assert.equal(emptyMessage.status, 400);
  const refused = await h.api('DELETE', `/cli/sessions/${id}?remove_worktree=true`);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error_code, 'CONFLICT');
  assert.match(refused.body.error, /1 commit not merged into main/);
  assert.equal(h.core.sessions.get(id)?.ended_at, null, 'refused before the session was ended');
  const merged = await h.api('POST', `/cli/sessions/${id}/changes/merge`, { body: { strategy: 'rebase' } });
  assert.equal(merged.status, 200);
  assert.equal(merged.body.base_commit, repo.head('main'));
  const removed = await h.api('DELETE', `/cli/sessions/${id}?remove_worktree=true`);
  assert.equal(removed.status, 200);
  assert.equal(removed.body.session.state, 'terminated');
  assert.equal(removed.body.worktree_removed.branch, 'autodev/rest-agent');
  assert.equal(existsSync(wt.path), false);
  // The stored session keeps saying where it ran.
  const stored = await h.api('GET', `/cli/sessions/${id}`, { token: read });
  assert.equal(stored.body.worktree.path, wt.path);
  const gone = await h.api('GET', `/cli/sessions/${id}/changes`, { token: read });
  assert.equal(gone.status, 404);
  assert.match(gone.body.error, /was removed/);
});

test('REST: conflict and dirty-base refusals answer 409 with the files', async (t) => {
  const h = await startWorktreeServer(t);
  const repo = makeRepo(t);
  const created = await h.api('POST', '/cli/sessions', {
    body: { cli_tool: 'editagent', working_directory: repo.dir, worktree: {} },
  });
  const id: string = created.body.session_id;
  const wt: string = created.body.session.worktree.path;
  writeFileSync(path.join(wt, 'README.md'), '# agent\n');
  await h.api('POST', `/cli/sessions/${id}/changes/commit`, { body: { message: 'agent readme' } });
  repo.write('README.md', '# human\n');
  const dirty = await h.api('POST', `/cli/sessions/${id}/changes/merge`, { body: { strategy: 'merge' } });
  assert.equal(dirty.status, 409);
  assert.deepEqual(dirty.body.files, ['README.md']);
  assert.match(dirty.body.error, /uncommitted changes/);
  repo.commit('human readme');
  const conflict = await h.api('POST', `/cli/sessions/${id}/changes/merge`, { body: { strategy: 'squash' } });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error_code, 'CONFLICT');
  assert.deepEqual(conflict.body.files, ['README.md']);
  assert.equal(repo.git('status', '--porcelain'), '');
  const badStrategy = await h.api('POST', `/cli/sessions/${id}/changes/merge`, {
    body: { strategy: 'octopus' },
  });
  assert.equal(badStrategy.status, 400);
  const noWorktree = await h.api('POST', '/cli/sessions', {
    body: { cli_tool: 'editagent', working_directory: repo.dir },
  });
  const plain = await h.api('GET', `/cli/sessions/${noWorktree.body.session_id}/changes`);
  assert.equal(plain.status, 404);
  assert.match(plain.body.error, /does not run in a worktree/);
  assert.equal(noWorktree.body.session.worktree, null);
});
