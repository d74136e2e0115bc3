// ESLint rule `boundaries/layers`: every relative import must go to a folder its own top-level folder may
// import, as the "Layers" table of docs/architecture.md says. The table is read from the doc itself, so
// the doc and the check cannot drift apart: change the architecture by changing the table.
//
// Table rows: | `folder/` | `other/`, `twin/launcher.ts`, ... | why |
// An entry names a top-level folder (every file in it) or one file. `*` means anything; `-` nothing.
// Files outside every listed folder (e.g. playwright.config.ts) are not checked.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(ROOT, 'docs', 'architecture.md');

/** Parses the Layers table: folder -> allowed targets (folders with a trailing `/`, or files). */
export function readLayers(markdown) {
  const section = /^## Layers\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown);
  if (!section) throw new Error(`${DOC}: no "## Layers" section`);
  const layers = new Map();
  for (const line of section[1].split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length < 2 || !/^`[^`]+\/`$/.test(cells[0])) continue;
    const from = cells[0].slice(1, -2);
    const allowed = [...cells[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    layers.set(from, allowed);
  }
  if (layers.size === 0) throw new Error(`${DOC}: the Layers table has no rows`);
  return layers;
}

/** Whether `target` (a path relative to the root) may be imported from top-level folder `from`. */
export function mayImport(layers, from, target) {
  const to = target.split('/')[0];
  if (to === from) return true;
  const allowed = layers.get(from);
  if (!allowed) return true;
  return allowed.some((a) => a === '*' || (a.endsWith('/') ? to === a.slice(0, -1) : target === a));
}

let cached;
function layers() {
  cached ??= readLayers(readFileSync(DOC, 'utf8'));
  return cached;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the Layers table of docs/architecture.md' },
    schema: [],
    messages: { layer: '{{from}}/ may not import {{target}} (docs/architecture.md, Layers: {{from}}/ may import {{allowed}})' },
  },
  create(context) {
    const file = path.relative(ROOT, context.filename);
    const from = file.split(path.sep)[0];
    if (file.startsWith('..') || !layers().has(from)) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path
        .relative(ROOT, path.resolve(path.dirname(context.filename), spec))
        .split(path.sep)
        .join('/');
      if (mayImport(layers(), from, target)) return;
      context.report({ node, messageId: 'layer', data: { from, target, allowed: layers().get(from).join(', ') || 'nothing else' } });
    };
    return {
      ImportDeclaration: (n) => check(n.source, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n.source, n.source.value),
      ExportAllDeclaration: (n) => check(n.source, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n.source, n.source.value),
    };
  },
};

export default { rules: { layers: rule } };
