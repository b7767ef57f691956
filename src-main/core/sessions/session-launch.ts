import { statSync } from 'node:fs';
import type { CreateSessionOptions, SessionState } from '../../../src-shared/session.ts';
import { loginShellPath } from '../providers/login-path.ts';
import type { HostExit, PtyHost } from '../pty-host/types.ts';
import { buildAgentEnv } from './agent-env.ts';
import { ProcessPoolError, SessionCoreError } from './errors.ts';
import { bootId } from './process-tree.ts';
import { resumeArgs } from './resume.ts';
import type { OutputTuning, SessionManagerOptions } from './session-options.ts';
import { nowIso, type SessionRecord, stateReason } from './session-record.ts';
import { resolveSetupFile, setupEnvironment, setupFailure } from './setup-step.ts';
import type { ManagerLimits, PreparedSession } from './types.ts';

/** What starting a session needs from the manager. */
export interface LaunchContext {
  readonly options: SessionManagerOptions;
  readonly host: PtyHost;
  readonly output: OutputTuning;
  readonly limits: ManagerLimits;
  /** The session could not start: `error`, with the reason. */
  fail(rec: SessionRecord, error: SessionCoreError, rule: string): void;
  /** Only the state reason changed (a set-up command runs). */
  reasonChanged(rec: SessionRecord, previous: SessionState): void;
  /** The agent runs: announce the spawn, move to `starting`. */
  spawned(rec: SessionRecord): void;
}

/**
 * Starting a session: the binary on the login-shell PATH, the working directory, the filtered
 * environment, the optional set-up command (run first, in the session's PTY), then the agent with its
 * provider's arguments (resume, full access, the signals' wiring) in the PTY host.
 */
export async function startSession(
  ctx: LaunchContext,
  rec: SessionRecord,
  options: CreateSessionOptions,
  setup?: PreparedSession['setup'],
): Promise<void> {
  const resolved = await ctx.options.providers.resolveBinary(rec.provider.id);
  if (rec.ended) return; // terminated while resolving
  if (!resolved.path) {
    ctx.fail(
      rec,
      new SessionCoreError(
        resolved.error ?? `${rec.provider.binary} is not installed or not on PATH`,
        'BINARY_NOT_FOUND',
      ),
      'binary-missing',
    );
    return;
  }
  const cwd = rec.info.current_directory;
  if (!isDirectory(cwd)) {
    ctx.fail(
      rec,
      new ProcessPoolError(`working directory ${cwd} does not exist or is not a directory`),
      'bad-cwd',
    );
    return;
  }
  const source = ctx.options.env ?? process.env;
  const loginPath = await (
    ctx.options.loginPath ?? (async () => (await loginShellPath({ env: source })).path)
  )().catch(() => null);
  const env = buildAgentEnv({
    sessionId: rec.info.session_id,
    providerEnvKeys: rec.provider.env_keys,
    overrides: options.env,
    source,
    loginPath,
  });
  if (rec.endAs) return; // terminated while resolving
  if (setup) {
    // The set-up command first, in this session's PTY; create() does not wait for it (it can take
    // minutes). The agent starts when it succeeds.
    const file = resolved.path;
    void runSetup(ctx, rec, setup, cwd, setupEnvironment(env, rec.provider.env_keys), options)
      .then((ok) => (ok ? spawnAgent(ctx, rec, options, file, cwd, env) : undefined))
      .catch((error) =>
        ctx.fail(rec, new ProcessPoolError(`spawn failed: ${(error as Error).message}`), 'spawn-failed'),
      );
    return;
  }
  await spawnAgent(ctx, rec, options, resolved.path, cwd, env);
}

function hostOutput(output: OutputTuning) {
  return {
    batchMs: output.batchMs,
    maxBatchChars: output.maxBatchChars,
    retainChars: output.ringChars,
    highWatermark: output.highWatermark,
    lowWatermark: output.lowWatermark,
  };
}

