export type { WorktreeRef } from './changes.ts';
export { listFiles, WorktreeError } from './errors.ts';
export { createGit, type Git, GitError } from './git.ts';
export {
  createMemoryRegistry,
  createSqliteRegistry,
  type WorktreeRecord,
  type WorktreeRegistry,
} from './registry.ts';
export { type EndSessionOutcome, WorktreeService, type WorktreeServiceOptions } from './service.ts';
