import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadProviderRegistry } from '../../../src-main/core/providers/registry.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-providers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An env whose HOME has no ~/.autodev, so only what a test writes is read. */
function envFor(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: home, PATH: '/usr/bin:/bin', SHELL: '/bin/bash', ...extra };
}

test("bundled defaults: the five providers with the CLIs' real flags and env keys", (t) => {
  const home = tempDir(t);
  const reg = loadProviderRegistry({ env: envFor(home, { SHELL: '/usr/bin/zsh' }) });
  assert.deepEqual(reg.errors, []);
  assert.equal(reg.configFile, null);
  assert.deepEqual(
    reg.list().map((p) => p.id),
    ['claude', 'codex', 'gemini', 'cursor', 'copilot', 'qwen', 'opencode', 'amp', 'aider', 'shell'],
  );
  const claude = reg.get('claude')!;
  assert.deepEqual(claude.full_access_args, ['--dangerously-skip-permissions']);
  assert.deepEqual(claude.one_shot?.args, ['-p', '--output-format', 'stream-json', '--verbose']);
  assert.deepEqual(claude.env_keys, ['ANTHROPIC_API_KEY']);
  const codex = reg.get('codex')!;
  assert.deepEqual(codex.full_access_args, ['--dangerously-bypass-approvals-and-sandbox']);
  assert.deepEqual(codex.one_shot?.args, ['exec', '--json']);
  assert.deepEqual(codex.env_keys, ['OPENAI_API_KEY']);
  const gemini = reg.get('gemini')!;
  assert.deepEqual(gemini.full_access_args, ['--yolo']);
  assert.deepEqual(gemini.one_shot?.prompt, { via: 'flag', flag: '-p' });
  assert.deepEqual(gemini.env_keys, ['GEMINI_API_KEY', 'GOOGLE_API_KEY']);
  const cursor = reg.get('cursor')!;
  assert.equal(cursor.binary, 'cursor-agent');
  assert.deepEqual(cursor.full_access_args, ['--force']);
  assert.deepEqual(cursor.env_keys, ['CURSOR_API_KEY']);
  const shell = reg.get('shell')!;
  assert.equal(shell.binary, '/usr/bin/zsh');
  assert.deepEqual(
    shell.screen_rules.map((r) => r.id),
    ['shell.prompt'],
  );
  assert.ok(shell.stability_ms >= 2000);
  // Every bundled pattern compiles with the flags the detector uses.
  for (const p of reg.list()) {
    for (const r of [...p.screen_rules, ...p.title_rules])
      assert.doesNotThrow(() => new RegExp(r.pattern, 'imu'), r.id);
  }
});

test('shell falls back to bash when $SHELL is unset', (t) => {
  const home = tempDir(t);
  const reg = loadProviderRegistry({ env: { HOME: home, PATH: '/usr/bin:/bin' } });
  assert.equal(reg.get('shell')!.binary, 'bash');
});

test('a YAML config overrides fields of a provider and adds a new one; ~/.autodev/providers.yaml is the default', (t) => {
  const home = tempDir(t);
  const dir = path.join(home, '.autodev');
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'providers.yaml'),
    [
      'providers:',
      '  claude:',
      '    binary: /opt/claude/bin/claude',
      '    stability_ms: 2500',
      '    extra_screen_rules:',
      "      - { id: claude.custom, pattern: 'Custom banner', region: { kind: last-lines, count: 3 }, state: error }",
      '  goose:',
      '    name: Goose',
      '    binary: goose',
      '    full_access_args: [--yes-always]',
      '    env_keys: [OPENAI_API_KEY]',
      '',
    ].join('\n'),
  );
  const reg = loadProviderRegistry({ env: envFor(home) });
  assert.deepEqual(reg.errors, []);
  assert.equal(reg.configFile, path.join(dir, 'providers.yaml'));
  const claude = reg.get('claude')!;
  assert.equal(claude.binary, '/opt/claude/bin/claude');
  assert.equal(claude.stability_ms, 2500);
  assert.deepEqual(
    claude.full_access_args,
    ['--dangerously-skip-permissions'],
    'untouched fields keep defaults',
  );
  assert.ok(claude.screen_rules.some((r) => r.id === 'claude.permission-prompt'));
  assert.ok(claude.screen_rules.some((r) => r.id === 'claude.custom'));
  const goose = reg.get('goose')!;
  assert.equal(goose.name, 'Goose');
  assert.deepEqual(goose.full_access_args, ['--yes-always']);
  assert.equal(goose.one_shot, null);
  assert.ok(
    goose.screen_rules.some((r) => r.id === 'any.oauth-url'),
    'new providers get the common agent rules',
  );
  assert.deepEqual(
    reg.list().map((p) => p.id),
    ['claude', 'codex', 'gemini', 'cursor', 'copilot', 'qwen', 'opencode', 'amp', 'aider', 'shell', 'goose'],
  );
});

