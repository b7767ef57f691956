import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { PtyHostClient } from '../../src-main/core/pty-host/host-client.ts';
import { type HostLaunchOptions, startHost } from '../../src-main/core/pty-host/host-launcher.ts';
import {
  type PtyHostStatus,
  type SupervisedHostOptions,
  SupervisedPtyHost,
} from '../../src-main/core/pty-host/supervised-host.ts';
import { Emitter } from '../../src-main/core/util/event.ts';
import { loadRenderer } from '../renderer/helpers/renderer.ts';
import { hostPid, pidAlive, root, tempDir, until } from './helpers.ts';

/**
 * Issue 12: the supervisor's restart schedule. Fakes (a clock and a launcher) check the exact waits and
 * the budget without sleeping; real host processes check that a bad binary and start failures are
 * retried and given up on the same way.
 */

const { ptyHostNotice } = await loadRenderer<{
  ptyHostNotice(status: PtyHostStatus, previous: PtyHostStatus | null): string | null;
}>('model/pty-host.ts');

const SECOND = 1000;
const DAY = 86_400 * SECOND;

/** Let promise chains and emitter callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** A manual clock. The supervisor's timers (through the seam) are recorded apart from the test's own. */
class FakeClock {
  t = 0;
  /** Every wait the supervisor asked for, in ms. */
  readonly waits: number[] = [];
  private _timers: { at: number; fn: () => void; id: number; ours: boolean }[] = [];
  private _next = 1;

  readonly seam: NonNullable<SupervisedHostOptions['clock']> = {
    now: () => this.t,
    setTimeout: (fn, ms) => {
      this.waits.push(ms);
      return this._add(fn, ms, false);
    },
    clearTimeout: (id) => {
      this._timers = this._timers.filter((x) => x.id !== id);
    },
  };

  /** The supervisor's timers still pending. */
  get pending(): number {
    return this._timers.filter((x) => !x.ours).length;
  }

  /** A test event (a host dying) at now + ms. */
  schedule(ms: number, fn: () => void): void {
    this._add(fn, ms, true);
  }

  private _add(fn: () => void, ms: number, ours: boolean): number {
    const id = this._next++;
    this._timers.push({ at: this.t + ms, fn, id, ours });
    return id;
  }

