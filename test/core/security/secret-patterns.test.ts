// Issue 10.9: redaction that catches real secrets and leaves ids alone.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src-main/core/config.ts';
import { createCore } from '../../../src-main/core/core.ts';
import { createLogger } from '../../../src-main/core/log/logger.ts';
import {
  createRedactor,
  createStreamRedactor,
  isSecretEnvName,
  type StreamAmend,
} from '../../../src-main/core/security/redact.ts';

const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AWS_SECRET_2 = 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY';

function assertRedacted(text: string, leaked: string, kind?: string, r = createRedactor()): string {
  const out = r.redact(text);
  assert.equal(out.includes(leaked), false, `leaked ${leaked} in ${JSON.stringify(out)}`);
  assert.match(out, kind ? new RegExp(`\\[REDACTED:${kind}\\]`) : /\[REDACTED:/);
  return out;
}

test('AWS secret access keys: ini, export, JSON, the configure prompt, a table, and the value alone afterwards', () => {
  assertRedacted(
    `[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = ${AWS_SECRET}\n`,
    AWS_SECRET,
  );
  assertRedacted(`export AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, AWS_SECRET);
  assertRedacted(
    `{\n  "AccessKey": {\n    "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",\n    "SecretAccessKey": "${AWS_SECRET}"\n  }\n}`,
    AWS_SECRET,
    'aws-secret-key',
  );
  assertRedacted(`AWS Secret Access Key [None]: ${AWS_SECRET}\r\n`, AWS_SECRET, 'aws-secret-key');
  assertRedacted(
    `Access key ID          Secret access key\nAKIAIOSFODNN7EXAMPLE   ${AWS_SECRET}\n`,
    AWS_SECRET,
    'aws-secret-key',
  );
  // The value printed alone, after it was seen next to its name (aws configure get …, echo $VAR).
  const r = createRedactor();
  r.redact(`aws_secret_access_key=${AWS_SECRET_2}`);
  assert.equal(
    r.redact(`$ aws configure get aws_secret_access_key\n${AWS_SECRET_2}\n`).includes(AWS_SECRET_2),
    false,
  );
  assert.equal(r.redact(`${AWS_SECRET_2}\n`), '[REDACTED:secret]\n');
  // The access key id is redacted too; a 40-character git SHA next to nothing AWS-like is not.
  assert.equal(createRedactor().redact('AKIAIOSFODNN7EXAMPLE'), '[REDACTED:aws-key]');
});

test('values of secret-looking variables of the environment are redacted exactly; paths and plain settings are not', () => {
  const env = {
    MY_SERVICE_TOKEN: 'plain-value-without-a-known-shape',
    DB_PASSWORD: 'correct horse battery',
    STRIPE_WEBHOOK_SECRET_VALUE: 'abcdefgh12345678',
    DEPLOY_CREDENTIALS: 'user:pa55word-xyz',
    SSH_AUTH_SOCK: '/tmp/ssh-XXXX/agent.123',
    GOOGLE_APPLICATION_CREDENTIALS: '/home/me/key.json',
    HOME: '/root',
    EDITOR: 'vim-but-long-enough',
    SHORT_KEY: 'abc',
    FEATURE_TOKEN_ENABLED: 'true',
  };
  const r = createRedactor({ env });
  const out = r.redact(
    `token plain-value-without-a-known-shape; pw correct horse battery; abcdefgh12345678; user:pa55word-xyz; ` +
      `sock /tmp/ssh-XXXX/agent.123 home /root editor vim-but-long-enough true`,
  );
  for (const leaked of [
    'plain-value-without-a-known-shape',
    'correct horse battery',
    'abcdefgh12345678',
    'pa55word-xyz',
  ])
    assert.equal(out.includes(leaked), false, leaked);
  for (const kept of ['/tmp/ssh-XXXX/agent.123', '/root', 'vim-but-long-enough', 'true'])
    assert.ok(out.includes(kept), kept);
  assert.ok(isSecretEnvName('ANTHROPIC_API_KEY'));
  assert.ok(isSecretEnvName('JWT_SECRET'));
  assert.ok(!isSecretEnvName('SSH_AUTH_SOCK'));
  assert.ok(!isSecretEnvName('AWS_ACCESS_KEY_ID'), 'an id (its AKIA value is matched by shape)');
});

test('createCore gives the redactor the values of its own secret-looking environment variables', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-redact-core-'));
  const env = {
    PATH: process.env.PATH,
    HOME: dataDir,
    LANG: 'C.UTF-8',
    ACME_DEPLOY_TOKEN: 'deploy-0f1e2d3c4b5a-token-value',
  };
  const core = await createCore(loadConfig({ dataDir, env }), {
    env,
    persistence: false,
    tasks: false,
    logger: createLogger({ level: 'error', sink: () => {} }),
  });
  // After the core has closed (t.after hooks run in registration order).
  t.after(async () => {
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  assert.equal(
    core.redactor.redact('pushing with deploy-0f1e2d3c4b5a-token-value now'),
    'pushing with [REDACTED:secret] now',
  );
});

test('PEM private keys (RSA, EC, OpenSSH, encrypted, PGP) and GCP service-account key files', () => {
  for (const label of [
    'RSA PRIVATE KEY',
    'EC PRIVATE KEY',
    'OPENSSH PRIVATE KEY',
    'ENCRYPTED PRIVATE KEY',
    'PRIVATE KEY',
  ]) {
    const body = randomBytes(300)
      .toString('base64')
      .replace(/(.{64})/g, '$1\n');
    const out = assertRedacted(
      `key:\n-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\nafter`,
      body.slice(0, 30),
      'pem',
    );
    assert.equal(out, 'key:\n[REDACTED:pem]\nafter');
  }
  const pgp = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF${'x'.repeat(200)}\n-----END PGP PRIVATE KEY BLOCK-----`;
  assert.equal(createRedactor().redact(pgp), '[REDACTED:pem]');
  const pemBody = randomBytes(600).toString('base64');
  const gcp = JSON.stringify(
    {
      type: 'service_account',
      project_id: 'my-project-123',
      private_key_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      private_key: `-----BEGIN PRIVATE KEY-----\n${pemBody}\n-----END PRIVATE KEY-----\n`,
      client_email: 'bot@my-project-123.iam.gserviceaccount.com',
      client_id: '109876543210987654321',
    },
    null,
    2,
  );
  const out = createRedactor().redact(gcp);
  assert.equal(out.includes(pemBody.slice(0, 40)), false, 'the private key');
  assert.equal(out.includes('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'), false, 'the private key id');
  assert.ok(out.includes('bot@my-project-123.iam.gserviceaccount.com'), 'the account stays readable');
});

test('Slack, Stripe, GitLab, npm, Hugging Face tokens, JWTs and passwords in URLs', () => {
  const cases: [string, string, string][] = [
    ['xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'AbCdEfGhIjKlMnOpQrStUvWx', 'slack-token'],
    [
      'xoxp-1234567890-1234567890-1234567890-abcdef0123456789abcdef0123456789',
      'abcdef0123456789abcdef',
      'slack-token',
    ],
    ['xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef', 'abcdef0123456789abcdef', 'slack-token'],
    [
      'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
      'XXXXXXXXXXXXXXXXXXXXXXXX',
      'slack-webhook',
    ],
    ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', '4eC39HqLyjWDarjtT1zdp7dc', 'stripe-key'],
    ['rk_test_51H8abcdefGHIJKLmnopQRST', '51H8abcdefGHIJKLmnopQRST', 'stripe-key'],
    ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'stripe-key'],
    ['glpat-xYz12345AbCdEfGhIjKl', 'xYz12345AbCdEfGhIjKl', 'gitlab-token'],
    ['npm_abcdefghijklmnopqrstuvwxyz0123456789', 'abcdefghijklmnopqrstuvwxyz0123456789', 'npm-token'],
    ['hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567', 'AbCdEfGhIjKlMnOpQrStUvWxYz01234567', 'huggingface-token'],
    [
      'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
      'jwt',
    ],
    ['postgres://app:s3cr3t-P4ss@db.internal:5432/app', 's3cr3t-P4ss', 'url-credentials'],
    ['redis://:hunter2hunter2@127.0.0.1:6379/0', 'hunter2hunter2', 'url-credentials'],
    ['https://bob:p@ss@word@example.com/x', 'ss@word', 'url-credentials'],
    ['"client_secret": "GOCSPX-abcdefghijklmnop"', 'GOCSPX-abcdefghijklmnop', 'credential'],
    ['refresh_token=1//0gAbCdEfGhIjKlMnOp', '1//0gAbCdEfGhIjKlMnOp', 'credential'],
  ];
  for (const [text, leaked, kind] of cases) assertRedacted(`before ${text} after`, leaked, kind);
  // The URL keeps its scheme and host.
  assert.equal(
    createRedactor().redact('git clone https://alice:hunter2pass@github.com/x/y'),
    'git clone https://[REDACTED:url-credentials]@github.com/x/y',
  );
});

test('identifiers never match: task-, desk-, session and instance ids, uuids, hex hashes, base64 ids', () => {
  const r = createRedactor();
  const ids: string[] = [];
  for (let i = 0; i < 500; i++) {
    const u = randomUUID();
    ids.push(
      `task-${u}`,
      `desk-${u}`,
      `batch-${u}`,
      `inst-${u}`,
      u,
      createHash('sha1').update(u).digest('hex'),
      createHash('sha256').update(u).digest('hex'),
      `sha512-${createHash('sha512').update(u).digest('base64')}`,
      `ask-${u.replace(/-/g, '')}`,
    );
  }
  const text = ids.map((id, i) => `${i % 3 === 0 ? 'id=' : 'task '}${id} done`).join('\n');
  const out = r.redact(text);
  assert.equal(out, text, 'no id was redacted');
  assert.equal(
    createRedactor().redact('{"level":"info","task_id":"task-3f2a1c2e-9b7d-4e1f-8a2b-0c1d2e3f4a5b"}'),
    '{"level":"info","task_id":"task-3f2a1c2e-9b7d-4e1f-8a2b-0c1d2e3f4a5b"}',
  );
  // The same ids next to a key-looking name are still ids: only `key`-like names mark a secret.
  const line = 'session_id=5f0e8d2a-1111-4222-8333-944445555666 cache_key_count: 12345678901';
  assert.equal(r.redact(line), line);
});

test('stream: a secret whose start was released in a quiet moment is amended when the rest arrives', () => {
  const redactor = createRedactor();
  const key = `sk-ant-api03-${'K'.repeat(40)}`;
  for (let split = 1; split < key.length; split += 3) {
    let stored = '';
    const amends: StreamAmend[] = [];
    const s = createStreamRedactor(redactor, {
      onAmend: (a) => {
        amends.push(a);
        stored = stored.slice(0, stored.length - a.remove) + a.insert;
      },
    });
    // (onAmend rewrites `stored` inside the call: append what the call returns after it returned.)
    const emit = (text: string) => {
      stored += text;
    };
    emit(s.push(`${'log line\r\n'.repeat(40)}> export KEY=${key.slice(0, split)}`));
    emit(s.release()); // the quiet moment: everything printed so far is emitted
    assert.ok(stored.endsWith(key.slice(0, split)) || stored.endsWith('[REDACTED:anthropic-key]'));
    emit(s.push(`${key.slice(split)} ok\r\n`));
    emit(s.flush());
    assert.equal(stored.includes('KKKK'), false, `split ${split}: ${stored.slice(-80)}`);
    assert.ok(
      stored.endsWith('> export KEY=[REDACTED:anthropic-key] ok\r\n'),
      `split ${split}: ${stored.slice(-60)}`,
    );
    if (split >= 'sk-ant-'.length + 8)
      assert.equal(amends.length, 0, 'a prefix that already matched is redacted at release');
  }
});

test('stream: typing a secret one character per quiet moment ends fully redacted', () => {
  const redactor = createRedactor({ secrets: ['typed-secret-value-42'] });
  let stored = '';
  const s = createStreamRedactor(redactor, {
    onAmend: (a) => {
      stored = stored.slice(0, stored.length - a.remove) + a.insert;
    },
  });
  const emit = (text: string) => {
    stored += text;
  };
  emit(s.push('$ login --password '));
  for (const ch of 'typed-secret-value-42') {
    emit(s.push(ch));
    emit(s.release());
  }
  emit(s.push('\r\nwelcome\r\n'));
  emit(s.flush());
  assert.equal(stored, '$ login --password [REDACTED:secret]\r\nwelcome\r\n');
});
