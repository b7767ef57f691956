import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { describeExit, lastErrorLines } from '../../../src-main/core/state/exit-reason.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { nodeProvider, testManager, waitFor } from '../sessions/helpers.ts';
import { SCREENS_DIR } from './screen-replay.ts';

test('the last error lines: error words in the last lines, top to bottom, hints skipped', () => {
  const claude = [
    'Welcome to Claude Code v2.1.332',
    '',
    'Unable to connect to Anthropic services',
    '',
    'Failed to connect to api.anthropic.com: ENOTFOUND',
    '',
    'Check your internet connection and network settings.',
    'Claude Code might not be available in your country. Check supported countries at',
    'https://anthropic.com/supported-countries',
  ];
  assert.deepEqual(lastErrorLines(claude), [
    'Unable to connect to Anthropic services',
    'Failed to connect to api.anthropic.com: ENOTFOUND',
  ]);
  assert.deepEqual(lastErrorLines(['Enter a command', 'Everything is fine']), [], 'no error words, no errno');
  assert.deepEqual(lastErrorLines(['open: EACCES: permission denied, open /x']), [
    'open: EACCES: permission denied, open /x',
  ]);
  assert.deepEqual(lastErrorLines(['Error: boom', 'Tip: run with --help for more information']), [
    'Error: boom',
  ]);
  // Only the bottom of the screen counts: an old error far above is not why it exited now.
  assert.deepEqual(lastErrorLines(['fatal: old', ...Array.from({ length: 20 }, (_, i) => `line ${i}`)]), []);
  assert.equal(describeExit(1, null, ['Unable to connect']), 'exited with code 1: Unable to connect');
  assert.equal(describeExit(0, 'SIGKILL', []), 'killed by SIGKILL');
});

async function runToExit(args: string[]): Promise<SessionInfo> {
  const { manager } = testManager([nodeProvider('replayer', 'replay-exit.mjs', args, { stability_ms: 500 })]);
  try {
    const info = await manager.create({ cli_tool: 'replayer', cols: 100, rows: 30 });
    const exited = await waitFor('exit', () => {
      const s = manager.get(info.session_id);
      return s && (s.state === 'error' || s.state === 'completed') ? s : null;
    });
    return exited;
  } finally {
    await manager.shutdown();
  }
}

test('a failed exit carries the agent’s last error line (claude 2.1.332 offline, recorded), not only the code', async () => {
  // The recorded bytes place each word with cursor moves: only the rendered screen reads as words.
  const file = path.join(SCREENS_DIR, 'real', 'claude-offline-exit.ans');
  const s = await runToExit([file, '1']);
  assert.equal(s.state, 'error');
  assert.equal(s.exit_code, 1);
  assert.equal(s.state_reason.source, 'exit');
  assert.equal(
    s.state_reason.detail,
    'exited with code 1: Unable to connect to Anthropic services; Failed to connect to api.anthropic.com: ENOTFOUND',
  );
});

test('an exit without error words gives its last line; exit 0 is completed', async () => {
  const quiet = path.join(SCREENS_DIR, 'shell-prompt.ans');
  const failed = await runToExit([quiet, '3']);
  assert.equal(failed.state, 'error');
  assert.equal(failed.state_reason.detail, 'exited with code 3: dev@box:~/project$');
  const ok = await runToExit([path.join(SCREENS_DIR, 'real', 'claude-offline-exit.ans'), '0']);
  assert.equal(ok.state, 'completed');
  assert.equal(ok.state_reason.detail, 'exited with code 0');
});
