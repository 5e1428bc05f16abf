/**
 * `npm run check:imports`: fails on an import that goes the wrong way between the layers, or on an
 * import cycle (type-only imports count: they couple modules just the same).
 *
 *   src/core      pure TypeScript: imports only src/core (and npm packages)
 *   src/storage   the IndexedDB layer: src/core, src/storage
 *   src/runtime   browser runtime shared by workers and the page: src/core, src/storage, src/runtime,
 *                 and the workers' protocols (workers/*-api.ts)
 *   workers       comlink adapters: anything above, never src/app
 *   src/app       the Svelte UI: src/core, src/storage, src/runtime, src/app, and workers/*-api.ts only
 *   src/node      Node-side helpers of the core: src/core, src/node
 *   scripts       CLIs: anything but src/app and test/ (the protocol test servers of test/servers excepted)
 *   test          anything
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const SOURCE = /\.(ts|mts|svelte)$/;
const SKIP = new Set(['node_modules', 'dist', 'test-results', 'fixtures', '.git']);

type Layer = 'core' | 'storage' | 'runtime' | 'workers' | 'app' | 'node' | 'scripts' | 'test' | 'config';

function layerOf(file: string): Layer {
  const rel = path.relative(root, file).split(path.sep).join('/');
  if (rel.startsWith('src/core/')) return 'core';
  if (rel.startsWith('src/storage/')) return 'storage';
  if (rel.startsWith('src/runtime/')) return 'runtime';
  if (rel.startsWith('src/node/')) return 'node';
  if (rel.startsWith('src/')) return 'app';
  if (rel.startsWith('workers/')) return 'workers';
  if (rel.startsWith('scripts/')) return 'scripts';
  if (rel.startsWith('test/')) return 'test';
  return 'config';
}

const isProtocol = (file: string) => layerOf(file) === 'workers' && file.endsWith('-api.ts');

/** Why `from` may not import `to`, or null when it may. */
function violation(from: string, to: string): string | null {
  const a = layerOf(from);
  const b = layerOf(to);
  switch (a) {
    case 'core':
      return b === 'core' ? null : 'src/core imports only src/core';
    case 'storage':
      return b === 'core' || b === 'storage' ? null : 'src/storage imports only src/core and src/storage';
    case 'runtime':
      return b === 'core' || b === 'storage' || b === 'runtime' || isProtocol(to)
        ? null
        : 'src/runtime imports src/core, src/storage, src/runtime and workers/*-api.ts';
    case 'workers':
      return b === 'app' || b === 'test' || b === 'scripts' ? 'workers never import src/app, test or scripts' : null;
    case 'app':
      if (b === 'workers') return isProtocol(to) ? null : 'src/app imports from workers/ only the *-api.ts protocols';
      return b === 'test' || b === 'scripts' || b === 'node'
        ? 'src/app imports src/core, src/storage, src/runtime and src/app'
        : null;
    case 'node':
      return b === 'core' || b === 'node' ? null : 'src/node imports only src/core and src/node';
    case 'scripts': {
      const testServer = path.relative(root, to).split(path.sep).join('/').startsWith('test/servers/');
      return (b === 'test' && !testServer) || b === 'app'
        ? 'scripts never import src/app, nor test/ other than test/servers'
        : null;
    }
    default:
      return null;
  }
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) sourceFiles(full, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Every module specifier a file names: static imports and re-exports (type-only included), and dynamic imports. */
export function importSpecifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  // Comments may quote imports (as this file's header does); strip them first.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]!);
  return found;
}

function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const bare = specifier.replace(/\?.*$/, '');
  const target = path.resolve(path.dirname(from), bare);
  for (const candidate of [target, `${target}.ts`, path.join(target, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next form
    }
  }
  return null;
}

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.reverse());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function main(): void {
  const files = ['src', 'workers', 'scripts', 'test'].flatMap((d) => sourceFiles(path.join(root, d)));
  const graph = new Map<string, string[]>();
  const problems: string[] = [];
  const rel = (f: string) => path.relative(root, f);
  for (const file of files) {
    const targets: string[] = [];
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      // Unresolved: a package, or an import inside generated code (a template string); tsc checks real ones.
      const target = resolve(file, specifier);
      if (!target) continue;
      targets.push(target);
      const why = violation(file, target);
      if (why) problems.push(`${rel(file)} -> ${rel(target)}: ${why}`);
    }
    graph.set(file, targets);
  }
  for (const component of cycles(graph))
    problems.push(`import cycle: ${component.map(rel).join(' -> ')} -> ${rel(component[0]!)}`);
  if (problems.length > 0) {
    console.error(
      `check-imports: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    process.exit(1);
  }
  console.log(`check-imports: ${files.length} files, layers respected, no import cycles`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
