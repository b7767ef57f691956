import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../../src-main/core/log/logger.ts';
import { createRedactor, createStreamRedactor } from '../../../src-main/core/security/redact.ts';

const SAMPLES: [string, string][] = [
  ['anthropic-key', 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'],
  ['openai-key', 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123'],
  ['github-token', 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'],
  ['github-token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz'],
  ['aws-key', 'AKIAIOSFODNN7EXAMPLE'],
  ['google-key', 'AIzaSyA-1234567890abcdefghijklmnopqrstu'],
  ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXZhbHVl'],
];

test('common key shapes are replaced by [REDACTED:kind]', () => {
  const r = createRedactor();
  for (const [kind, secret] of SAMPLES) {
    const out = r.redact(`before ${secret} after`);
    assert.equal(out, `before [REDACTED:${kind}] after`, kind);
  }
  assert.equal(r.redact('Authorization: Bearer abc.def-ghi_jkl'), 'Authorization: Bearer [REDACTED:bearer]');
  assert.equal(
    r.redact('git clone https://alice:hunter2pass@github.com/x/y'),
    'git clone https://[REDACTED:url-credentials]@github.com/x/y',
  );
  assert.equal(r.redact('password=correcthorse'), 'password=[REDACTED:credential]');
  const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----';
  assert.equal(r.redact(`key:\n${pem}\ndone`), 'key:\n[REDACTED:pem]\ndone');
  // Ordinary text is untouched.
  const plain = 'skip the task-list, ask gh about sk- prefixes; AKIA is short';
  assert.equal(r.redact(plain), plain);
});

test('exact known secrets are redacted too, including ones without a known shape', () => {
  const r = createRedactor({ secrets: ['my-own-plain-secret-42'] });
  r.addSecret('x'); // too short to be a key: ignored rather than redacting every "x"
  assert.equal(r.redact('value my-own-plain-secret-42 x'), 'value [REDACTED:secret] x');
});

test('secrets wrapped in or interleaved with ANSI are found; escapes outside them survive', () => {
  const r = createRedactor({ secrets: ['exact-known-value-123'] });
  const key = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz';
  assert.equal(r.redact(`\x1b[31m${key}\x1b[0m`), '\x1b[31m[REDACTED:anthropic-key]\x1b[0m');
  const split = `${key.slice(0, 12)}\x1b[1m${key.slice(12)}\x1b[22m!`;
  assert.equal(r.redact(split), '[REDACTED:anthropic-key]\x1b[22m!');
  assert.equal(
    r.redact('a \x1b]0;title\x07exact-\x1b[4mknown-value-123 b'),
    'a \x1b]0;title\x07[REDACTED:secret] b',
  );
});

test('stream redaction catches a secret split at every possible chunk boundary', () => {
  const r = createRedactor({ secrets: ['known-secret-value-99'] });
  const secrets = [...SAMPLES.map(([, s]) => s), 'known-secret-value-99'];
  for (const secret of secrets) {
    const text = `${'x'.repeat(300)} token ${secret} \x1b[0mtrailing text ${'y'.repeat(50)}`;
    for (let cut = 1; cut < text.length; cut += 7) {
      const s = createStreamRedactor(r);
      const out = s.push(text.slice(0, cut)) + s.push(text.slice(cut)) + s.flush();
      assert.equal(out.includes(secret), false, `${secret} leaked at cut ${cut}`);
      assert.ok(out.includes('[REDACTED:'), `cut ${cut}`);
      assert.ok(out.endsWith(`trailing text ${'y'.repeat(50)}`));
    }
  }
});

test('stream redaction: many tiny chunks, ANSI inside the secret, a PEM block across chunks', () => {
  const r = createRedactor();
  const key = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz';
  const text = `${'a'.repeat(1000)}\x1b[32m${key.slice(0, 9)}\x1b[1m${key.slice(9)}\x1b[0m\r\n-----BEGIN PRIVATE KEY-----\n${'Q'.repeat(2000)}\n-----END PRIVATE KEY-----\nok`;
  const s = createStreamRedactor(r);
  let out = '';
  for (let i = 0; i < text.length; i += 5) out += s.push(text.slice(i, i + 5));
  out += s.flush();
  assert.equal(out.includes(key.slice(9)), false);
  assert.equal(out.includes('QQQQ'), false);
  assert.ok(out.includes('[REDACTED:anthropic-key]'));
  assert.ok(out.includes('[REDACTED:pem]'));
  assert.ok(out.startsWith('a'.repeat(1000)));
  assert.ok(out.endsWith('\nok'));
});

test('the stream holds a bounded tail even for an endless token', () => {
  const s = createStreamRedactor(createRedactor(), { maxHold: 4096 });
  let emitted = 0;
  s.push('sk-ant-');
  for (let i = 0; i < 100; i++) emitted += s.push('A'.repeat(1000)).length;
  assert.ok(emitted > 0, 'emits instead of holding 100 KB');
});

test('the logger redacts every line, sensitive field names and nested errors', () => {
  const lines: string[] = [];
  const redactor = createRedactor({ secrets: ['env-provided-key-0001'] });
  const log = createLogger({ level: 'info', sink: (l) => lines.push(l), redactor }).child({
    component: 'test',
  });
  log.debug('not shown');
  log.info('calling with sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz', {
    token: 'plain-token-value',
    nested: { header: 'Bearer abcdefgh12345', value: 'env-provided-key-0001' },
    error: new Error('failed for https://bob:pw123456@host/x'),
  });
  assert.equal(lines.length, 1);
  const line = lines[0] as string;
  assert.ok(line.endsWith('\n'));
  const parsed = JSON.parse(line);
  assert.equal(parsed.component, 'test');
  assert.equal(parsed.level, 'info');
  assert.equal(parsed.token, '[REDACTED:field]');
  for (const leaked of [
    'AbCdEfGh',
    'plain-token-value',
    'abcdefgh12345',
    'env-provided-key-0001',
    'pw123456',
  ])
    assert.equal(line.includes(leaked), false, leaked);
  assert.match(parsed.error.message, /\[REDACTED:url-credentials\]/);
});
