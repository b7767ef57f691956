import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createGit, type Git } from '../../src-main/core/worktrees/index.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import { agentEnv, gitIn, makeRepo, startWorktreeCore, until } from './helpers.ts';

type Changes = Extract<LiveEvent, { kind: 'worktree_changes' }>;

test('two sessions on one repository at once: their own branches and folders, their own changes', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  // Same name, created concurrently: the branch names must still differ.
  const [a, b] = await Promise.all([
    h.agent(repo, { name: 'Same task' }),
    h.agent(repo, { name: 'Same task' }),
  ]);
  const branches = [a.worktree!.branch, b.worktree!.branch].sort();
  assert.deepEqual(branches, ['autodev/same-task', 'autodev/same-task-2']);
  assert.notEqual(a.worktree!.path, b.worktree!.path);
  assert.deepEqual(
    gitIn(repo.dir, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((l) => l.startsWith('branch '))
      .sort(),
    [
      'branch refs/heads/autodev/same-task',
      'branch refs/heads/autodev/same-task-2',
      'branch refs/heads/main',
    ],
  );
  await Promise.all([h.tell(a.session_id, 'write only-a.txt a'), h.tell(b.session_id, 'write only-b.txt b')]);
  const [ca, cb] = await Promise.all([
    h.core.worktrees.changes(a.session_id),
    h.core.worktrees.changes(b.session_id),
  ]);
  assert.deepEqual(
    ca.files.map((f) => f.path),
    ['only-a.txt'],
  );
  assert.deepEqual(
    cb.files.map((f) => f.path),
    ['only-b.txt'],
  );
  // An explicit branch that exists is refused, not renamed.
  await assert.rejects(
    h.agent(repo, { worktree: { branch: a.worktree!.branch } }),
    new RegExp(`branch "${a.worktree!.branch}" exists already`),
  );
  // A sub-directory start keeps the agent in the same sub-directory of its worktree.
  const sub = await h.core.worktrees.createSession({
    cli_tool: 'editagent',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    metadata: {},
    cols: 80,
    rows: 24,
    env: {},
    working_directory: path.join(repo.dir, 'src'),
    worktree: { base: 'main', branch: 'feature/sub' },
  });
  assert.equal(sub.current_directory, path.join(sub.worktree!.path, 'src'));
  assert.ok(sub.worktree!.path.endsWith(path.join('feature', 'sub')), sub.worktree!.path);
});

test('a failing set-up command: its output is in the session, the session ends in error with the reason, the agent never starts', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  mkdirSync(path.join(repo.dir, '.autodev'));
  writeFileSync(
    path.join(repo.dir, '.autodev', 'setup'),
    '#!/bin/sh\necho "installing in $(pwd)"\necho "SETUP-BROKE: missing tool" >&2\nexit 3\n',
  );
  chmodSync(path.join(repo.dir, '.autodev', 'setup'), 0o755);
  repo.commit('setup script');
  const created = await h.core.worktrees.createSession({
    cli_tool: 'editagent',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    metadata: {},
    cols: 100,
    rows: 30,
    env: {},
    working_directory: repo.dir,
    worktree: {},
  });
  const ended = await until('the session to end', () => {
    const s = h.core.sessions.get(created.session_id);
    return s?.ended_at ? s : null;
  });
  assert.equal(ended.state, 'error');
  assert.equal(ended.state_reason.rule, 'setup-failed');
  assert.match(ended.state_reason.detail, /set-up command \.autodev\/setup failed: exited with code 3/);
  const out = h.output(created.session_id);
  assert.match(out, new RegExp(`installing in ${created.worktree!.path.replace(/[/.]/g, '\\$&')}`));
  assert.match(out, /SETUP-BROKE: missing tool/);
  assert.doesNotMatch(out, /edit-agent ready/, 'the agent never started');
  assert.equal(ended.pid, null);
  // The worktree stays (nothing is deleted behind the user's back) and is listed as ended.
  const listed = (await h.core.worktrees.list()).find((w) => w.session_id === created.session_id);
  assert.equal(listed?.state, 'ended');
});

