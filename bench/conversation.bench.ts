// What talking to agents and counting their tokens costs AutoDev, per turn and per record:
// - reading an answer off the screen: replaying a serialized snapshot (1000 scrollback lines, what the
//   PTY host's mirror keeps) into a private terminal and taking the difference; baseline in the same
//   run: replaying the same snapshot without the difference;
// - reading an agent's record: a Claude Code transcript of 20 000 model calls parsed whole (MB/s),
//   then one appended turn read incrementally vs the whole file again, and an unchanged file (a stat);
// - pricing and storing a session's usage (SQLite, schema 006) after a turn.
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerializeAddon } from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';
import { RECORD_PARSERS, RecordReader } from '../src-main/core/conversation/records/index.ts';
import { readSerializedScreen } from '../src-main/core/conversation/screen-lines.ts';
import { compileReplySpec, screenReply } from '../src-main/core/conversation/screen-reply.ts';
import { defaultProviders } from '../src-main/core/providers/defaults.ts';
import { openDatabase } from '../src-main/core/store/index.ts';
import { PriceList, UsageStore } from '../src-main/core/usage/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-bench-conv-'));

// ── screen ──────────────────────────────────────────────────────────────────────────────────────
async function serializedScreen(turns: number): Promise<string> {
  const term = new xtermHeadless.Terminal({ cols: 120, rows: 32, scrollback: 1000, allowProposedApi: true });
  const ser = new SerializeAddon();
  term.loadAddon(ser as unknown as Parameters<typeof term.loadAddon>[0]);
  let text = '';
  for (let t = 0; t < turns; t++) {
    text += `\x1b[1m> question number ${t}\x1b[0m\r\n\r\n`;
    for (let l = 0; l < 12; l++)
      text += `${l === 0 ? '⏺ ' : '  '}\x1b[32manswer ${t} line ${l}\x1b[0m with some words\r\n`;
    text += '\r\n';
  }
  text += `${'─'.repeat(120)}\r\n❯ \r\n${'─'.repeat(120)}\r\n  ? for shortcuts`;
  await new Promise<void>((r) => term.write(text, r));
  const out = ser.serialize();
  term.dispose();
  return out;
}

const spec = compileReplySpec(defaultProviders({}).find((p) => p.id === 'claude')?.conversation?.screen);
const before = await serializedScreen(70);
const after = await serializedScreen(71);
const N = 40;
let t0 = performance.now();
for (let i = 0; i < N; i++) await readSerializedScreen({ screen: after, cols: 120, rows: 32 });
const replayMs = (performance.now() - t0) / N;
let reply = '';
t0 = performance.now();
for (let i = 0; i < N; i++) {
  const [b, a] = await Promise.all([
    readSerializedScreen({ screen: before, cols: 120, rows: 32 }),
    readSerializedScreen({ screen: after, cols: 120, rows: 32 }),
  ]);
  reply = screenReply({ before: b, after: a, prompt: 'question number 70', spec });
}
const screenReplyMs = (performance.now() - t0) / N;
if (!reply.startsWith('answer 70 line 0') || !reply.endsWith('answer 70 line 11 with some words'))
  throw new Error(`unexpected reply: ${reply.slice(0, 80)}`);
console.log(
  `screen reply: ${screenReplyMs.toFixed(1)} ms per turn (two snapshots of ${(after.length / 1024).toFixed(0)} KiB replayed + diff); one replay alone ${replayMs.toFixed(1)} ms`,
);

// ── records ─────────────────────────────────────────────────────────────────────────────────────
const transcript = path.join(dir, 'big.jsonl');
const entry = (i: number) => {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
  const user = {
    type: 'user',
    sessionId: 's',
    uuid: `u${i}`,
    timestamp: at,
    isSidechain: false,
    message: { role: 'user', content: `prompt ${i} ${'x'.repeat(200)}` },
  };
  const assistant = {
    type: 'assistant',
    sessionId: 's',
    uuid: `a${i}`,
    requestId: `r${i}`,
    timestamp: at,
    isSidechain: false,
    message: {
      id: `msg_${i}`,
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: `answer ${i} ${'y'.repeat(600)}` }],
      usage: {
        input_tokens: 100,
        output_tokens: 50,
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 10,
      },
    },
  };
  return `${JSON.stringify(user)}\n${JSON.stringify(assistant)}\n`;
};
const CALLS = 20_000;
const chunks: string[] = [];
for (let i = 0; i < CALLS; i++) chunks.push(entry(i));
writeFileSync(transcript, chunks.join(''));
const mb = statSync(transcript).size / 1e6;
const reader = new RecordReader(transcript, RECORD_PARSERS['claude-jsonl']);
t0 = performance.now();
reader.refresh();
const fullMs = performance.now() - t0;
if (reader.state.usage.length !== CALLS) throw new Error(`parsed ${reader.state.usage.length} calls`);
appendFileSync(transcript, entry(CALLS));
t0 = performance.now();
reader.refresh();
const incrementalMs = performance.now() - t0;
t0 = performance.now();
for (let i = 0; i < 1000; i++) reader.refresh();
const unchangedUs = ((performance.now() - t0) / 1000) * 1000;
console.log(
  `claude transcript: ${mb.toFixed(1)} MB, ${CALLS} calls parsed in ${fullMs.toFixed(0)} ms (${(mb / (fullMs / 1000)).toFixed(0)} MB/s); one more turn read incrementally ${incrementalMs.toFixed(2)} ms (${(fullMs / incrementalMs).toFixed(0)}× less than the whole file); unchanged ${unchangedUs.toFixed(0)} µs`,
);

// ── usage ───────────────────────────────────────────────────────────────────────────────────────
const db = openDatabase({ path: path.join(dir, 'autodev.db'), schemaDir: path.resolve('schema') });
const store = new UsageStore(db.db);
const prices = new PriceList(defaultProviders({}).find((p) => p.id === 'claude')?.prices);
t0 = performance.now();
const rows = new Map<string, ReturnType<typeof prices.total> & { day: string; model: string }>();
for (const call of reader.state.usage) {
  const day = call.at.slice(0, 10);
  const key = `${day}:${call.model}`;
  const row = rows.get(key) ?? { day, model: call.model ?? '', ...prices.total([]) };
  const t = prices.total([call]);
  for (const k of Object.keys(t) as (keyof typeof t)[]) row[k] += t[k];
  rows.set(key, row);
}
store.replaceSession(
  {
    session_id: 's',
    cli_tool: 'claude',
    name: 'x',
    conversation_id: 's',
    format: 'claude-jsonl',
    files: 1,
    scanned_at: new Date().toISOString(),
    error: null,
  },
  [...rows.values()],
);
const usageMs = performance.now() - t0;
const stored = store.session('s');
if (stored?.totals.calls !== CALLS + 1) throw new Error(`stored ${stored?.totals.calls} calls`);
console.log(
  `usage: ${CALLS + 1} calls priced and stored in ${usageMs.toFixed(0)} ms (${rows.size} day×model rows)`,
);
db.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `conversation_screen_reply_ms=${screenReplyMs.toFixed(1)} conversation_replay_ms=${replayMs.toFixed(1)} record_parse_mb_s=${(mb / (fullMs / 1000)).toFixed(0)} record_incremental_ms=${incrementalMs.toFixed(2)} record_unchanged_us=${unchangedUs.toFixed(0)} usage_store_ms=${usageMs.toFixed(0)}`,
);
