/**
 * What a secret looks like: the key shapes the redactor matches (security/redact.ts) and the rule for
 * which environment variables hold secrets. Data, not code: a new key format is one entry here.
 *
 * Boundaries are the point of most entries. Identifiers share prefixes with keys (`task-<uuid>` holds
 * `sk-`, `desk-…` too; a git SHA is 40 characters like an AWS secret key), so every prefix pattern
 * refuses a match that continues a word (`(?<![A-Za-z0-9_-])`), and bare high-entropy values are only
 * matched next to a name that says what they are (aws_secret_access_key = …, "private_key_id": …).
 */

export interface SecretPattern {
  kind: string;
  re: RegExp;
  /** Redact only this capture group (keeps e.g. "Bearer " or "https://"). */
  group?: number;
  /** Characters of which every match contains one (checked first, at memchr speed): text with none of
   *  them skips the pattern. Most key shapes hold a `-`, `_`, `.`, `:` or `=`, which base64 and
   *  ordinary words lack, so a base64 flood runs only the few purely alphanumeric patterns. */
  needs?: string;
  /** Literals of which every match contains one: checked after `needs`. */
  hint?: readonly string[];
  /** The match is a name; the secret is the first match of `re` within `within` characters after it. */
  valueAfter?: { re: RegExp; within: number };
  /** A value matched here is remembered and then redacted wherever it appears alone (the value of
   *  `aws_secret_access_key = …` printed again by `aws configure get …` or in a table). */
  learn?: boolean;
}

/** A word character or `-` before a prefix means the prefix is inside an identifier (`task-…`). */
const NOT_AFTER_WORD = '(?<![A-Za-z0-9_-])';

