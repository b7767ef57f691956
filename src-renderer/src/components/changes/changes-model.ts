import type { ChangedFile, ChangeStatus } from '../../../../src-shared/worktrees.ts';

/** Pure helpers of the Changes panel (tested without a browser). */

export type DiffViewType = 'unified' | 'split';

/** Prism (refractor) language of a file, by extension or name; null when none fits. */
const BY_EXTENSION: Record<string, string> = {
  ts: 'typescript',
  tsx: 'tsx',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'jsx',
  mjs: 'javascript',
  cjs: 'javascript',
  json: 'json',
  md: 'markdown',
  css: 'css',
  scss: 'scss',
  less: 'less',
  html: 'markup',
  xml: 'markup',
  svg: 'markup',
  py: 'python',
  rb: 'ruby',
  go: 'go',
  rs: 'rust',
  java: 'java',
  kt: 'kotlin',
  swift: 'swift',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  php: 'php',
  sh: 'bash',
  bash: 'bash',
  zsh: 'bash',
  yml: 'yaml',
  yaml: 'yaml',
  toml: 'ini',
  ini: 'ini',
  sql: 'sql',
  lua: 'lua',
  pl: 'perl',
  r: 'r',
};
const BY_NAME: Record<string, string> = { Makefile: 'makefile', Dockerfile: 'bash', '.env': 'bash' };

export function languageFor(path: string): string | null {
  const name = path.split('/').pop() ?? path;
  if (BY_NAME[name]) return BY_NAME[name];
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? null;
}

const LETTERS: Record<ChangeStatus, string> = {
  added: 'A',
  modified: 'M',
  deleted: 'D',
  renamed: 'R',
  copied: 'C',
  type_changed: 'T',
};

export function statusLetter(status: ChangeStatus): string {
  return LETTERS[status];
}

/** "+12 −3" (binary files say so). */
export function counts(file: Pick<ChangedFile, 'additions' | 'deletions' | 'binary'>): string {
  return file.binary ? 'binary' : `+${file.additions} −${file.deletions}`;
}

/** The path a diff block is about, as react-diff-view's parser names it (new path, else old). */
export function diffPath(file: { newPath: string; oldPath: string; type: string }): string {
  return file.type === 'delete' ? file.oldPath : file.newPath;
}

export function shortCommit(commit: string): string {
  return commit.slice(0, 8);
}

const VIEW_KEY = 'autodev.changes.view';

export function loadViewType(storage: Pick<Storage, 'getItem'> | null): DiffViewType {
  try {
    return storage?.getItem(VIEW_KEY) === 'split' ? 'split' : 'unified';
  } catch {
    return 'unified';
  }
}

export function saveViewType(storage: Pick<Storage, 'setItem'> | null, view: DiffViewType): void {
  try {
    storage?.setItem(VIEW_KEY, view);
  } catch {
    // private mode: the choice lasts for this view only
  }
}

/** Whether a provider is an agent (edits on its own) and so gets a worktree by default: data, not ids. */
export function isAgentProvider(p: { supports_full_access: boolean; supports_one_shot: boolean }): boolean {
  return p.supports_full_access || p.supports_one_shot;
}
