import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, startTestServer, until } from '../server/harness.ts';

/**
 * Issue 12, resume after a reboot: a session of an earlier run whose agent reported its conversation id
 * offers Resume; `POST /cli/sessions/{id}/resume` starts the provider's resume argv in the same folder,
 * linked to the old session. A fake agent that prints its argv and folder stands in for claude.
 */
test('resume: the right argv in the right folder, linked to the old session; refused with the reason otherwise', async (t) => {
  const ts = await startTestServer(t, {
    providers: {
      resumer: {
        name: 'Resumer',
        // The script itself (#!/usr/bin/env node): resume args come first, as codex's subcommand needs.
        binary: path.join(repoRoot, 'test/fixtures/agents/proc-argv.mjs'),
        interactive_args: ['--interactive'],
        resume_args: ['--resume', '{conversation_id}'],
        stability_ms: 300,
      },
      plain: {
        name: 'Plain',
        binary: process.execPath,
        interactive_args: [path.join(repoRoot, 'test/fixtures/agents/proc-argv.mjs')],
        stability_ms: 300,
      },
    },
  });
  const folder = ts.dataDir;
  const created = await ts.api('POST', '/cli/sessions', {
    body: { cli_tool: 'resumer', name: 'first run', working_directory: folder },
  });
  const id = created.body.session.session_id as string;
  await until(() => ts.core.sessions.get(id)!.last_seq > 0, 10_000, 'the agent started');
  assert.equal(
    (await ts.api('POST', `/cli/sessions/${id}/resume`)).status,
    409,
    'a live session is not resumed',
  );
  await ts.core.sessions.terminate(id);
  // As after a reboot: the session is only in the store, with the conversation id its agent reported.
  ts.core.sessions.remove(id);
  ts.core
    .database!.db.prepare('UPDATE cli_sessions SET conversation_id = ? WHERE session_id = ?')
    .run('conv-7f3a', id);
  const old = await ts.api('GET', `/cli/sessions/${id}`);
  assert.equal(old.body.resumable, true);

  const resumed = await ts.api('POST', `/cli/sessions/${id}/resume`);
  assert.equal(resumed.status, 201, JSON.stringify(resumed.body));
  const next = resumed.body.session;
  assert.notEqual(next.session_id, id);
  assert.equal(next.resumed_from, id);
  assert.equal(next.conversation_id, 'conv-7f3a');
  assert.equal(next.current_directory, folder);
  assert.equal(next.name, 'first run (resumed)');
  const text = () => (ts.core.sessions.replay(next.session_id, 0) ?? []).map((c) => c.data).join('');
  await until(() => text().includes('cwd='), 10_000, 'the resumed agent printed its argv');
  assert.ok(text().includes('argv=["--resume","conv-7f3a","--interactive"]'), text());
  assert.ok(text().includes(`cwd=${folder}`));
  // The link is stored.
  await ts.core.sessions.terminate(next.session_id);
  ts.core.persistence?.flush();
  assert.equal(ts.core.store!.getSession(next.session_id)?.resumed_from, id);

  // Refusals say why.
  const plain = await ts.api('POST', '/cli/sessions', {
    body: { cli_tool: 'plain', working_directory: folder },
  });
  const plainId = plain.body.session.session_id as string;
  await ts.core.sessions.terminate(plainId);
  const refused = await ts.api('POST', `/cli/sessions/${plainId}/resume`);
  assert.equal(refused.status, 409);
  assert.match(refused.body.error, /cannot resume a conversation/);
  const read = await ts.api('POST', `/cli/sessions/${id}/resume`, { token: await ts.token('read') });
  assert.equal(read.status, 403, 'resuming needs a control token');
});

test('a resume argument that could read as a flag is refused at the boundary', async (t) => {
  const ts = await startTestServer(t);
  const res = await ts.api('POST', '/cli/sessions', {
    body: {
      cli_tool: 'shell',
      resume: { conversation_id: '--dangerously-skip-permissions', from_session_id: 'x' },
    },
  });
  assert.equal(res.status, 400);
  assert.match(res.text, /conversation id/);
});