  /** Move time on by `ms`, firing what falls due in order and letting each consequence run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = this._timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this._timers = this._timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
      await settle();
    }
    this.t = end;
  }
}

let pids = 1000;

/** A stand-in for a connected host: `die()` is its process going away. */
function fakeHost() {
  const disconnect = new Emitter<{ reason: string }>();
  const none = () => ({ dispose() {} });
  const pid = pids++;
  const client = {
    welcome: { protocol: 1, host_version: 'test', pid, started_at: 'now', sessions: [] },
    onData: none,
    onDetect: none,
    onExit: none,
    onDidDisconnect: disconnect.event,
    dispose() {},
    async shutdown() {},
  } as unknown as PtyHostClient;
  return { client, pid, die: () => disconnect.fire({ reason: 'closed' }) };
}

/**
 * A supervisor over a fake host, with a fake clock and a launcher whose starts `start` answers.
 * No host is ever "still there" after a loss (connectExisting: null).
 */
function supervise(
  t: { after(fn: () => unknown): void },
  start: (attempt: number) => Promise<PtyHostClient>,
  options: Partial<SupervisedHostOptions> = {},
) {
  const clock = new FakeClock();
  const first = fakeHost();
  const starts: number[] = [];
  const statuses: PtyHostStatus[] = [];
  const logs: string[] = [];
  const host = new SupervisedPtyHost(first.client, {
    dataDir: '/nonexistent',
    clientName: 'test',
    logger: createLogger({ level: 'debug', sink: (l) => logs.push(l) }),
    clock: clock.seam,
    launcher: {
      connectExisting: async () => null,
      start: (_o: HostLaunchOptions) => {
        starts.push(clock.t);
        return start(starts.length - 1);
      },
    },
    ...options,
  });
  host.onDidChangeStatus((s) => statuses.push(s));
  t.after(() => host.dispose());
  return { host, clock, first, starts, statuses, logs };
}

const failing =
  (message = 'the PTY host exited with code 1 at start; see /data/pty-host/host.log') =>
  () =>
    Promise.reject(new Error(message));

test('failed starts wait 1 s, 2 s, 4 s … doubling up to 30 s, and no start comes early', async (t) => {
  const { clock, first, starts } = supervise(t, failing(), { maxRestarts: 9, restartWindowMs: DAY });
  first.die();
  const expected = [1, 2, 4, 8, 16, 30, 30, 30, 30].map((s) => s * SECOND);
  let at = 0;
  for (const [i, wait] of expected.entries()) {
    await clock.advance(wait - 1);
    assert.equal(starts.length, i, `start ${i + 1} not before ${wait} ms`);
    await clock.advance(1);
    assert.equal(starts.length, i + 1, `start ${i + 1} after ${wait} ms`);
    at += wait;
    assert.equal(starts[i], at);
  }
  assert.deepEqual(clock.waits, expected);
});

test('after maxRestarts (5) failed starts within 3 minutes it gives up, stops restarting, and says why', async (t) => {
  const { host, clock, first, starts, statuses } = supervise(t, failing());
  first.die();
  await clock.advance(31 * SECOND); // 1 + 2 + 4 + 8 + 16
  assert.deepEqual(
    starts,
    [1, 3, 7, 15, 31].map((s) => s * SECOND),
  );
  assert.equal(clock.pending, 0, 'no restart is scheduled');
  await clock.advance(DAY);
  assert.equal(starts.length, 5, 'never started again');

  // The events channel: the loss, then the give-up with the reason and where to look.
  assert.equal(statuses.length, 2);
  assert.match(statuses[0]!.last_loss!, /^the PTY host \(pid \d+\) stopped$/);
  const gaveUp = statuses[1]!;
  assert.equal(gaveUp.connected, false);
  assert.equal(gaveUp.restarts, 0);
  assert.match(gaveUp.last_loss!, /5 restarts tried in 180 s/);
  assert.match(gaveUp.last_loss!, /exited with code 1 at start; see \/data\/pty-host\/host\.log/);
  assert.match(gaveUp.last_loss!, /not restarting it \(restart AutoDev\)/);
  assert.deepEqual(host.status, gaveUp);
  // What the dashboard shows for it: the give-up, not "Restarting it…".
  const notice = ptyHostNotice(gaveUp, statuses[0]!) ?? '';
  assert.ok(notice.startsWith(gaveUp.last_loss!), notice);
  assert.doesNotMatch(notice, /Restarting/);
  assert.match(ptyHostNotice(statuses[0]!, null)!, /Restarting it/);
});

test('hosts that start but die within the window: the sixth loss is not restarted', async (t) => {
  const hosts: ReturnType<typeof fakeHost>[] = [];
  const { clock, first, starts, statuses } = supervise(t, async () => {
    const h = fakeHost();
    hosts.push(h);
    clock.schedule(10 * SECOND, h.die); // up 10 s, then gone
    return h.client;
  });
  first.die();
  await clock.advance(5 * 11 * SECOND);
  assert.equal(starts.length, 5);
  const last = statuses.at(-1)!;
  assert.equal(last.restarts, 5);
  assert.equal(last.connected, false);
  assert.match(last.last_loss!, /5 restarts tried in 180 s \(last: the PTY host \(pid \d+\) stopped\)/);
  assert.match(last.last_loss!, /not restarting it/);
  // Each loss started a fresh schedule: every restart came 1 s after its loss.
  assert.deepEqual(
    clock.waits,
    [1, 1, 1, 1, 1].map((s) => s * SECOND),
  );
  await clock.advance(DAY);
  assert.equal(starts.length, 5);
  assert.equal(clock.pending, 0);
});

test('a host that stays up longer than the window has the whole budget again: one that dies daily is never given up on', async (t) => {
  for (const uptime of [180 * SECOND + 1, DAY]) {
    const { clock, first, starts, statuses } = supervise(t, async () => {
      const h = fakeHost();
      clock.schedule(uptime, h.die);
      return h.client;
    });
    first.die();
    await clock.advance(20 * (uptime + SECOND)); // 20 losses, four times the budget
    assert.equal(starts.length, 20, `uptime ${uptime} ms`);
    assert.ok(
      statuses.every((s) => !s.last_loss?.includes('not restarting')),
      `never given up (uptime ${uptime} ms)`,
    );
    assert.equal(statuses.at(-1)!.restarts, 20);
  }
});

test('failed starts after a long uptime: the old restarts are forgotten, the new ones count', async (t) => {
  let fail = false;
  const { clock, first, starts, statuses } = supervise(t, async () => {
    if (fail) throw new Error('broken binary');
    const h = fakeHost();
    clock.schedule(200 * SECOND, h.die);
    return h.client;
  });
  first.die();
  await clock.advance(4 * 201 * SECOND); // four restarts, each host up longer than the window
  assert.equal(starts.length, 4);
  fail = true;
  await clock.advance(201 * SECOND + 31 * SECOND);
  // Five more attempts (not one: the four before are outside the window), then the give-up.
  assert.equal(starts.length, 9);
  assert.match(statuses.at(-1)!.last_loss!, /5 restarts tried .*broken binary.*not restarting/);
  assert.equal(clock.pending, 0);
});

test('dispose or shutdown during a backoff wait: nothing is started and no timer is left', async (t) => {
  for (const stop of ['dispose', 'shutdown'] as const) {
    const { host, clock, first, starts } = supervise(t, failing());
    first.die();
    await clock.advance(500);
    assert.equal(clock.pending, 1, 'waiting to restart');
    if (stop === 'dispose') host.dispose();
    else await host.shutdown();
    assert.equal(clock.pending, 0, `${stop} cancels the wait`);
    await clock.advance(DAY);
    assert.deepEqual(starts, [], `${stop}: no start`);
  }
});

// ---- Real host processes ------------------------------------------------------------------------

/** The real clock, with the supervisor's requested waits recorded. */
function recordingClock() {
  const waits: number[] = [];
  const clock: NonNullable<SupervisedHostOptions['clock']> = {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      waits.push(ms);
      return setTimeout(fn, ms);
    },
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
  return { waits, clock };
}

async function realHost(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t, 'autodev-backoff-');
  const logs: string[] = [];
  const base: HostLaunchOptions = {
    dataDir: dir,
    clientName: 'backoff test',
    logger: createLogger({ level: 'debug', sink: (l) => logs.push(l) }),
    startTimeoutMs: 8000,
  };
  const client = await startHost(base);
  return { dir, base, client, logs };
}