for (const ptyHost of ['in-process', 'process'] as const)
  test(`set-up succeeds (PTY host: ${ptyHost}): the include list is copied in, set-up output comes first, then the agent runs`, async (t) => {
    const h = await startWorktreeCore(t, { coreOptions: { ptyHost } });
    const repo = makeRepo(t);
    mkdirSync(path.join(repo.dir, '.autodev'));
    // Not executable: run by /bin/sh. It sees the copied .env (ignored by git, so only in the main checkout).
    writeFileSync(
      path.join(repo.dir, '.autodev', 'setup'),
      'echo "setup sees $(cat .env), key ${EDIT_AGENT_KEY:-unset}"; mkdir node_modules\n',
    );
    writeFileSync(
      path.join(repo.dir, '.autodev', 'include'),
      '# local files\n.env\nconfig/local.json\n../escape\n',
    );
    repo.commit('setup + include list');
    repo.write('.env', 'TOKEN_NAME=dev');
    repo.write('config/local.json', '{"local":true}');
    const s = await h.agent(repo, { env: { EDIT_AGENT_KEY: 'agent-only-key-1234' } });
    const wt = s.worktree!.path;
    assert.equal(readFileSync(path.join(wt, '.env'), 'utf8'), 'TOKEN_NAME=dev');
    assert.equal(readFileSync(path.join(wt, 'config', 'local.json'), 'utf8'), '{"local":true}');
    assert.equal(existsSync(path.join(path.dirname(wt), 'escape')), false);
    assert.ok(existsSync(path.join(wt, 'node_modules')), 'set-up ran in the worktree');
    const out = h.output(s.session_id);
    // The set-up never sees the provider's key; the agent does.
    assert.ok(out.indexOf('setup sees TOKEN_NAME=dev, key unset') >= 0, out);
    assert.ok(out.indexOf('setup sees') < out.indexOf('edit-agent ready'), 'set-up output before the agent');
    await h.tell(s.session_id, 'getenv EDIT_AGENT_KEY');
    assert.match(h.output(s.session_id), /EDIT_AGENT_KEY=agent-only-key-1234/);
    assert.notEqual(h.core.sessions.get(s.session_id)?.pid, null);
  });

test('terminating a session during its set-up stops the set-up and the agent never starts', async (t) => {
  const repo = makeRepo(t);
  // The set-up command from the config file (which names the repository by its path).
  repo.write('.env.local', 'LOCAL=1');
  const h2 = await startWorktreeCore(t, {
    worktreesYaml: `  repositories:\n    - { path: ${JSON.stringify(repo.dir)}, setup: [sh, -c, "echo slow-setup; sleep 30"], include: [.env.local] }`,
  });
  const s = await h2.core.worktrees.createSession({
    cli_tool: 'editagent',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    metadata: {},
    cols: 100,
    rows: 30,
    env: {},
    working_directory: repo.dir,
    worktree: {},
  });
  await until('set-up output', () => h2.output(s.session_id).includes('slow-setup'));
  // The config's include list was copied before the set-up ran (a bare `sh` was found on PATH).
  assert.equal(readFileSync(path.join(s.worktree!.path, '.env.local'), 'utf8'), 'LOCAL=1');
  assert.equal(h2.core.sessions.get(s.session_id)?.state_reason.rule, 'setup');
  const started = Date.now();
  await h2.core.sessions.terminate(s.session_id);
  assert.ok(Date.now() - started < 10_000, 'set-up stopped, not waited for');
  const after = h2.core.sessions.get(s.session_id)!;
  assert.equal(after.state, 'terminated');
  await new Promise((r) => setTimeout(r, 300));
  assert.doesNotMatch(h2.output(s.session_id), /edit-agent ready/);
});

