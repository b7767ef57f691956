/**
 * Lets tests import the renderer's .tsx components: Node strips types from .ts but does not compile
 * JSX, so .tsx files go through TypeScript's transpiler (react-jsx). Imported with a computed
 * specifier so the Node-side type check does not pull DOM/JSX files into its program.
 */
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import ts from 'typescript';

let registered = false;

export function enableTsx(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    load(url, context, nextLoad) {
      // Stylesheets are Vite's business: under Node a component's CSS import is an empty module.
      if (url.endsWith('.css')) return { format: 'module', source: '', shortCircuit: true };
      if (!url.endsWith('.tsx')) return nextLoad(url, context);
      const source = readFileSync(new URL(url), 'utf8');
      const out = ts.transpileModule(source, {
        fileName: url,
        compilerOptions: {
          jsx: ts.JsxEmit.ReactJSX,
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
      });
      return { format: 'module', source: out.outputText, shortCircuit: true };
    },
  });
}
