import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WindowAttachments } from '../../src-main/electron/terminal-attachments.ts';
import { WindowEventChannel } from '../../src-main/electron/window-events.ts';
import type { IpcBatch, IpcEventItem } from '../../src-shared/ipc.ts';
import { FakeManager, ManualTimers } from './fakes.ts';

const out = (seq: number, data: string): IpcEventItem => ({ kind: 'output', attachment_id: 'a1', seq, data });

test('batching: items within the interval go out as one batch, in order, numbered from 1', () => {
  const timers = new ManualTimers();
  const sent: IpcBatch[] = [];
  const channel = new WindowEventChannel((b) => sent.push(b), {
    timers,
    intervalMs: 16,
    maxBytes: 64 * 1024,
  });
  for (let i = 1; i <= 100; i++) channel.push(out(i, `line ${i}\r\n`));
  assert.equal(sent.length, 0, 'nothing is sent before the interval elapses');
  assert.equal(timers.pending.size, 1, 'one timer for the whole batch');
  timers.runAll();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.batch, 1);
  assert.deepEqual(
    sent[0]!.items.map((i) => (i.kind === 'output' ? i.seq : -1)),
    Array.from({ length: 100 }, (_, i) => i + 1),
  );
  channel.push(out(101, 'x'));
  timers.runAll();
  assert.equal(sent[1]!.batch, 2);
});