test('removal is refused while work is unmerged or uncommitted; force keeps it under a ref; merged work removes cleanly', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const s = await h.agent(repo, { name: 'unmerged' });
  await h.tell(s.session_id, 'write work.txt precious');
  await h.tell(s.session_id, 'commit precious work');
  await h.tell(s.session_id, 'write draft.txt not committed');
  const wt = s.worktree!;
  await assert.rejects(
    h.core.worktrees.endSession(s.session_id, { removeWorktree: true }),
    (e: { error_code: string; files: string[]; message: string }) => {
      assert.equal(e.error_code, 'CONFLICT');
      assert.deepEqual(e.files, ['draft.txt']);
      assert.match(e.message, /uncommitted changes \(draft\.txt\) and 1 commit not merged into main/);
      return true;
    },
  );
  // Refused before anything happened: the session still runs, the folder and branch are there.
  assert.equal(h.core.sessions.get(s.session_id)?.ended_at, null);
  assert.ok(existsSync(path.join(wt.path, 'draft.txt')));
  assert.equal(gitIn(repo.dir, 'branch', '--list', '--format=%(refname:short)', wt.branch), wt.branch);

  const forced = await h.core.worktrees.endSession(s.session_id, { removeWorktree: true, force: true });
  assert.equal(forced.session.state, 'terminated');
  assert.equal(existsSync(wt.path), false);
  assert.equal(gitIn(repo.dir, 'branch', '--list', wt.branch), '');
  const saved = forced.worktree_removed!.saved_ref!;
  assert.match(saved, /^refs\/autodev\/removed\/autodev\/unmerged\//);
  assert.equal(gitIn(repo.dir, 'show', `${saved}:work.txt`), 'precious');
  assert.equal(gitIn(repo.dir, 'show', `${saved}:draft.txt`), 'not committed');
  assert.equal(
    (await h.core.worktrees.list()).some((w) => w.path === wt.path),
    false,
  );

  const m = await h.agent(repo, { name: 'merged' });
  await h.tell(m.session_id, 'write done.txt done');
  await h.tell(m.session_id, 'commit done');
  await h.core.worktrees.merge(m.session_id, { strategy: 'merge' });
  const clean = await h.core.worktrees.endSession(m.session_id, { removeWorktree: true });
  assert.equal(clean.worktree_removed!.saved_ref, null);
  assert.equal(existsSync(m.worktree!.path), false);
  assert.equal(repo.read('done.txt'), 'done\n');
});

test('file changes are announced on the events channel, debounced, and nothing runs while nothing changes', async (t) => {
  const real = createGit(agentEnv('/tmp'));
  let gitRuns = 0;
  const counting: Git = (args, options) => {
    gitRuns++;
    return real(args, options);
  };
  const h = await startWorktreeCore(t, {
    coreOptions: { worktrees: { git: counting, watch: { debounceMs: 150, maxWaitMs: 800 } } },
  });
  const repo = makeRepo(t);
  const s = await h.agent(repo);
  const wt = s.worktree!.path;
  const mine = () =>
    h.events.filter((e): e is Changes => e.kind === 'worktree_changes' && e.session_id === s.session_id);
  // Settle (the baseline summary and the agent's start), then an idle stretch: no git, no events.
  await new Promise((r) => setTimeout(r, 1500));
  const runsBefore = gitRuns;
  const eventsBefore = mine().length;
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(gitRuns, runsBefore, 'no git process while the worktree is idle (no polling)');
  assert.equal(mine().length, eventsBefore);

  writeFileSync(path.join(wt, 'hello.txt'), 'hi\n');
  const first = await until('an event for hello.txt', () => mine().find((e) => e.summary.files === 1));
  assert.equal(first.summary.uncommitted_files, 1);
  assert.equal(first.summary.additions, 1);

  // A burst of 300 writes in a new folder over ~1 s: a handful of recomputes, not hundreds.
  const burstStart = mine().length;
  const runsAtBurst = gitRuns;
  mkdirSync(path.join(wt, 'gen'));
  for (let i = 0; i < 300; i++) {
    writeFileSync(path.join(wt, 'gen', `f${i}.txt`), `${i}\n`);
    if (i % 30 === 0) await new Promise((r) => setTimeout(r, 100));
  }
  const last = await until('the burst counted', () => mine().find((e) => e.summary.files === 301));
  assert.equal(last.summary.additions, 301);
  const burstEvents = mine().length - burstStart;
  assert.ok(burstEvents >= 1 && burstEvents <= 6, `${burstEvents} events for 300 writes`);
  assert.ok(gitRuns - runsAtBurst <= 12 * 8, `${gitRuns - runsAtBurst} git runs for 300 writes`);

  // A commit by the agent (index and HEAD in the worktree's git dir) is seen too.
  await h.tell(s.session_id, 'commit generated');
  await until('the commit announced', () =>
    mine().some((e) => e.summary.ahead === 1 && e.summary.uncommitted_files === 0),
  );
  // Ignored folders are not watched: a change there announces nothing.
  const beforeIgnored = mine().length;
  mkdirSync(path.join(wt, 'node_modules', 'pkg'), { recursive: true });
  await new Promise((r) => setTimeout(r, 1500));
  const runsIgnored = gitRuns;
  writeFileSync(path.join(wt, 'node_modules', 'pkg', 'index.js'), 'x\n');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(gitRuns, runsIgnored, 'a write inside an ignored folder wakes nothing');
  assert.ok(mine().length - beforeIgnored <= 1);
});