test('a real host killed while its binary is gone: three starts that fail, after 50, 100, 200 ms, then the give-up says why', async (t) => {
  const { dir, base, client } = await realHost(t);
  const first = client.welcome.pid;
  const { waits, clock } = recordingClock();
  const host = new SupervisedPtyHost(client, {
    ...base,
    command: { file: path.join(dir, 'no-such-autodev'), args: [] },
    maxRestarts: 3,
    backoffBaseMs: 50,
    clock,
  });
  t.after(() => host.dispose());
  process.kill(first, 'SIGKILL');
  const status = await until(
    () => (host.status.last_loss?.includes('not restarting') ? host.status : null),
    8000,
    'the give-up',
  );
  assert.deepEqual(waits, [50, 100, 200]);
  assert.equal(status.connected, false);
  assert.equal(status.restarts, 0);
  assert.match(
    status.last_loss!,
    /3 restarts tried in 180 s \(last: the PTY host could not be started \(spawn .*no-such-autodev ENOENT\)\)/,
  );
  assert.ok(!pidAlive(first));
});

test('real host processes that fail twice at start, then start: the supervisor waits, retries, and is back', async (t) => {
  const { dir, base, client } = await realHost(t);
  const first = client.welcome.pid;
  const counter = path.join(dir, 'attempts');
  writeFileSync(counter, '0');
  // The real host, except that its first two starts exit 1 (`--data-dir DIR` comes as "$@").
  const script = `n=$(cat '${counter}'); echo $((n+1)) > '${counter}'; [ "$n" -ge 2 ] || exit 1; exec '${process.execPath}' '${path.join(root, 'src-main/core/pty-host/host-entry.ts')}' "$@"`;
  const { waits, clock } = recordingClock();
  const host = new SupervisedPtyHost(client, {
    ...base,
    command: { file: '/bin/sh', args: ['-c', script, 'sh'] },
    backoffBaseMs: 50,
    clock,
  });
  t.after(() => host.shutdown(true));
  const events: PtyHostStatus[] = [];
  host.onDidChangeStatus((s) => events.push(s));
  process.kill(first, 'SIGKILL');
  const status = await until(
    () => (host.status.connected && host.status.restarts > 0 ? host.status : null),
    8000,
    'the host back',
  );
  assert.deepEqual(waits, [50, 100, 200]);
  assert.equal(status.restarts, 1);
  assert.notEqual(status.pid, first);
  assert.equal(hostPid(dir), status.pid);
  assert.deepEqual(await host.list(), [], 'the new host answers');
  assert.deepEqual(
    events.map((e) => [e.connected, e.restarts]),
    [
      [false, 0],
      [true, 1],
    ],
  );
});

test('a host that closes the connection during hello (one being killed): connect fails at once, no 5 s timer left', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-hello-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'host.sock');
  const server = createServer((c) => c.once('data', () => c.destroy()));
  await new Promise<void>((r) => server.listen(socket, r));
  t.after(() => server.close());
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const started = Date.now();
  await assert.rejects(
    PtyHostClient.connect(
      { pid: process.pid, protocol: 1, host_version: 'x', socket, secret: 'x'.repeat(64), started_at: 'x' },
      { logger: createLogger({ level: 'error', sink: () => {} }), client: 'test' },
    ),
    /closed the connection/,
  );
  assert.ok(Date.now() - started < 2000);
  // (The supervisor probes a lost host this way; a pending hello timer kept a process alive 5 s.)
  assert.equal(timers(), before);
});
