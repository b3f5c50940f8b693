/**
 * The import graph of our own modules (src/, workers/), for the architecture tests: every
 * `import`, `export … from` and `import()` between our files, type-only ones included (a type
 * import still ties two modules' concepts together). Svelte components count by their scripts.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export type Graph = Map<string, Set<string>>;

const SOURCE = /\.(ts|svelte)$/;
const EXTENSIONS = ['', '.ts', '.js', '.svelte', '/index.ts'];

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function scriptOf(path: string): string {
  const text = readFileSync(path, 'utf8');
  if (!path.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

/** Resolves a specifier written in `from` to one of our files (repo-relative), or undefined for packages. */
export function resolveSpecifier(root: string, from: string, spec: string): string | undefined {
  let base: string;
  if (spec.startsWith('$lib/')) base = join(root, 'src/lib', spec.slice(5));
  else if (spec.startsWith('.')) base = resolve(dirname(join(root, from)), spec);
  else return undefined;
  for (const ext of EXTENSIONS) {
    const p = base + ext;
    if (existsSync(p) && statSync(p).isFile()) return relative(root, p);
  }
  return undefined;
}

/** Builds the graph of every module under `dirs` (repo-relative) and what of ours it imports. */
export function importGraph(root: string, dirs: readonly string[]): Graph {
  const graph: Graph = new Map();
  for (const dir of dirs) {
    for (const abs of walk(join(root, dir), [])) {
      const file = relative(root, abs);
      const deps = new Set<string>();
      for (const ref of ts.preProcessFile(scriptOf(abs), true, true).importedFiles) {
        const target = resolveSpecifier(root, file, ref.fileName);
        if (target && target !== file) deps.add(target);
      }
      graph.set(file, deps);
    }
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan): each is an import cycle. */
export function cycles(graph: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}