test('GET /worktrees data: state, disk usage and unsaved work of each managed worktree', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const live = await h.agent(repo, { name: 'live one' });
  await h.tell(live.session_id, 'write wip.txt wip');
  const ended = await h.agent(repo, { name: 'ended one' });
  await h.tell(ended.session_id, 'write kept.txt kept');
  await h.tell(ended.session_id, 'commit kept');
  await h.core.sessions.terminate(ended.session_id);
  const list = await h.core.worktrees.list();
  const a = list.find((w) => w.session_id === live.session_id)!;
  const b = list.find((w) => w.session_id === ended.session_id)!;
  assert.equal(a.state, 'active');
  assert.equal(a.uncommitted, true);
  assert.deepEqual(a.uncommitted_files, ['wip.txt']);
  assert.equal(a.merged, false);
  assert.equal(b.state, 'ended');
  assert.equal(b.uncommitted, false);
  assert.equal(b.unmerged_commits, 1);
  assert.equal(b.merged, false);
  assert.ok(b.ended_at);
  for (const w of [a, b]) {
    assert.ok((w.disk_usage_bytes ?? 0) > 0, `${w.path} has a size`);
    assert.equal(w.repo, repo.dir);
    assert.equal(w.base, 'main');
  }
});

test('retention removes merged, clean worktrees of sessions ended N days ago — and nothing else', async (t) => {
  let clock = Date.now();
  const h = await startWorktreeCore(t, {
    worktreesYaml: '  retention_days: 2',
    coreOptions: { worktrees: { now: () => new Date(clock) } },
  });
  const repo = makeRepo(t);
  const merged = await h.agent(repo, { name: 'merged' });
  await h.tell(merged.session_id, 'write m.txt m');
  await h.tell(merged.session_id, 'commit m');
  await h.core.worktrees.merge(merged.session_id, { strategy: 'squash' });
  const unmerged = await h.agent(repo, { name: 'unmerged' });
  await h.tell(unmerged.session_id, 'write u.txt u');
  await h.tell(unmerged.session_id, 'commit u');
  const dirty = await h.agent(repo, { name: 'dirty' });
  await h.tell(dirty.session_id, 'write d.txt d');
  const running = await h.agent(repo, { name: 'running' });
  for (const s of [merged, unmerged, dirty]) await h.core.sessions.terminate(s.session_id);

  assert.deepEqual(await h.core.worktrees.runRetention(), [], 'nothing is old enough yet');
  clock += 3 * 86_400_000;
  const removed = await h.core.worktrees.runRetention();
  assert.deepEqual(removed, [merged.worktree!.path]);
  assert.equal(existsSync(merged.worktree!.path), false);
  for (const s of [unmerged, dirty, running]) assert.ok(existsSync(s.worktree!.path), `${s.name} kept`);
});

test('GET /worktrees data also lists a registered worktree whose folder is gone, and stray folders under the root', async (t) => {
  const h = await startWorktreeCore(t);
  const repo = makeRepo(t);
  const gone = await h.agent(repo, { name: 'gone' });
  await h.core.sessions.terminate(gone.session_id);
  rmSync(gone.worktree!.path, { recursive: true, force: true });
  // A worktree under the managed root that the registry does not know (a reset database, say).
  const stray = path.join(path.dirname(gone.worktree!.path), 'stray');
  gitIn(repo.dir, 'worktree', 'add', '-q', '-b', 'stray', stray);
  writeFileSync(path.join(stray, 'wip.txt'), 'wip\n');
  const list = await h.core.worktrees.list();
  const missing = list.find((w) => w.path === gone.worktree!.path)!;
  assert.equal(missing.state, 'missing');
  assert.equal(missing.disk_usage_bytes, null);
  const found = list.find((w) => w.path === stray)!;
  assert.equal(found.state, 'unregistered');
  assert.equal(found.branch, 'stray');
  assert.deepEqual(found.uncommitted_files, ['wip.txt']);
  assert.ok(existsSync(path.join(stray, 'wip.txt')), 'listed, never touched');
  // Removing the missing one drops git's record and its branch (no commits of its own).
  const removed = await h.core.worktrees.endSession(gone.session_id, { removeWorktree: true });
  assert.equal(removed.worktree_removed?.path, gone.worktree!.path);
  assert.equal(gitIn(repo.dir, 'branch', '--list', '--format=%(refname:short)', gone.worktree!.branch), '');
  assert.equal(
    (await h.core.worktrees.list()).some((w) => w.path === gone.worktree!.path),
    false,
  );
});