/** Runs the set-up command in the host under the session's id; false when it failed (the session is
 *  then in `error`) or the session was ended meanwhile. */
async function runSetup(
  ctx: LaunchContext,
  rec: SessionRecord,
  setup: NonNullable<PreparedSession['setup']>,
  cwd: string,
  env: Record<string, string>,
  options: CreateSessionOptions,
): Promise<boolean> {
  const id = rec.info.session_id;
  rec.info.state_reason = stateReason('lifecycle', `running the set-up command ${setup.label}`, 'setup');
  ctx.reasonChanged(rec, rec.info.state);
  const exited = new Promise<HostExit>((resolve) => {
    rec.setup = { done: resolve };
  });
  try {
    const [file = '', ...args] = setup.argv;
    await ctx.host.spawn({
      session_id: id,
      file: resolveSetupFile(file, env['PATH']),
      args,
      cwd,
      env,
      cols: options.cols,
      rows: options.rows,
      provider: rec.provider,
      output: hostOutput(ctx.output),
      first_seq: rec.pipeline.lastSeq + 1,
    });
  } catch (error) {
    rec.setup = null;
    if (!rec.ended)
      ctx.fail(
        rec,
        new ProcessPoolError(`set-up command ${setup.label} could not start: ${(error as Error).message}`),
        'setup-failed',
      );
    return false;
  }
  rec.log.info('set-up started', { argv: setup.argv, cwd });
  const exit = await exited;
  rec.setup = null;
  ctx.host.release(id);
  if (rec.ended || rec.endAs) return false;
  const failure = setupFailure(setup.label, exit);
  if (failure === null) {
    rec.log.info('set-up finished', { label: setup.label });
    return true;
  }
  ctx.fail(rec, new ProcessPoolError(failure), 'setup-failed');
  return false;
}

async function spawnAgent(
  ctx: LaunchContext,
  rec: SessionRecord,
  options: CreateSessionOptions,
  file: string,
  cwd: string,
  env: Record<string, string>,
): Promise<void> {
  // ── signals: this session's hook/notify wiring (args such as `--settings <file>`, relay env) ──
  const wired = ctx.options.signals?.prepareSpawn({
    sessionId: rec.info.session_id,
    provider: rec.provider,
    env,
  });
  if (wired) Object.assign(env, wired.env);
  const args = [
    ...(options.resume ? resumeArgs(rec.provider, options.resume.conversation_id) : []),
    ...rec.provider.interactive_args,
    ...(options.full_access ? rec.provider.full_access_args : []),
    ...(wired?.args ?? []),
  ];
  if (rec.endAs || rec.ended) return; // terminated meanwhile
  const spawned = await ctx.host.spawn({
    session_id: rec.info.session_id,
    file,
    args,
    cwd,
    env,
    cols: options.cols,
    rows: options.rows,
    provider: rec.provider,
    output: hostOutput(ctx.output),
    // After a set-up command's output, numbering goes on.
    first_seq: rec.pipeline.lastSeq + 1,
  });
  if (rec.ended) {
    // Terminated while the host was spawning: nothing may outlive the session.
    void ctx.host
      .kill(rec.info.session_id, ctx.limits.terminate_grace_ms)
      .finally(() => ctx.host.release(rec.info.session_id));
    return;
  }
  rec.spawned = true;
  rec.startedAtMs = Date.now();
  rec.info.pid = spawned.pid;
  rec.info.started_at = nowIso();
  rec.spawn = {
    session_id: rec.info.session_id,
    pid: spawned.pid,
    // node-pty's spawn helper calls setsid(): the agent leads its own session and group.
    pgid: spawned.pid,
    start_ticks: spawned.start_ticks,
    boot_id: spawned.boot_id || bootId(),
    at: rec.info.started_at,
  };
  rec.log.info('spawned', { pid: spawned.pid, binary: file, args, cwd });
  ctx.spawned(rec);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
