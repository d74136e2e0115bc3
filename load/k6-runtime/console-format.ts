/**
 * k6's console line (internal/js/console.go, `log`/`valueString`/`traverseValue`, k6 v2.2.0): the arguments
 * joined with one space, no printf-style substitution; strings and numbers as they are at the top level;
 * functions `[object Function]`; Errors by their string; objects `{ k: v, ... }` and arrays `[ a, b ]` with
 * nested strings quoted, null/undefined as `null`, circular references `[Circular]`, Dates as a quoted ISO
 * string, ArrayBuffers and typed arrays with their bytes/elements.
 */
export function k6ConsoleLine(args: unknown[]): string {
  return args.map(valueString).join(' ');
}

function valueString(v: unknown): string {
  if (typeof v === 'function') return '[object Function]';
  if (v instanceof Error) return String(v);
  if (v === null || typeof v !== 'object') return String(v);
  return traverse(v, new Set());
}

function traverse(v: unknown, seen: Set<object>): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'function') return '[object Function]';
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v !== 'object') return String(v);
  if (seen.has(v)) return '[Circular]';
  if (v instanceof Error) return String(v);
  if (v instanceof ArrayBuffer) {
    const bytes = [...new Uint8Array(v)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return `ArrayBuffer { [Uint8Contents]: <${bytes}>, byteLength: ${v.byteLength} }`;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const items = Array.from(v as unknown as ArrayLike<number>, String);
    return `${v.constructor.name}(${items.length})${items.length === 0 ? ' []' : ` [ ${items.join(', ')} ]`}`;
  }
  seen.add(v);
  try {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[ ${Array.from({ length: v.length }, (_, i) => traverse(v[i], seen)).join(', ')} ]`;
    }
    const keys = Object.keys(v);
    if (keys.length === 0) return v instanceof Date ? `"${v.toISOString()}"` : '{}';
    return `{ ${keys.map((k) => `${k}: ${traverse((v as Record<string, unknown>)[k], seen)}`).join(', ')} }`;
  } finally {
    seen.delete(v);
  }
}
