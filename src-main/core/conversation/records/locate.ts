import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RecordFormat, RecordSpec } from '../../providers/conversation-spec.ts';

/**
 * Where an agent keeps the record of one conversation. The folders come from the provider's data
 * (`record.roots`, expanded with the agent's own environment); the layout inside is the format's.
 *
 * With the conversation id (reported by the agent's hooks/notify, src-main/core/signals/) the file is
 * found by name. Without it, candidates are the format's files for the session's working directory
 * that were written after the session started: the caller takes one only when it is unambiguous.
 */

export interface AgentEnvironment {
  home: string;
  env: Record<string, string | undefined>;
}

export interface LocateQuery {
  spec: RecordSpec;
  agent: AgentEnvironment;
  conversationId: string | null;
  cwd: string;
  /** Epoch ms the session started (candidates must be written after it). */
  startedAtMs: number;
}

/** The record folders that exist, in the provider's order. */
export function recordRoots(spec: RecordSpec, agent: AgentEnvironment): string[] {
  const out: string[] = [];
  for (const template of spec.roots) {
    let unset = false;
    const expanded = template
      .replace(/\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
        const value = agent.env[name];
        if (value === undefined || value === '') unset = true;
        return value ?? '';
      })
      .replace(/\{home\}/g, agent.home);
    if (unset || !path.isAbsolute(expanded)) continue;
    if (isDir(expanded) && !out.includes(expanded)) out.push(expanded);
  }
  return out;
}

/** The record file of a known conversation id, or null. */
export function locateById(q: LocateQuery & { conversationId: string }): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/.test(q.conversationId)) return null;
  for (const root of recordRoots(q.spec, q.agent)) {
    const found = FORMATS[q.spec.format].byId(root, q.conversationId, q);
    if (found) return found;
  }
  return null;
}

/** Files that could be this session's record (working directory, written since the start). */
export function locateCandidates(q: LocateQuery): string[] {
  const out: string[] = [];
  for (const root of recordRoots(q.spec, q.agent)) out.push(...FORMATS[q.spec.format].candidates(root, q));
  return out;
}

interface FormatLayout {
  byId(root: string, id: string, q: LocateQuery): string | null;
  candidates(root: string, q: LocateQuery): string[];
}

/** Claude Code names a project folder after its path, every non-alphanumeric character a `-`. */
export function claudeProjectDir(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, '-');
}

const claude: FormatLayout = {
  byId(root, id, q) {
    const projects = path.join(root, 'projects');
    const direct = path.join(projects, claudeProjectDir(q.cwd), `${id}.jsonl`);
    if (isFile(direct)) return direct;
    for (const dir of list(projects)) {
      const file = path.join(projects, dir, `${id}.jsonl`);
      if (isFile(file)) return file;
    }
    return null;
  },
  candidates(root, q) {
    const dir = path.join(root, 'projects', claudeProjectDir(q.cwd));
    return list(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => path.join(dir, f))
      .filter((f) => writtenSince(f, q.startedAtMs));
  },
};

/** Codex files its rollouts by local date; a session can run over midnight, so look a day either side. */
function codexDayDirs(root: string, startedAtMs: number): string[] {
  const dirs: string[] = [];
  const day = 24 * 3600_000;
  for (let t = startedAtMs - day; t <= Date.now() + day; t += day) {
    const d = new Date(t);
    const dir = path.join(
      root,
      'sessions',
      String(d.getFullYear()),
      String(d.getMonth() + 1).padStart(2, '0'),
      String(d.getDate()).padStart(2, '0'),
    );
    if (!dirs.includes(dir) && isDir(dir)) dirs.push(dir);
  }
  return dirs;
}

function firstLine(file: string): unknown {
  try {
    const text = readFileSync(file, 'utf8');
    const end = text.indexOf('\n');
    return JSON.parse(end < 0 ? text : text.slice(0, end));
  } catch {
    return null;
  }
}

const codex: FormatLayout = {
  byId(root, id, q) {
    for (const dir of codexDayDirs(root, q.startedAtMs)) {
      const hit = list(dir).find((f) => f.startsWith('rollout-') && f.endsWith(`-${id}.jsonl`));
      if (hit) return path.join(dir, hit);
    }
    return null;
  },
  candidates(root, q) {
    const out: string[] = [];
    for (const dir of codexDayDirs(root, q.startedAtMs)) {
      for (const f of list(dir)) {
        if (!f.startsWith('rollout-') || !f.endsWith('.jsonl')) continue;
        const file = path.join(dir, f);
        if (!writtenSince(file, q.startedAtMs)) continue;
        const meta = firstLine(file) as {
          type?: string;
          payload?: { cwd?: string; timestamp?: string };
        } | null;
        if (meta?.type !== 'session_meta' || meta.payload?.cwd !== q.cwd) continue;
        const started = Date.parse(meta.payload.timestamp ?? '');
        if (Number.isFinite(started) && started < q.startedAtMs - 5_000) continue; // a resumed older thread
        out.push(file);
      }
    }
    return out;
  },
};

/** Gemini CLI's per-project temp folders: a short name from projects.json, or the sha256 of the root. */
function geminiProjectDirs(root: string, cwd: string): string[] {
  const tmp = path.join(root, 'tmp');
  const dirs = [path.join(tmp, createHash('sha256').update(cwd).digest('hex'))];
  try {
    const registry = JSON.parse(readFileSync(path.join(root, 'projects.json'), 'utf8')) as {
      projects?: Record<string, string>;
    };
    const short = registry.projects?.[cwd];
    if (typeof short === 'string' && /^[^/\\]+$/.test(short)) dirs.unshift(path.join(tmp, short));
  } catch {}
  return dirs.filter(isDir);
}

const gemini: FormatLayout = {
  byId(root, id, q) {
    const short = id.slice(0, 8);
    const tmp = path.join(root, 'tmp');
    const dirs = [...geminiProjectDirs(root, q.cwd), ...list(tmp).map((d) => path.join(tmp, d))];
    for (const dir of dirs) {
      const chats = path.join(dir, 'chats');
      for (const f of list(chats)) {
        if (!f.startsWith('session-') || !(f.endsWith(`-${short}.jsonl`) || f.endsWith(`-${short}.json`)))
          continue;
        const file = path.join(chats, f);
        const head = firstHeader(file);
        if (head === id) return file;
      }
    }
    return null;
  },
  candidates(root, q) {
    const out: string[] = [];
    for (const dir of geminiProjectDirs(root, q.cwd)) {
      const chats = path.join(dir, 'chats');
      for (const f of list(chats)) {
        if (!f.startsWith('session-') || !/\.jsonl?$/.test(f)) continue;
        const file = path.join(chats, f);
        if (writtenSince(file, q.startedAtMs) && !out.includes(file)) out.push(file);
      }
    }
    return out;
  },
};

function firstHeader(file: string): string | null {
  if (file.endsWith('.json')) {
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { sessionId?: unknown };
      return typeof doc.sessionId === 'string' ? doc.sessionId : null;
    } catch {
      return null;
    }
  }
  const head = firstLine(file) as { sessionId?: unknown } | null;
  return typeof head?.sessionId === 'string' ? head.sessionId : null;
}

const FORMATS: Record<RecordFormat, FormatLayout> = {
  'claude-jsonl': claude,
  'codex-rollout': codex,
  'gemini-chat': gemini,
};

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Modified at or after the session's start (one second of clock slack: mtimes are coarse on some FSs). */
function writtenSince(file: string, startedAtMs: number): boolean {
  try {
    return statSync(file).mtimeMs >= startedAtMs - 1000;
  } catch {
    return false;
  }
}
