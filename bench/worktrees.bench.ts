// Worktree change detection: what one summary costs (private-index snapshot + diff against the merge
// base) next to the cheapest "what changed" a polling tool runs (`git status --porcelain`) in the same
// run; how many directories the watcher holds (ignored folders excluded); how many debounced batches a
// burst of writes costs; and that an idle worktree costs nothing (no batches, no git).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { changesSummary, changesWithDiff, type WorktreeRef } from '../src-main/core/worktrees/changes.ts';
import { createGit } from '../src-main/core/worktrees/git.ts';
import { gitDirOf } from '../src-main/core/worktrees/repository.ts';
import { DirectoryWatcher } from '../src-main/core/worktrees/watcher.ts';

const TRACKED_DIRS = 60;
const FILES_PER_DIR = 50;
const IGNORED_FILES = 3000;
const BURST = 1000;

const root = mkdtempSync(path.join(os.tmpdir(), 'autodev-bench-wt-'));
const env = { PATH: process.env['PATH'], HOME: root, GIT_CONFIG_NOSYSTEM: '1' };
const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env, stdio: 'pipe' }).toString();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const repo = path.join(root, 'repo');
  mkdirSync(repo);
  sh(repo, 'init', '-q', '-b', 'main');
  sh(repo, 'config', 'user.name', 'Bench');
  sh(repo, 'config', 'user.email', 'bench@example.com');
  writeFileSync(path.join(repo, '.gitignore'), 'node_modules/\n');
  for (let d = 0; d < TRACKED_DIRS; d++) {
    mkdirSync(path.join(repo, 'src', `m${d}`), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++)
      writeFileSync(path.join(repo, 'src', `m${d}`, `f${f}.ts`), `export const v${f} = ${f};\n`.repeat(20));
  }
  sh(repo, 'add', '-A');
  sh(repo, 'commit', '-q', '-m', 'base');
  const wt = path.join(root, 'wt');
  sh(repo, 'worktree', 'add', '-q', '-b', 'agent', wt);
  mkdirSync(path.join(wt, 'node_modules', 'pkg'), { recursive: true });
  for (let i = 0; i < IGNORED_FILES; i++)
    writeFileSync(path.join(wt, 'node_modules', 'pkg', `x${i}.js`), 'x\n');
  // The agent's work: 50 modified files, 20 new ones.
  for (let i = 0; i < 50; i++)
    writeFileSync(path.join(wt, 'src', `m${i}`, 'f0.ts'), 'export const changed = true;\n');
  mkdirSync(path.join(wt, 'src', 'new'));
  for (let i = 0; i < 20; i++)
    writeFileSync(path.join(wt, 'src', 'new', `n${i}.ts`), `export const n = ${i};\n`);

  const git = createGit(env);
  const ref: WorktreeRef = {
    path: wt,
    gitDir: await gitDirOf(git, wt),
    branch: 'agent',
    base: 'main',
    base_commit: sh(repo, 'rev-parse', 'main').trim(),
  };
  const t0 = performance.now();
  const first = await changesSummary(git, ref);
  const coldMs = performance.now() - t0;
  if (first.files !== 70) throw new Error(`expected 70 changed files, got ${first.files}`);
  const warm: number[] = [];
  const status: number[] = [];
  for (let i = 0; i < 9; i++) {
    let t = performance.now();
    await changesSummary(git, ref);
    warm.push(performance.now() - t);
    t = performance.now();
    sh(wt, 'status', '--porcelain');
    status.push(performance.now() - t);
  }
  let t = performance.now();
  const full = await changesWithDiff(git, env, 'bench', ref);
  const diffMs = performance.now() - t;

  let batches = 0;
  const watcher = new DirectoryWatcher({
    root: wt,
    gitDir: ref.gitDir,
    ignored: new Set(['node_modules']),
    checkIgnored: async () => new Set(),
    onChange: () => {
      batches++;
    },
    debounceMs: 300,
    maxWaitMs: 2000,
  });
  await watcher.start();
  await new Promise((r) => setTimeout(r, 3000));
  const idleBatches = batches;
  batches = 0;
  t = performance.now();
  for (let i = 0; i < BURST; i++) {
    writeFileSync(path.join(wt, 'src', `m${i % TRACKED_DIRS}`, `f${i % FILES_PER_DIR}.ts`), `burst ${i}\n`);
    if (i % 100 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  const burstMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 1500));
  const burstBatches = batches;
  const dirs = watcher.watchedDirectories;
  watcher.dispose();

  console.log(
    `repo: ${TRACKED_DIRS * FILES_PER_DIR} tracked files, ${IGNORED_FILES} ignored; 70 changed (50 modified, 20 new)`,
  );
  console.log(
    `summary: cold ${coldMs.toFixed(0)} ms, warm median ${median(warm).toFixed(0)} ms; git status --porcelain median ${median(status).toFixed(0)} ms (ratio ${(median(warm) / median(status)).toFixed(1)}x)`,
  );
  console.log(
    `full changes with diff: ${diffMs.toFixed(0)} ms, ${(full.diff.length / 1024).toFixed(0)} KiB of diff`,
  );
  console.log(
    `watcher: ${dirs} directories watched (node_modules not); idle 3 s: ${idleBatches} batches; burst of ${BURST} writes over ${burstMs.toFixed(0)} ms: ${burstBatches} batches`,
  );
  console.log(
    `worktree_summary_ms=${median(warm).toFixed(0)} worktree_summary_vs_status=${(median(warm) / median(status)).toFixed(1)} worktree_diff_ms=${diffMs.toFixed(0)} worktree_watch_dirs=${dirs} worktree_idle_batches=${idleBatches} worktree_burst_batches=${burstBatches}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
