/** Maps a path in the parsed data (`['spec', 'load', 'requests']`) to a line:col in the YAML text. */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from '#yaml';
import type { PathSegment, Position, PositionFinder, PositionTarget } from './issues.ts';

/**
 * Returns a finder for one document. `value` points at the value at the path, `key` at its key (for
 * unknown keys), `object` at the node itself (for a missing field: the parent object). When the path
 * runs past what the text holds (a defaulted field), the deepest node that exists is used.
 */
export function positionFinder(doc: Document, lineCounter: LineCounter): PositionFinder {
  // key -> pair per mapping, built once: a lookup per problem stays O(depth), not O(keys) (64k unknown keys)
  const index = new WeakMap<object, Map<string, unknown>>();
  const pairOf = (map: { items: unknown[] }, key: string): unknown => {
    let m = index.get(map);
    if (!m) {
      m = new Map();
      for (const p of map.items) if (isPair(p) && isScalar(p.key) && !m.has(String(p.key.value))) m.set(String(p.key.value), p);
      index.set(map, m);
    }
    return m.get(key);
  };
  const posOf = (offset: number | undefined): Position => lineCounter.linePos(offset ?? 0);
  return (path: readonly PathSegment[], target: PositionTarget): Position => {
    let node: unknown = doc.contents;
    let keyNode: Node | undefined;
    let lastPos = posOf(rangeStart(node));
    for (const seg of path) {
      node = resolveAlias(node, doc);
      let next: unknown;
      keyNode = undefined;
      if (isMap(node)) {
        const pair = pairOf(node, String(seg));
        if (!pair || !isPair(pair)) return lastPos;
        keyNode = pair.key as Node;
        next = pair.value;
        // `key:` with no value has no value node: point at the key.
        lastPos = posOf(isEmptyScalar(next) ? rangeStart(keyNode) : (rangeStart(next) ?? rangeStart(keyNode)));
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
        if (next === undefined) return lastPos;
        lastPos = posOf(rangeStart(next));
      } else {
        return lastPos;
      }
      node = next;
    }
    if (target === 'key' && keyNode) return posOf(rangeStart(keyNode));
    return lastPos;
  };
}

function resolveAlias(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range?.[0];
  }
  return undefined;
}

/** The null of `key:` with nothing after it: its range is empty, at the end of the line. */
function isEmptyScalar(node: unknown): boolean {
  if (!isScalar(node) || node.value !== null) return false;
  const range = node.range;
  return !range || range[0] === range[1];
}
