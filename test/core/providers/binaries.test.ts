import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { clearLoginPathCache, loginShellPath } from '../../../src-main/core/providers/login-path.ts';
import { loadProviderRegistry } from '../../../src-main/core/providers/registry.ts';
import { findExecutable, notInstalledMessage } from '../../../src-main/core/providers/resolve-binary.ts';
import { providerVersion } from '../../../src-main/core/providers/version.ts';

function tempHome(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-home-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function script(file: string, body: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** PIDs of live processes whose command line mentions `needle` (to prove nothing was left behind). */
function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test("login-shell PATH: a binary only the user's .bashrc puts on PATH resolves, despite rc-file noise", async (t) => {
  clearLoginPathCache();
  const home = tempHome(t);
  // Debian-style: .profile (read by the login shell) sources .bashrc; both print noise to stdout.
  writeFileSync(
    path.join(home, '.profile'),
    'echo "Welcome to the profile banner"\nexport PATH="$HOME/tools-a:$PATH"\n. "$HOME/.bashrc"\n',
  );
  writeFileSync(
    path.join(home, '.bashrc'),
    'echo "rc noise: PATH is $PATH"\nexport PATH="$HOME/.nvm/bin:$PATH"\nprintf "no newline"\n',
  );
  const cli = script(path.join(home, '.nvm', 'bin', 'autodev-fake-cli'), 'echo "4.5.6 (Fake CLI)"');
  const config = path.join(home, 'providers.yaml');
  writeFileSync(config, 'providers:\n  fakecli:\n    binary: autodev-fake-cli\n');
  const env = { HOME: home, SHELL: '/bin/bash', PATH: '/usr/bin:/bin' };

  assert.equal(findExecutable('autodev-fake-cli', env.PATH), null, 'not on the process PATH');
  const reg = loadProviderRegistry({ configFile: config, env });
  assert.deepEqual(reg.errors, []);
  const resolved = await reg.resolveBinary('fakecli');
  assert.deepEqual(resolved, { provider_id: 'fakecli', binary: 'autodev-fake-cli', path: cli, error: null });

  const searchPath = await reg.searchPath();
  const entries = searchPath.split(':');
  assert.equal(entries[0], path.join(home, '.nvm', 'bin'));
  assert.ok(entries.includes(path.join(home, 'tools-a')));
  assert.ok(entries.includes('/usr/bin'), 'process PATH entries are kept');
  assert.ok(!searchPath.includes('noise') && !searchPath.includes('banner'), searchPath);
  assert.equal(new Set(entries).size, entries.length, 'no duplicates');

  const version = await providerVersion(reg.get('fakecli')!, resolved.path!);
  assert.deepEqual(version, { provider_id: 'fakecli', version: '4.5.6 (Fake CLI)', error: null });
});

test('missing binary: the clear error text, never a throw; unknown provider too', async (t) => {
  clearLoginPathCache();
  const home = tempHome(t);
  // A "shell" that reports a PATH with nothing on it, so the result does not depend on this machine.
  const shell = script(
    path.join(home, 'fake-shell'),
    `printf '%s' "__AUTODEV_PATH_START__$HOME/empty__AUTODEV_PATH_END__"`,
  );
  const reg = loadProviderRegistry({ env: { HOME: home, SHELL: shell, PATH: path.join(home, 'nothing') } });
  const codex = await reg.resolveBinary('codex');
  assert.deepEqual(codex, {
    provider_id: 'codex',
    binary: 'codex',
    path: null,
    error: 'codex is not installed or not on PATH',
  });
  const cursor = await reg.resolveBinary('cursor');
  assert.equal(cursor.error, 'cursor-agent is not installed or not on PATH');
  assert.equal(notInstalledMessage('gemini'), 'gemini is not installed or not on PATH');
  const unknown = await reg.resolveBinary('nosuch');
  assert.equal(unknown.path, null);
  assert.match(unknown.error ?? '', /unknown provider/);

  // A miss is not cached: installing the CLI later is noticed.
  const installed = script(path.join(home, 'empty', 'codex'), 'echo codex-cli 0.46.0');
  assert.equal((await reg.resolveBinary('codex')).path, installed);
});

test('absolute and ~/ binaries are checked as paths; non-executable files do not count', (t) => {
  const home = tempHome(t);
  const exe = script(path.join(home, 'bin', 'tool'), 'true');
  writeFileSync(path.join(home, 'bin', 'plain'), 'not executable');
  assert.equal(findExecutable(exe, ''), exe);
  assert.equal(findExecutable('~/bin/tool', '', home), exe);
  assert.equal(findExecutable('plain', path.join(home, 'bin')), null);
  assert.equal(findExecutable('bin', home), null, 'directories are not executables');
  assert.equal(findExecutable('tool', `relative/dir:${path.join(home, 'bin')}`), exe);
});

test('a login shell that hangs is killed at the timeout and the process PATH is used', async (t) => {
  clearLoginPathCache();
  const home = tempHome(t);
  const marker = `autodev-hang-${process.pid}-${Date.now()}`;
  // The marker is in both command lines: the "shell" and the child it starts.
  const shell = script(path.join(home, `${marker}-shell`), `/bin/sh -c 'sleep 30; echo ${marker}'`);
  const pending = loginShellPath({
    env: { HOME: home, SHELL: shell, PATH: '/usr/bin:/bin' },
    timeoutMs: 1500,
  });
  const seenBy = Date.now() + 5000;
  while (processesMentioning(marker).length === 0 && Date.now() < seenBy)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(processesMentioning(marker).length > 0, 'the hanging shell was running');
  const result = await pending;
  assert.equal(result.source, 'process');
  assert.equal(result.path, '/usr/bin:/bin');
  assert.match(result.error ?? '', /did not answer within 1500 ms/);
  // The shell and its child were killed as a group.
  const deadline = Date.now() + 5000;
  while (processesMentioning(marker).length > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(processesMentioning(marker), []);
});

test('a shell that cannot start or prints no sentinel falls back to the process PATH', async (t) => {
  clearLoginPathCache();
  const home = tempHome(t);
  const missing = await loginShellPath({
    env: { HOME: home, SHELL: path.join(home, 'no-such-shell'), PATH: '/bin' },
  });
  assert.equal(missing.source, 'process');
  assert.equal(missing.path, '/bin');
  assert.ok(missing.error);
  const silent = script(path.join(home, 'silent-shell'), 'echo just noise; exit 3');
  const quiet = await loginShellPath({ env: { HOME: home, SHELL: silent, PATH: '/bin' } });
  assert.equal(quiet.source, 'process');
  assert.match(quiet.error ?? '', /without printing PATH/);
  assert.ok(existsSync(silent));
});

test('providerVersion: timeout and failure are reported, not thrown', async (t) => {
  const home = tempHome(t);
  const reg = loadProviderRegistry({ env: { HOME: home, PATH: '/usr/bin:/bin' } });
  const def = reg.get('claude')!;
  const hang = script(path.join(home, 'hang'), 'sleep 30');
  const v1 = await providerVersion(def, hang, { timeoutMs: 300 });
  assert.equal(v1.version, null);
  assert.match(v1.error ?? '', /did not finish within 300 ms/);
  const fail = script(path.join(home, 'fail'), 'echo "bad flag" >&2; exit 2');
  const v2 = await providerVersion(def, fail);
  assert.equal(v2.version, null);
  assert.match(v2.error ?? '', /failed: bad flag/);
});

test("providerVersion runs without the app's secrets in its environment", async (t) => {
  const home = tempHome(t);
  const reg = loadProviderRegistry({ env: { HOME: home, PATH: '/usr/bin:/bin' } });
  const cli = script(
    path.join(home, 'envcheck'),
    // Shell parameter expansion, not a JS template.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax
    'echo "key=${ANTHROPIC_API_KEY:-unset} openai=${OPENAI_API_KEY:-unset}"',
  );
  const saved = { a: process.env.ANTHROPIC_API_KEY, o: process.env.OPENAI_API_KEY };
  process.env.ANTHROPIC_API_KEY = 'sk-ant-canary-0000';
  process.env.OPENAI_API_KEY = 'sk-canary-0000';
  t.after(() => {
    for (const [k, v] of [
      ['ANTHROPIC_API_KEY', saved.a],
      ['OPENAI_API_KEY', saved.o],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const v = await providerVersion(reg.get('claude')!, cli);
  assert.equal(v.version, 'key=unset openai=unset');
});
