/**
 * Loads a renderer module by computed URL. The renderer is its own TypeScript project (DOM lib, JSX);
 * static imports from here would pull its files into the Node project's program (TS6307), so tests
 * import at run time and declare the shapes they use.
 */
import { enableTsx } from './tsx.ts';

export async function loadRenderer<T>(relative: string): Promise<T> {
  if (relative.endsWith('.tsx')) enableTsx();
  const url = new URL(`../../../src-renderer/src/${relative}`, import.meta.url);
  return (await import(url.href)) as T;
}