test('a JSON config file given by path works the same, and replacing screen_rules replaces them', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'providers.json');
  writeFileSync(
    file,
    JSON.stringify({
      providers: {
        gemini: {
          screen_rules: [
            { id: 'g.only', pattern: 'ready>', region: { kind: 'screen' }, state: 'waiting_input' },
          ],
          one_shot: null,
        },
      },
    }),
  );
  const reg = loadProviderRegistry({ configFile: file, env: envFor(dir) });
  assert.deepEqual(reg.errors, []);
  assert.equal(reg.configFile, file);
  assert.deepEqual(
    reg.get('gemini')!.screen_rules.map((r) => r.id),
    ['g.only'],
  );
  assert.equal(reg.get('gemini')!.one_shot, null);
});

test('a bad config never crashes: errors name the file and field, valid entries still apply, defaults stay', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'providers.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      '  claude:',
      '    stability_ms: fast', // wrong type
      '  codex:',
      '    binry: /x/codex', // typo: unknown key
      '  gemini:',
      '    binary: /opt/gemini',
      '  newtool:',
      '    name: New Tool', // a new provider needs a binary
      '  cursor:',
      "    screen_rules: [{ id: bad, pattern: '([unclosed', region: { kind: screen }, state: waiting_input }]",
      '  "Bad Id":',
      '    binary: x',
      '',
    ].join('\n'),
  );
  const reg = loadProviderRegistry({ configFile: file, env: envFor(dir) });
  const byPath = new Map(reg.errors.map((e) => [e.path, e]));
  for (const e of reg.errors) assert.equal(e.file, file);
  assert.ok(byPath.has('providers.claude.stability_ms'), JSON.stringify(reg.errors));
  assert.ok(
    [...byPath.keys()].some((p) => p.startsWith('providers.codex')),
    JSON.stringify(reg.errors),
  );
  assert.ok(byPath.has('providers.newtool.binary'));
  assert.ok(byPath.has('providers.cursor.screen_rules.0.pattern'), JSON.stringify(reg.errors));
  assert.match(byPath.get('providers.cursor.screen_rules.0.pattern')!.message, /regular expression/);
  assert.ok(byPath.has('providers.Bad Id'));
  // Broken entries fall back to the defaults; the valid one applies.
  assert.equal(reg.get('claude')!.stability_ms, 1500);
  assert.equal(reg.get('codex')!.binary, 'codex');
  assert.ok(reg.get('cursor')!.screen_rules.some((r) => r.id === 'cursor.prompt'));
  assert.equal(reg.get('gemini')!.binary, '/opt/gemini');
  assert.equal(reg.get('newtool'), undefined);
});

test('YAML syntax errors and missing explicit files are reported, not thrown', (t) => {
  const dir = tempDir(t);
  const broken = path.join(dir, 'broken.yaml');
  writeFileSync(broken, 'providers:\n  claude: [unclosed\n');
  const a = loadProviderRegistry({ configFile: broken, env: envFor(dir) });
  assert.equal(a.errors.length, 1);
  assert.equal(a.errors[0]!.file, broken);
  assert.match(a.errors[0]!.message, /cannot read config/);
  assert.equal(a.list().length, 10);

  const missing = path.join(dir, 'nope.yaml');
  const b = loadProviderRegistry({ configFile: missing, env: envFor(dir) });
  assert.deepEqual(
    b.errors.map((e) => [e.file, e.message]),
    [[missing, 'config file not found']],
  );

  const top = path.join(dir, 'top.yaml');
  writeFileSync(top, 'provider:\n  claude: {}\n');
  const c = loadProviderRegistry({ configFile: top, env: envFor(dir) });
  assert.ok(
    c.errors.some((e) => e.message.length > 0 && e.file === top),
    JSON.stringify(c.errors),
  );
});

test('definitions handed out are frozen copies: callers cannot corrupt the registry', (t) => {
  const dir = tempDir(t);
  const reg = loadProviderRegistry({ env: envFor(dir) });
  const claude = reg.get('claude')!;
  assert.throws(() => {
    (claude as { binary: string }).binary = 'evil';
  });
  const again = loadProviderRegistry({ env: envFor(dir) });
  assert.throws(() => again.get('codex')!.full_access_args.push('--oops'));
  assert.throws(() => {
    (again.get('claude')!.screen_rules[0] as { pattern: string }).pattern = 'x';
  });
  assert.deepEqual(loadProviderRegistry({ env: envFor(dir) }).get('codex')!.full_access_args, [
    '--dangerously-bypass-approvals-and-sandbox',
  ]);
});
