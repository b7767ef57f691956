import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildArgv,
  buildOneShotArgv,
  OneShotUnsupportedError,
  oneShotStdin,
} from '../../../src-main/core/providers/argv.ts';
import { defaultProviders } from '../../../src-main/core/providers/defaults.ts';
import type { ProviderDefinition } from '../../../src-main/core/providers/types.ts';

const defs = new Map(defaultProviders({ SHELL: '/bin/zsh' }).map((d) => [d.id, d]));
const get = (id: string) => defs.get(id)!;

test('interactive argv per provider, with and without full access', () => {
  assert.deepEqual(buildArgv(get('claude'), { fullAccess: false }), ['claude']);
  assert.deepEqual(buildArgv(get('claude'), { fullAccess: true }), [
    'claude',
    '--dangerously-skip-permissions',
  ]);
  assert.deepEqual(buildArgv(get('codex'), { fullAccess: true }), [
    'codex',
    '--dangerously-bypass-approvals-and-sandbox',
  ]);
  assert.deepEqual(buildArgv(get('gemini'), { fullAccess: true }), ['gemini', '--yolo']);
  assert.deepEqual(buildArgv(get('cursor'), { fullAccess: true }), ['cursor-agent', '--force']);
  assert.deepEqual(buildArgv(get('cursor'), { fullAccess: false, binaryPath: '/opt/bin/cursor-agent' }), [
    '/opt/bin/cursor-agent',
  ]);
  assert.deepEqual(buildArgv(get('shell'), { fullAccess: true }), ['/bin/zsh']);
});

test('one-shot argv per provider: prompt as argument or after its flag, never through a shell', () => {
  const prompt = 'fix the "bug"; rm -rf / $(id) `x`';
  assert.deepEqual(buildOneShotArgv(get('claude'), prompt, { fullAccess: true }), [
    'claude',
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    '--dangerously-skip-permissions',
    prompt,
  ]);
  assert.deepEqual(buildOneShotArgv(get('codex'), prompt, { fullAccess: false }), [
    'codex',
    'exec',
    '--json',
    prompt,
  ]);
  assert.deepEqual(
    buildOneShotArgv(get('codex'), prompt, { fullAccess: true, binaryPath: '/usr/local/bin/codex' }),
    ['/usr/local/bin/codex', 'exec', '--json', '--dangerously-bypass-approvals-and-sandbox', prompt],
  );
  assert.deepEqual(buildOneShotArgv(get('gemini'), prompt, { fullAccess: true }), [
    'gemini',
    '-p',
    prompt,
    '-o',
    'stream-json',
    '--yolo',
  ]);
  assert.deepEqual(buildOneShotArgv(get('cursor'), prompt, { fullAccess: true }), [
    'cursor-agent',
    '-p',
    '--output-format',
    'stream-json',
    '--force',
    prompt,
  ]);
  for (const id of ['claude', 'codex', 'gemini', 'cursor']) assert.equal(oneShotStdin(get(id), prompt), null);
});

test('a prompt that looks like a flag cannot become one', () => {
  const sneaky = '--dangerously-skip-permissions';
  const claude = buildOneShotArgv(get('claude'), sneaky, { fullAccess: false });
  assert.deepEqual(claude.slice(-2), ['--', sneaky]);
  assert.ok(!claude.slice(0, -2).includes(sneaky));
  const gemini = buildOneShotArgv(get('gemini'), '--yolo', { fullAccess: false });
  assert.deepEqual(gemini, ['gemini', '-p', ' --yolo', '-o', 'stream-json']);
});

test('stdin prompts and providers without a one-shot mode', () => {
  const viaStdin: ProviderDefinition = {
    ...get('claude'),
    id: 'piped',
    binary: 'piped',
    one_shot: { args: ['--print'], prompt: { via: 'stdin' }, output: 'text', full_access_args: ['--all'] },
  };
  assert.deepEqual(buildOneShotArgv(viaStdin, 'hello', { fullAccess: true }), ['piped', '--print', '--all']);
  assert.equal(oneShotStdin(viaStdin, 'hello'), 'hello');
  assert.throws(() => buildOneShotArgv(get('shell'), 'ls', { fullAccess: false }), OneShotUnsupportedError);
});