test('batching: a batch is cut as soon as it reaches the byte limit', () => {
  const timers = new ManualTimers();
  const sent: IpcBatch[] = [];
  const channel = new WindowEventChannel((b) => sent.push(b), {
    timers,
    intervalMs: 16,
    maxBytes: 64 * 1024,
  });
  const chunk = 'y'.repeat(20_000);
  for (let i = 1; i <= 10; i++) channel.push(out(i, chunk));
  // 3 chunks stay below 64 KiB, the 4th crosses it: cut at 4, 8, remainder waits for the timer.
  assert.deepEqual(
    sent.map((b) => b.items.length),
    [4, 4],
  );
  assert.equal(channel.pendingItems, 2);
  timers.runAll();
  assert.deepEqual(
    sent.map((b) => b.items.length),
    [4, 4, 2],
  );
  const seqs = sent.flatMap((b) => b.items.map((i) => (i.kind === 'output' ? i.seq : 0)));
  assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('batching: a send that throws (window gone) disposes the channel; later pushes are dropped', () => {
  const timers = new ManualTimers();
  let calls = 0;
  const channel = new WindowEventChannel(
    () => {
      calls++;
      throw new Error('Object has been destroyed');
    },
    { timers },
  );
  channel.push(out(1, 'a'));
  timers.runAll();
  channel.push(out(2, 'b'));
  timers.runAll();
  assert.equal(calls, 1);
  assert.equal(channel.pendingItems, 0);
  assert.equal(timers.pending.size, 0);
});

test('flow control: output is forwarded, renderer acks pass to the manager, clamped to what was delivered', async () => {
  const manager = new FakeManager();
  const session = await manager.create({ cli_tool: 'shell' });
  const items: IpcEventItem[] = [];
  const attachments = new WindowAttachments(manager, (i) => items.push(i));
  manager.snapshotSeq = 0;
  await attachments.open('a1', session.session_id);
  const consumer = manager.consumers[0]!;
  assert.equal(consumer.consumer.flowControlled, true, 'the desktop renderer is a flow-controlled consumer');
  assert.deepEqual(
    items.map((i) => i.kind),
    ['snapshot', 'status'],
  );

  manager.emit(session.session_id, 'hello');
  manager.emit(session.session_id, 'world!!');
  assert.equal(attachments.outstanding('a1'), 12);
  assert.equal(consumer.acked, 0, 'nothing acked before the renderer parsed it');

  attachments.ack('a1', 5);
  assert.equal(consumer.acked, 5);
  attachments.ack('a1', 1000); // a renderer cannot over-credit the manager
  assert.equal(consumer.acked, 12);
  assert.equal(attachments.outstanding('a1'), 0);
  attachments.ack('unknown', 10); // harmless

  attachments.detach('a1');
  assert.equal(consumer.disposed, true);
  manager.emit(session.session_id, 'after');
  assert.equal(items.filter((i) => i.kind === 'output').length, 2, 'nothing forwarded after detach');
});

test('flow control: a renderer that never acks leaves the PTY with unacked credit (so the manager pauses it)', async () => {
  const manager = new FakeManager();
  const session = await manager.create({ cli_tool: 'shell' });
  const attachments = new WindowAttachments(manager, () => {});
  await attachments.open('a1', session.session_id);
  for (let i = 0; i < 100; i++) manager.emit(session.session_id, 'z'.repeat(1000));
  assert.equal(attachments.outstanding('a1'), 100_000);
  assert.equal(manager.consumers[0]!.acked, 0);
  // Closing the window releases the consumer, so a closed window never keeps a PTY paused.
  attachments.dispose();
  assert.equal(manager.consumers[0]!.disposed, true);
});

test('attach with last_seq replays the gap; replayed output is not acked to the manager', async () => {
  const manager = new FakeManager();
  const session = await manager.create({ cli_tool: 'shell' });
  manager.emit(session.session_id, 'one');
  manager.emit(session.session_id, 'two');
  manager.emit(session.session_id, 'three');
  const items: IpcEventItem[] = [];
  const attachments = new WindowAttachments(manager, (i) => items.push(i));
  await attachments.open('a1', session.session_id, 1);
  assert.deepEqual(
    items.filter((i) => i.kind === 'output').map((i) => (i.kind === 'output' ? i.data : '')),
    ['two', 'three'],
  );
  assert.equal(
    items.some((i) => i.kind === 'snapshot'),
    false,
  );
  manager.emit(session.session_id, 'four');
  attachments.ack('a1', 'twothreefour'.length);
  assert.equal(manager.consumers[0]!.acked, 4, 'only the live chunk is credited back');
});

test('attach with a gap older than the ring gets a resume-gap snapshot', async () => {
  const manager = new FakeManager();
  const session = await manager.create({ cli_tool: 'shell' });
  for (let i = 0; i < 5; i++) manager.emit(session.session_id, `c${i}`);
  manager.ring.set(session.session_id, manager.ring.get(session.session_id)!.slice(3)); // seqs 4,5 left
  manager.snapshotSeq = 5;
  const items: IpcEventItem[] = [];
  const attachments = new WindowAttachments(manager, (i) => items.push(i));
  await attachments.open('a1', session.session_id, 1);
  const snap = items.find((i) => i.kind === 'snapshot');
  assert.ok(snap && snap.kind === 'snapshot');
  assert.equal(snap.snapshot.reason, 'resume-gap');
  assert.equal(snap.snapshot.seq, 5);
});

test('output racing the snapshot is neither lost nor duplicated', async () => {
  const manager = new FakeManager();
  const session = await manager.create({ cli_tool: 'shell' });
  manager.emit(session.session_id, 'a'); // seq 1
  manager.emit(session.session_id, 'b'); // seq 2
  manager.snapshotSeq = 2;
  const originalSnapshot = manager.snapshot.bind(manager);
  // While the snapshot is being taken, seq 2 (already in it) and seq 3 (not in it) arrive live.
  manager.snapshot = async (id: string) => {
    const consumer = manager.consumers.at(-1)!.consumer;
    consumer.onData({ session_id: id, seq: 2, data: 'b', at: 0 });
    consumer.onData({ session_id: id, seq: 3, data: 'c', at: 0 });
    return originalSnapshot(id);
  };
  const items: IpcEventItem[] = [];
  const attachments = new WindowAttachments(manager, (i) => items.push(i));
  await attachments.open('a1', session.session_id);
  assert.deepEqual(
    items.map((i) => (i.kind === 'output' ? `out${i.seq}` : i.kind)),
    ['snapshot', 'status', 'out3'],
  );
  assert.equal(manager.consumers.at(-1)!.acked, 1, 'the duplicate was credited straight back');
});

test('attachments: unknown session, duplicate id, per-window cap, commands route to the right session', async () => {
  const manager = new FakeManager();
  const s = await manager.create({ cli_tool: 'shell' });
  const attachments = new WindowAttachments(manager, () => {});
  await assert.rejects(attachments.open('a0', 'nope'), /not found/);
  await attachments.open('a1', s.session_id);
  await assert.rejects(attachments.open('a1', s.session_id), /in use/);
  attachments.input('a1', 'ls\r');
  attachments.command('a1', 'echo hi');
  attachments.resize('a1', 100, 30);
  attachments.interrupt('a1');
  assert.deepEqual(manager.calls.slice(1), [
    'input:s1:ls\r',
    'command:s1:echo hi',
    'resize:s1:100x30',
    'interrupt:s1',
  ]);
  assert.throws(() => attachments.input('zz', 'x'), /not found/);
  for (let i = 2; i <= 64; i++) await attachments.open(`a${i}`, s.session_id);
  await assert.rejects(attachments.open('a65', s.session_id), /too many/);
});
