import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * `brigade/no-import-cycle`: no file may reach itself through relative imports, type-only ones
 * included. A cycle of types is erased at run time, yet for a reader it is a knot all the same:
 * neither file can be understood first. (import-x/no-cycle leaves type-only imports out.)
 *
 * Each import of the linted file is followed through the files on disk (read once per mtime);
 * the first way back is reported on the import that starts it.
 */

/** The relative imports of a file on disk, resolved, by path and mtime. */
const onDisk = new Map();

function resolveImport(specifier, from) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`])
    if (existsSync(candidate)) return candidate;
  return undefined;
}

function importsOnDisk(file) {
  const mtime = statSync(file).mtimeMs;
  const known = onDisk.get(file);
  if (known && known.mtime === mtime) return known.imports;
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const imports = importedFiles.flatMap(({ fileName }) => resolveImport(fileName, file) ?? []);
  onDisk.set(file, { mtime, imports });
  return imports;
}

/** The shortest way from `start` back to `target` through the files' imports, or undefined. */
function wayBack(start, target) {
  const cameFrom = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const next of importsOnDisk(file)) {
      if (next === target) {
        const way = [file];
        for (let f = cameFrom.get(file); f !== undefined; f = cameFrom.get(f)) way.unshift(f);
        return way;
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

export const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import cycles, type-only imports included' },
    schema: [],
    messages: { cycle: 'import cycle: {{way}}' },
  },
  create(context) {
    const file = resolve(context.filename);
    const check = (node) => {
      const source = node.source;
      if (!source || typeof source.value !== 'string') return;
      const target = resolveImport(source.value, file);
      if (target === undefined) return;
      const way = target === file ? [] : wayBack(target, file);
      if (way === undefined) return;
      const names = [file, ...way, file].map((f) => relative(dirname(file), f) || f);
      context.report({ node: source, messageId: 'cycle', data: { way: names.join(' → ') } });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
    };
  },
};

export default { rules: { 'no-import-cycle': noImportCycle } };