/** Names of settings whose value is a secret, for `name = value` / `"name": "value"` / `name: value`. */
const SECRET_NAMES = [
  'api[_-]?key',
  'access[_-]?key(?:[_-]?id)?',
  'secret[_-]?(?:access[_-]?)?key',
  'private[_-]?key(?:[_-]?id)?',
  'client[_-]?secret',
  '(?:access|auth|refresh|id|bearer|session)[_-]?token',
  'secret',
  'token',
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'credentials?',
].join('|');

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    // PEM private keys, also JSON-escaped ("-----BEGIN PRIVATE KEY-----\nMIIE…" in a GCP service
    // account key file). An unterminated block is redacted to the end of the text (the stream
    // redactor then holds it until the END line arrives).
    kind: 'pem',
    needs: '-',
    re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    hint: ['-----BEGIN '],
  },
  // sk-ant- is specific enough to need no boundary (colour codes can glue it to the word before).
  { kind: 'anthropic-key', needs: '-', re: /sk-ant-[A-Za-z0-9_-]{8,}/g, hint: ['sk-ant-'] },
  {
    // sk-…, sk-proj-…, sk-svcacct-…: at least 20 characters with a digit (a slug such as
    // "sk-learn-notebook" has none).
    kind: 'openai-key',
    needs: '-',
    re: new RegExp(`${NOT_AFTER_WORD}sk-(?!ant-)(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}`, 'g'),
    hint: ['sk-'],
  },
  {
    kind: 'github-token',
    needs: '_',
    re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,}/g,
    hint: ['github_pat_'],
  },
  { kind: 'github-token', needs: '_', re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{20,}/g },
  {
    kind: 'gitlab-token',
    needs: '-',
    re: new RegExp(`${NOT_AFTER_WORD}glpat-[A-Za-z0-9_-]{20,}`, 'g'),
    hint: ['glpat-'],
  },
  {
    kind: 'npm-token',
    needs: '_',
    re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g,
    hint: ['npm_'],
  },
  { kind: 'huggingface-token', needs: '_', re: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}/g, hint: ['hf_'] },
  // AWS access key ids (long-term AKIA…, temporary ASIA…).
  { kind: 'aws-key', re: /(?<![A-Za-z0-9])A[KS]IA[0-9A-Z]{16}(?![A-Za-z0-9])/g },
  {
    // AWS secret access keys: 40 characters of base64 after their name, on the same line or a few
    // lines on (aws configure's prompt, `aws iam create-access-key` JSON, a credentials table). The
    // value is learned: printed alone later, it is still redacted.
    kind: 'aws-secret-key',
    needs: '_ :"=-\t',
    re: /(?:aws[_ -]?)?secret[_ -]?access[_ -]?key|aws[_ -]?secret[_ -]?key/gi,
    hint: ['ecret', 'ECRET'],
    valueAfter: { re: /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/, within: 120 },
    learn: true,
  },
  {
    kind: 'google-key',
    re: new RegExp(`${NOT_AFTER_WORD}AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])`, 'g'),
  },
  {
    kind: 'slack-token',
    needs: '-',
    re: new RegExp(`${NOT_AFTER_WORD}xox[abposr]-[A-Za-z0-9-]{10,}`, 'g'),
    hint: ['xox'],
  },
  {
    kind: 'slack-token',
    needs: '-',
    re: new RegExp(`${NOT_AFTER_WORD}xapp-[0-9]-[A-Za-z0-9-]{10,}`, 'g'),
    hint: ['xapp-'],
  },
  {
    kind: 'slack-webhook',
    needs: ':',
    re: /(https:\/\/hooks\.slack\.com\/services\/)([A-Za-z0-9_/-]{20,})/g,
    group: 2,
    hint: ['hooks.slack.com'],
  },
  {
    kind: 'stripe-key',
    needs: '_',
    re: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g,
    hint: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
  },
  { kind: 'stripe-key', needs: '_', re: /(?<![A-Za-z0-9_])whsec_[A-Za-z0-9]{20,}/g, hint: ['whsec_'] },
  {
    kind: 'jwt',
    needs: '.',
    re: new RegExp(`${NOT_AFTER_WORD}eyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}`, 'g'),
    hint: ['eyJ'],
  },
  {
    kind: 'bearer',
    needs: ' \t',
    re: /\b(Bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi,
    group: 2,
    hint: ['earer', 'EARER'],
  },
  {
    // scheme://user:password@host and scheme://:password@host (redis). Greedy up to the last @ of
    // the authority, so a password holding "@" is covered whole.
    kind: 'url-credentials',
    needs: ':',
    re: /:\/\/(?<=\b[a-z][a-z0-9+.-]*:\/\/)([^\s/:@]*:[^\s/]+)@/gi,
    group: 1,
    hint: ['://'],
  },
  {
    // name = value, name: value, "name": "value" (JSON), NAME=value (env), with a secret-looking name.
    // The match starts at the operator (cheap to scan for); the name is checked behind it.
    kind: 'credential',
    needs: '=:',
    // Same line only ([ \t], not \s): a prompt's answer on the next line is not echoed, and what
    // follows a line ending in "…pwd=" is not its value.
    re: new RegExp(
      `[=:](?<=(?:${SECRET_NAMES})["']?[ \\t]*[=:])[ \\t]*["']?(?!\\[REDACTED)([^\\s"',;]{8,})`,
      'gi',
    ),
    group: 1,
  },
  {
    // Shell/env style: anything_KEY=…, MY_SECRET_THING=…, DB_PASSWORD=… (export, .env files).
    kind: 'credential',
    needs: '=',
    re: /=(?<=\b[A-Z][A-Z0-9_]*(?:KEY|SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?)[A-Z0-9_]*[ \t]*=)[ \t]*["']?(?!\[REDACTED)([^\s"']{8,})/g,
    group: 1,
  },
];

/**
 * Environment variables whose values are secrets: names with KEY, SECRET, TOKEN, PASSWORD, PASSWD,
 * PASSPHRASE, CREDENTIAL, PRIVATE, AUTH, COOKIE or SIGNATURE in them — except those that name a file,
 * a directory, a socket or a path (SSH_AUTH_SOCK, GOOGLE_APPLICATION_CREDENTIALS=/path/key.json…),
 * and values that are paths, short (< 8) or plain words a redactor must not hunt for (true/false).
 */
const SECRET_ENV_NAME =
  /KEY|SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|AUTH|COOKIE|SIGNATURE/i;
const NOT_A_SECRET_ENV_NAME =
  /(?:SOCK|SOCKET|PATH|FILE|DIR|HOME|ID|KEYMAP|KEYBOARD|TTY|URL)$|^XDG_|^GPG_|^KEYBOARD/i;

export function isSecretEnvName(name: string): boolean {
  return SECRET_ENV_NAME.test(name) && !NOT_A_SECRET_ENV_NAME.test(name);
}

export function secretEnvValues(env: Record<string, string | undefined>): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || !isSecretEnvName(name)) continue;
    const v = value.trim();
    if (v.length < 8 || v.startsWith('/') || v.startsWith('~/') || /^(?:true|false|yes|no)$/i.test(v))
      continue;
    values.push(v);
  }
  return values;
}
