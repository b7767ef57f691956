// Budgets over figures the usage store would give: the daily amount over every session (local day),
// the per-session amount; warn announces once per day / per session, stop also refuses new turns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Budgets } from '../../../src-main/core/usage/budgets.ts';

function figures() {
  const f = {
    day: '2026-12-04',
    days: new Map<string, number>(),
    sessions: new Map<string, number>(),
    dayCost: (day: string) => f.days.get(day) ?? 0,
    sessionCost: (id: string) => f.sessions.get(id) ?? 0,
    today: () => f.day,
  };
  return f;
}

test('daily budget: announced once a day when crossed, again the next day; warn never refuses', () => {
  const f = figures();
  const b = new Budgets({ daily_usd: 5 }, f);
  f.days.set('2026-12-04', 4.99);
  assert.deepEqual(b.check('a'), []);
  f.days.set('2026-12-04', 5.01);
  const [event] = b.check('a');
  assert.deepEqual(event, {
    scope: 'daily',
    action: 'warn',
    limit_usd: 5,
    spent_usd: 5.01,
    session_id: null,
    day: '2026-12-04',
  });
  assert.deepEqual(b.check('b'), [], 'once per day');
  assert.equal(b.refusal('a'), null, 'warn does not stop');
  assert.equal(b.status([]).daily?.exceeded, true);
  // A new day: nothing spent yet, nothing exceeded; crossing again is announced again.
  f.day = '2026-12-05';
  assert.equal(b.status([]).daily?.exceeded, false);
  f.days.set('2026-12-05', 6);
  assert.equal(b.check('a').length, 1);
});

test('stop: past the daily or the session amount a new turn is refused, saying which and how much', () => {
  const f = figures();
  const b = new Budgets({ daily_usd: 10, session_usd: 1, action: 'stop' }, f);
  f.sessions.set('a', 0.5);
  f.days.set('2026-12-04', 0.5);
  assert.equal(b.refusal('a'), null);
  f.sessions.set('a', 1.25);
  f.days.set('2026-12-04', 1.25);
  assert.match(b.refusal('a') ?? '', /^session budget reached: \$1\.25 spent in this session of \$1\.00/);
  assert.equal(b.refusal('b'), null, 'another session is under its amount');
  assert.deepEqual(
    b.check('a').map((e) => [e.scope, e.action, e.session_id]),
    [['session', 'stop', 'a']],
  );
  assert.deepEqual(b.check('a'), [], 'once per session');
  f.days.set('2026-12-04', 10);
  assert.match(b.refusal('b') ?? '', /^daily budget reached: \$10\.00 spent today of \$10\.00/);
  const status = b.status(['a', 'b']);
  assert.equal(status.action, 'stop');
  assert.deepEqual(
    status.sessions.map((s) => s.session_id),
    ['a'],
  );
});

test('no budgets configured: nothing is announced or refused', () => {
  const f = figures();
  const b = new Budgets({}, f);
  f.days.set('2026-12-04', 1e6);
  f.sessions.set('a', 1e6);
  assert.deepEqual(b.check('a'), []);
  assert.equal(b.refusal('a'), null);
  assert.deepEqual(b.status(['a']), { action: 'warn', daily: null, sessions: [], session_limit_usd: null });
});
