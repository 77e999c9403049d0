import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layers of docs/plugins.md ("How the code is layered"), checked on the TypeScript sources
 * rather than kept by convention. Each failure names the file and the import that breaks a rule.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Import { from: string; specifier: string; target: string | undefined; typeOnly: boolean }

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every `import … from` / `export … from` / `import('…')` of a file; `target` is the repo path of a relative one. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: Import[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'"]*?)\s*from\s+'([^']+)'/gm;
  for (const match of text.matchAll(statement)) {
    // `import { type A, type B }`: type-only when every name is.
    const names = match[3]!;
    const typeOnly = match[2] !== undefined || (/^\{[^}]*\}$/.test(names.trim()) && names.replace(/[{}\s]/g, '').split(',').filter(Boolean).every((n) => n.startsWith('type')));
    found.push(resolveImport(file, match[4]!, typeOnly));
  }
  for (const match of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(resolveImport(file, match[1]!, false));
  return found;
}

/** The package's own entries, imported by name (self-reference through package.json "exports"). */
const PACKAGE_ENTRIES: Readonly<Record<string, string>> = { s3backer: 'src/index.ts', 's3backer/plugins': 'plugins/index.ts', 's3backer/conformance': 'test/conformance/index.ts' };

function resolveImport(file: string, specifier: string, typeOnly: boolean): Import {
  const target = specifier.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts') : PACKAGE_ENTRIES[specifier];
  return { from: file, specifier, target, typeOnly };
}

const ALL = [...sources('src'), ...sources('plugins'), ...sources('test/conformance')];
const IMPORTS = ALL.flatMap(importsOf);
const describe = (i: Import) => `${i.from} imports '${i.specifier}'`;
const inside = (path: string | undefined, ...dirs: string[]) => path !== undefined && dirs.some((dir) => path.startsWith(dir));

/** Node built-ins that reach the outside world or do the vendors' work: never in the engine. */
const ENGINE_FORBIDDEN_BUILTINS = /^node:(zlib|crypto|child_process|fs|fs\/promises|net|http|https|tls|dgram|worker_threads)$/;

test('the engine imports no vendor, no CLI, no front end, no plugin, and config types only', () => {
  const offending = IMPORTS.filter((i) => inside(i.from, 'src/engine/')).filter((i) => {
    if (i.target === undefined) return i.specifier !== 'tapable' && (!i.specifier.startsWith('node:') || ENGINE_FORBIDDEN_BUILTINS.test(i.specifier));
    if (!i.specifier.startsWith('.')) return true; // the package's own public entries: the engine is below them
    if (inside(i.target, 'src/engine/', 'src/errors/')) return false;
    return !(i.typeOnly && (i.target === 'src/config/resolved-config.ts' || i.target === 'src/config/options.ts'));
  });
  assert.deepEqual(offending.map(describe), []);
});

test('the error registry stands alone', () => {
  const offending = IMPORTS.filter((i) => inside(i.from, 'src/errors/') && i.target !== undefined && !inside(i.target, 'src/errors/'));
  assert.deepEqual(offending.map(describe), []);
});

test('built-in plugins and the conformance suites use the public API only, by the package name (`s3backer`), as a third party does', () => {
  const offending = IMPORTS.filter((i) => inside(i.from, 'plugins/', 'test/conformance/') && inside(i.target, 'src/') && i.specifier !== 's3backer');
  assert.deepEqual(offending.map(describe), []);
  const conformanceReach = IMPORTS.filter((i) => inside(i.from, 'test/conformance/') && inside(i.target, 'plugins/') && !/^plugins\/[^/]+\/index\.ts$|^plugins\/index\.ts$/.test(i.target!));
  assert.deepEqual(conformanceReach.map(describe), [], 'the conformance suites reach plugins through their index only');
});

test('config, engine, errors and front ends never import the plugins or the CLI (the option-to-plugin wiring lives in src/cli)', () => {
  const offending = IMPORTS.filter((i) => inside(i.from, 'src/config/', 'src/engine/', 'src/errors/', 'src/frontends/') && inside(i.target, 'plugins/', 'src/cli/'));
  assert.deepEqual(offending.map(describe), []);
});

function cyclesOf(imports: readonly Import[]): string[] {
  const graph = new Map<string, string[]>();
  for (const i of imports) {
    if (i.target === undefined) continue;
    graph.set(i.from, [...(graph.get(i.from) ?? []), i.target]);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);
  return cycles;
}

test('no import cycles among the modules that load at run time', () => {
  assert.deepEqual(cyclesOf(IMPORTS.filter((i) => !i.typeOnly)), []);
});

test('no import cycles between directories even counting type-only imports (ResolvedConfig no longer names the engine\'s plugin type)', () => {
  // An interface and its implementations in one folder may name each other; across folders it is a layering knot.
  const crossing = cyclesOf(IMPORTS).filter((cycle) => new Set(cycle.split(' → ').map((file) => dirname(file))).size > 1);
  assert.deepEqual(crossing, []);
});

test('the checks above can see a violation (they parse what they claim to)', () => {
  const engine = IMPORTS.filter((i) => i.from === 'src/engine/engine.ts');
  assert.ok(engine.some((i) => i.specifier === 'tapable'), 'a package import');
  assert.ok(engine.some((i) => i.typeOnly && i.target === 'src/config/resolved-config.ts'), 'a type-only import resolved to its file');
  assert.ok(IMPORTS.some((i) => i.from === 'src/cli/main.ts' && !i.typeOnly && i.target === 'src/cli/commands/mount.ts'), 'a dynamic import');
  assert.ok(IMPORTS.some((i) => i.from === 'plugins/memory/memory-store.ts' && i.specifier === 's3backer' && i.target === 'src/index.ts'), 'an import by the package name, resolved to the entry');
});
