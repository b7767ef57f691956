// Redaction throughput: every byte an agent prints passes the redactor before SQLite/Redis/logs.
// Baseline in the same run: the cheapest pass over the same text (a literal `includes` scan), so the
// ratio shows what the patterns cost. Workloads: a base64 flood (long alphanumeric runs, the worst case
// for the URL/credential patterns) and SGR-coloured build-log lines with a few real-looking secrets.
import { randomBytes, randomUUID } from 'node:crypto';
import { createRedactor } from '../src-main/core/security/redact.ts';

const CHUNK = 64 * 1024;
const redactor = createRedactor({ secrets: ['my-own-api-key-value-1234567890'] });

function timeMbPerS(text: string, pass: (chunk: string) => number): number {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < text.length; i += CHUNK) sink += pass(text.slice(i, i + CHUNK));
  const s = (performance.now() - t0) / 1000;
  if (sink < 0) console.log(sink); // keep the work observable
  return text.length / 1e6 / s;
}

const base64 = randomBytes(12 * 1024 * 1024).toString('base64');
const line = (i: number) =>
  `\x1b[32m✔\x1b[0m compiled module ${i} in ${i % 97} ms \x1b[2m(src/pkg/file${i}.ts)\x1b[0m\r\n` +
  (i % 5000 === 0 ? `export OPENAI_API_KEY=sk-${'x'.repeat(40)} curl https://u:p4ss@host/x\r\n` : '');
const logs = Array.from({ length: 200_000 }, (_, i) => line(i)).join('');

const results: Record<string, number> = {};
for (const [name, text] of [
  ['base64', base64],
  ['logs', logs],
] as const) {
  const baseline = timeMbPerS(text, (c) => (c.includes('\x00') ? 1 : c.length));
  const redact = timeMbPerS(text, (c) => redactor.redact(c).length);
  results[name] = redact;
  console.log(
    `${name}: redact ${redact.toFixed(1)} MB/s, baseline scan ${baseline.toFixed(0)} MB/s (${(text.length / 1e6).toFixed(1)} MB)`,
  );
}
const redactedLogs = redactor.redact(line(0));
if (redactedLogs.includes('sk-xxxx') || redactedLogs.includes('p4ss'))
  throw new Error('redaction missed a secret');
// Ids in the logs must come out untouched (task-<uuid> holds "sk-"): count what a flood of them loses.
const ids = Array.from({ length: 20_000 }, () => `task-${randomUUID()} desk-${randomUUID()}`).join('\n');
const idsRedacted = (redactor.redact(ids).match(/\[REDACTED:/g) ?? []).length;
console.log(
  `target: base64 >= 150 MB/s (${results['base64']! >= 150 ? 'met' : 'MISSED'}); ids redacted by mistake: ${idsRedacted} of 40000`,
);
console.log(
  `redact_base64_mb_s=${results['base64']!.toFixed(1)} redact_logs_mb_s=${results['logs']!.toFixed(1)} redact_false_positive_ids=${idsRedacted}`,
);
