#!/usr/bin/env node
// Bundles the preload into ONE CommonJS file (dist/preload/preload.cjs): a sandboxed preload can
// `require('electron')` but no local modules, so src-shared and the bridge are inlined.
// Usage: node src-preload/build.mjs [--out-dir <dir>]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out-dir');
const outDir = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(root, 'dist', 'preload');

await build({
  configFile: false,
  root,
  logLevel: 'warn',
  publicDir: false,
  build: {
    outDir,
    emptyOutDir: true,
    target: 'chrome140',
    minify: true,
    sourcemap: false,
    copyPublicDir: false,
    lib: {
      entry: path.join(root, 'src-preload', 'preload.ts'),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
console.log(`[preload] built ${path.relative(root, path.join(outDir, 'preload.cjs'))}`);
