import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { SignalSpec } from '../providers/signal-spec.ts';
import { ensurePrivateDir, writePrivateFile } from './files.ts';

export interface WiringContext {
  sessionId: string;
  mac: string;
  manifest: string;
  /** argv that runs the relay script: [node, relay.cjs]. */
  relayArgv: string[];
  /** This session's folder for `files`. */
  sessionDir: string;
  /** The environment the agent would get without signals (for `{env:NAME}` in merge_from). */
  baseEnv: Record<string, string>;
}

export interface SpawnWiring {
  args: string[];
  env: Record<string, string>;
  files: string[];
}

/** Env every wired agent gets: what the relay needs to find AutoDev and prove which session it is. */
export function relayEnv(ctx: Pick<WiringContext, 'sessionId' | 'mac' | 'manifest'>): Record<string, string> {
  return {
    AUTODEV_SESSION_ID: ctx.sessionId,
    AUTODEV_SIGNAL_MAC: ctx.mac,
    AUTODEV_SIGNAL_MANIFEST: ctx.manifest,
  };
}

/**
 * Expand a provider's SignalSpec for one session: write its files into the session's folder (0600,
 * merged over the user's file where the spec says so) and return the args and env to add. Nothing of
 * the user's own configuration is written.
 */
export function wireSession(spec: SignalSpec, ctx: WiringContext): SpawnWiring {
  const files = new Map<string, string>();
  for (const file of spec.files ?? []) files.set(file.name, path.join(ctx.sessionDir, file.name));
  const expand = (text: string) => expandPlaceholders(text, ctx, files);

  if ((spec.files ?? []).length > 0) ensurePrivateDir(ctx.sessionDir);
  for (const file of spec.files ?? []) {
    let content = expandDeep(file.content, expand);
    const base = readMergeBase(file.merge_from ?? [], ctx.baseEnv);
    if (base !== undefined) content = mergeJson(base, content);
    writePrivateFile(files.get(file.name) as string, `${JSON.stringify(content, null, 2)}\n`);
  }
  const env: Record<string, string> = { ...relayEnv(ctx) };
  for (const [key, value] of Object.entries(spec.env ?? {})) env[key] = expand(value);
  return { args: (spec.args ?? []).map(expand), env, files: [...files.values()] };
}

/** Every existing folder from `dir` up to `/` is owned by root and not writable by group or others
 *  (what an agent that reads only such files checks; folders still to be created are made 0700). */
export function isRootOwnedPath(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(d)) {
      const st = statSync(d);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
    }
    if (d === path.dirname(d)) return true;
  }
}

const PLACEHOLDER =
  /\{(relay|relay_toml|relay_json|file|env):([A-Za-z0-9_.-]+)(?:@([A-Za-z0-9_.-]+))?\}|\{(session_id|session_mac|manifest|dir)\}/g;

export function expandPlaceholders(text: string, ctx: WiringContext, files: Map<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, kind?: string, arg?: string, event?: string, plain?: string) => {
    if (plain === 'session_id') return ctx.sessionId;
    if (plain === 'session_mac') return ctx.mac;
    if (plain === 'manifest') return ctx.manifest;
    if (plain === 'dir') return ctx.sessionDir;
    // `@EVENT`: for agents whose hook payload does not name its event, the relay adds `_event`.
    const argv = [...ctx.relayArgv, '--source', arg as string, ...(event ? ['--event', event] : [])];
    switch (kind) {
      case 'relay':
        return argv.map(shellQuote).join(' ');
      case 'relay_toml':
        return `[${argv.map(tomlString).join(', ')}]`;
      case 'relay_json':
        return JSON.stringify(argv);
      case 'file':
        return files.get(arg as string) ?? whole;
      case 'env':
        return ctx.baseEnv[arg as string] ?? '';
      default:
        return whole;
    }
  });
}

function expandDeep(value: unknown, expand: (s: string) => string): unknown {
  if (typeof value === 'string') return expand(value);
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, expand));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandDeep(v, expand)]));
  }
  return value;
}

/** The first merge_from candidate that exists and holds a JSON object (a broken one is skipped). */
function readMergeBase(candidates: string[], env: Record<string, string>): unknown {
  for (const candidate of candidates) {
    const file = candidate
      .replace(/\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? '')
      .replace(/^~(?=\/|$)/, env.HOME ?? homedir());
    if (file === '' || !path.isAbsolute(file) || !existsSync(file)) continue;
    try {
      const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // not JSON: not ours to fix; try the next one
    }
  }
  return undefined;
}

/** Objects merge key by key, arrays concatenate (base first), anything else: ours wins. */
export function mergeJson(base: unknown, ours: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(ours)) return [...base, ...ours];
  if (isObject(base) && isObject(ours)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(ours))
      out[key] = key in out ? mergeJson(out[key], value) : value;
    return out;
  }
  return ours;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function tomlString(s: string): string {
  return JSON.stringify(s); // a TOML basic string accepts JSON's escapes for what paths contain
}
