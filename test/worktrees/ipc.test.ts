import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import { connectWindow } from '../electron/bridge-harness.ts';
import { buildPreload } from '../electron/helpers.ts';
import { openRealDesktop } from '../electron/real-desktop.ts';
import { agentEnv, gitIn, makeRepo, until, writeProviders } from './helpers.ts';

let bundle: { file: string; dir: string };
before(() => {
  bundle = buildPreload();
});
after(() => rmSync(bundle.dir, { recursive: true, force: true }));

/**
 * The desktop path for worktrees: the bundled preload's methods → the IPC router (payload schemas) →
 * the desktop controller → the real core's worktree service, on a real repository. Electron is absent.
 */
test('desktop IPC: create in a worktree, live changes, refusals with files, commit, merge, end with removal', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-wt-desktop-'));
  writeProviders(dataDir);
  const { harness: h, shutdown } = await openRealDesktop(dataDir, agentEnv(dataDir));
  t.after(async () => {
    await shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const repo = makeRepo(t);
  const { api } = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 1 });
  const events: LiveEvent[] = [];
  api.onEvent((e) => events.push(e));

  const inspected = await api.inspectRepository(repo.dir);
  assert.deepEqual([inspected.is_repo, inspected.current_branch], [true, 'main']);
  const session = await api.createSession({
    cli_tool: 'editagent',
    working_directory: repo.dir,
    worktree: {},
  });
  const wt = session.worktree!;
  assert.equal(wt.base, 'main');
  assert.equal(gitIn(wt.path, 'branch', '--show-current'), wt.branch);

  writeFileSync(path.join(wt.path, 'README.md'), '# from the agent\n');
  await until('a live worktree_changes event over IPC', () =>
    events.find(
      (e) => e.kind === 'worktree_changes' && e.session_id === session.session_id && e.summary.files === 1,
    ),
  );
  const changes = await api.getChanges(session.session_id);
  assert.deepEqual(
    changes.files.map((f) => [f.path, f.status, f.uncommitted]),
    [['README.md', 'modified', true]],
  );
  const one = await api.getChanges(session.session_id, { path: 'README.md' });
  assert.match(one.diff, /^\+# from the agent$/m);

  // Payloads are validated in the main process.
  await assert.rejects(api.commitChanges(session.session_id, ''), /VALIDATION_ERROR/);
  await assert.rejects(
    api.mergeChanges(session.session_id, { strategy: 'octopus' as 'merge' }),
    /VALIDATION_ERROR/,
  );

  await api.commitChanges(session.session_id, 'agent readme');
  repo.write('README.md', '# from the human\n');
  repo.commit('human readme');
  await assert.rejects(
    api.mergeChanges(session.session_id, { strategy: 'squash' }),
    (e: { error_code: string; files: string[] }) => {
      assert.equal(e.error_code, 'CONFLICT');
      assert.deepEqual(e.files, ['README.md']);
      return true;
    },
  );
  assert.equal(repo.git('status', '--porcelain'), '');

  await assert.rejects(
    api.endSession(session.session_id, { removeWorktree: true }),
    (e: { error_code: string; message: string }) => {
      assert.equal(e.error_code, 'CONFLICT');
      assert.match(e.message, /1 commit not merged into main/);
      return true;
    },
  );
  const listed = await api.listWorktrees();
  assert.equal(listed.find((w) => w.session_id === session.session_id)?.unmerged_commits, 1);

  const discarded = await api.discardChanges(session.session_id);
  assert.ok(discarded.saved_ref);
  const ended = await api.endSession(session.session_id, { removeWorktree: true });
  assert.equal(ended.session.state, 'terminated');
  assert.equal(ended.worktree_removed?.path, wt.path);
  assert.equal(existsSync(wt.path), false);
});
