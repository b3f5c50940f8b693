import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { cycles, importGraph, type Graph } from './import-graph';

// DESIGN.md §2: the core is built in floors. codec is the ground floor and imports nothing of
// ours; crypto stands on codec; wire (the app's messages) on both. Nothing may form an import
// cycle anywhere in src/ or workers/, type-only imports included.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const graph = importGraph(ROOT, ['src', 'workers']);

const FLOORS: Record<string, readonly string[]> = {
  'src/lib/codec/': ['src/lib/codec/'],
  'src/lib/crypto/': ['src/lib/codec/', 'src/lib/crypto/'],
  'src/lib/wire/': ['src/lib/codec/', 'src/lib/crypto/', 'src/lib/wire/']
};

function floorViolations(g: Graph): string[] {
  const out: string[] = [];
  for (const [file, deps] of g) {
    const floor = Object.keys(FLOORS).find((f) => file.startsWith(f));
    if (!floor) continue;
    for (const d of deps) if (!FLOORS[floor]!.some((ok) => d.startsWith(ok))) out.push(`${file} -> ${d}`);
  }
  return out;
}

describe('architecture', () => {
  test('the graph covers the tree (sanity: the core and the engine are in it)', () => {
    expect(graph.size).toBeGreaterThan(150);
    expect(graph.get('src/lib/crypto/session.ts')).toContain('src/lib/crypto/session-state.ts');
    expect(graph.get('workers/engine/inbox.ts')?.size).toBeGreaterThan(5);
  });

  test('no import cycle in src/ or workers/', () => {
    expect(cycles(graph)).toEqual([]);
  });

  test('codec imports nothing of ours; crypto only codec; wire only codec and crypto', () => {
    expect(floorViolations(graph)).toEqual([]);
  });

  test('the cycle check finds a planted cycle, type-only edges included', () => {
    const planted: Graph = new Map(graph);
    planted.set('src/lib/crypto/session-state.ts', new Set([...graph.get('src/lib/crypto/session-state.ts')!, 'src/lib/crypto/session.ts']));
    expect(cycles(planted)).toEqual([['src/lib/crypto/session-state.ts', 'src/lib/crypto/session.ts']]);
  });

  test('the floor check finds a planted upward import', () => {
    const planted: Graph = new Map(graph);
    planted.set('src/lib/codec/bytes.ts', new Set(['src/lib/crypto/primitives.ts']));
    planted.set('src/lib/crypto/hkdf.ts', new Set(['src/lib/wire/content.ts']));
    expect(floorViolations(planted)).toEqual(['src/lib/codec/bytes.ts -> src/lib/crypto/primitives.ts', 'src/lib/crypto/hkdf.ts -> src/lib/wire/content.ts']);
  });
});
