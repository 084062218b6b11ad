/**
 * The layout ARCHITECTURE.md describes, checked: every capability in the registry has its folders, the
 * bindings have no runtime import cycle (type-only imports are erased and do not count), and no source
 * file outgrows one subject.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative modules `file` needs at run time: imports and re-exports that are not type-only. */
function runtimeImports(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const deps: string[] = [];
  for (const node of src.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) spec = node.moduleSpecifier;
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly) {
      spec = node.moduleSpecifier;
    }
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) {
      deps.push(path.resolve(path.dirname(file), spec.text.replace(/\.js$/, '.ts')));
    }
  }
  return deps;
}

/** One runtime import cycle among `files`, or undefined. */
function findCycle(files: string[]): string[] | undefined {
  const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | undefined => {
    state.set(f, 'open');
    stack.push(f);
    for (const dep of graph.get(f) ?? []) {
      if (state.get(dep) === 'open') return [...stack.slice(stack.indexOf(dep)), dep];
      if (!state.has(dep)) {
        const cycle = visit(dep);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(f, 'done');
    return undefined;
  };
  for (const f of files) {
    if (!state.has(f)) {
      const cycle = visit(f);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

describe('layout', () => {
  const bindings = sourceFiles(path.join(ROOT, 'bindings'));

  it('has no runtime import cycle in bindings/', () => {
    const cycle = findCycle(bindings);
    expect(cycle?.map((f) => path.relative(ROOT, f)).join(' → ')).toBeUndefined();
  });

  it('the cycle detector sees a runtime cycle and ignores a type-only one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gencore-layout-'));
    try {
      const [a, b, c] = ['a.ts', 'b.ts', 'c.ts'].map((f) => path.join(dir, f));
      writeFileSync(a, "import { b } from './b.js';\nexport const a = () => b;\n");
      writeFileSync(b, "import { a } from './a.js';\nexport const b = () => a;\n");
      writeFileSync(c, "import type { a } from './a.js';\nimport { type b } from './b.js';\nexport const c = 1;\n");
      expect(findCycle([a, b])?.map((f) => path.basename(f))).toEqual(['a.ts', 'b.ts', 'a.ts']);
      expect(runtimeImports(c)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives every registered capability its binding, test and doc, and every kernel folder a capability', () => {
    const registry = readFileSync(path.join(ROOT, 'bindings', 'registry.ts'), 'utf8');
    const names = [...registry.matchAll(/from '\.\/(\w+)\/index\.js'/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(6);
    for (const name of names) {
      for (const where of [`bindings/${name}/index.ts`, `tests/${name}`, `docs/${name}.md`]) {
        expect(existsSync(path.join(ROOT, where)), where).toBe(true);
      }
    }
    // Kernels shared by every capability (the heap base, the trap hook) live in runtime/.
    const kernelFolders = readdirSync(path.join(ROOT, 'assembly', 'kernels')).filter((d) => d !== 'runtime');
    expect(kernelFolders.filter((d) => !names.includes(d))).toEqual([]);
  });

  it('keeps hand-written source files to one subject (≤ 660 lines)', () => {
    const generated = new Set([path.join(ROOT, 'bindings', 'wasm', 'kernels.ts')]);
    const files = [...bindings, ...sourceFiles(path.join(ROOT, 'assembly'))].filter((f) => !generated.has(f));
    const long = files
      .map((f) => [path.relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 660);
    expect(long).toEqual([]);
  });
});
