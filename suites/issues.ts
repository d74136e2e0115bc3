/**
 * Turns zod issues into short human messages with a position: unknown keys with "did you mean",
 * missing fields at their parent object, wrong types with what was found, union errors narrowed to
 * the branch the user was writing.
 */
import { closest, distance } from 'fastest-levenshtein';
import type { z } from '#zod';
import { SuiteSchema } from './schema.ts';

export type PathSegment = string | number;
export interface Position {
  line: number;
  col: number;
}
export type PositionTarget = 'value' | 'key' | 'object';
export type PositionFinder = (path: readonly PathSegment[], target: PositionTarget) => Position;

export interface PositionedMessage {
  pos: Position;
  message: string;
}

type Issue = z.core.$ZodIssue;

/**
 * Formats issues from `SuiteSchema.safeParse(data, { error: () => defaultMessage })`: issues whose
 * message is `defaultMessage` are described here, the schema's own messages are kept.
 */
export function problemsFromIssues(
  issues: readonly Issue[],
  data: unknown,
  find: PositionFinder,
  defaultMessage: string,
  schema: z.ZodType = SuiteSchema,
): PositionedMessage[] {
  const out: PositionedMessage[] = [];
  const flat = flattenUnions(issues, [], data, defaultMessage);
  const unknownKeyPaths = new Set(flat.filter((i) => i.code === 'unrecognized_keys').map((i) => pathKey(i.path)));
  for (const issue of flat) {
    // "expected one of patch, apply, ..." says nothing new next to "unknown key pach (did you mean patch?)".
    // Likewise a rule about which keys go together: the typo is the likely cause, so report only it.
    if (issue.code === 'custom' && unknownKeyPaths.has(pathKey(issue.path))) continue;
    out.push(...describe(issue, data, find, defaultMessage, schema));
  }
  return dedupe(out);
}

function describe(issue: Issue, data: unknown, find: PositionFinder, dflt: string, schema: z.ZodType): PositionedMessage[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as PathSegment[];
  const custom = issue.message !== dflt;
  const at = (target: PositionTarget, message: string, p: readonly PathSegment[] = path) => ({ pos: find(p, target), message });
  const value = valueAt(data, path);

  if (value === undefined && path.length > 0 && issue.code !== 'unrecognized_keys' && issue.code !== 'custom') {
    const parent = path.slice(0, -1);
    const name = path[path.length - 1]!;
    if (typeof name === 'number') return [at('object', `missing list item ${name} ${where(parent)}`, parent)];
    return [at('object', `missing required field "${name}" ${where(parent)}`, parent)];
  }

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, path, data);
      return issue.keys.map((key) =>
        at('key', `unknown key ${quoted(key)} ${where(path)}${key.length > 200 ? '' : suggestion(key, allowed)}`, [...path, key]),
      );
    }
    case 'invalid_type': {
      if (custom) return [at('value', `${label(path)}: ${issue.message}${gotSuffix(value)}`)];
      if (path.length === 0)
        return [at('value', `a suite file holds a mapping with apiVersion, kind, metadata and spec, got ${typeName(value)}`)];
      return [at('value', `${label(path)}: expected ${expectedName(issue.expected)}, got ${typeName(value)}`)];
    }
    case 'invalid_value': {
      if (custom) return [at('value', `${label(path)}: ${issue.message}`)];
      const options = issue.values.map((v) => JSON.stringify(v));
      const hint =
        typeof value === 'string'
          ? suggestion(
              value,
              issue.values.filter((v): v is string => typeof v === 'string'),
            )
          : '';
      const expected = options.length === 1 ? options[0] : `one of ${options.join(', ')}`;
      return [
        at(
          'value',
          `${label(path)}: expected ${expected}, got ${typeof value === 'string' ? quoted(value) : (JSON.stringify(value) ?? typeName(value))}${hint}`,
        ),
      ];
    }
    case 'too_small':
    case 'too_big':
      return [at('value', `${label(path)}: ${custom ? issue.message : sizeMessage(issue)}`)];
    case 'invalid_union': {
      const literals = issue.errors.flat().flatMap((i) => (i.code === 'invalid_value' && i.path.length === 0 ? i.values : []));
      const hint =
        typeof value === 'string'
          ? suggestion(
              value,
              literals.filter((v): v is string => typeof v === 'string'),
            )
          : '';
      const message = custom ? issue.message : 'does not match any allowed form';
      return [at('value', `${label(path)}: ${message}, got ${shortValue(value)}${hint}`)];
    }
    case 'invalid_format':
      return [at('value', `${label(path)}: ${custom ? issue.message : `invalid ${issue.format}`}`)];
    default:
      return [at('value', `${label(path)}: ${custom ? issue.message : 'invalid value'}`)];
  }
}

/**
 * Replaces a union issue by the issues of the branch the input was meant for: the branch whose
 * problems are all inside the value (the value's shape matched). Otherwise the union issue stays.
 */
function flattenUnions(issues: readonly Issue[], prefix: readonly PathSegment[], data: unknown, dflt: string): Issue[] {
  const out: Issue[] = [];
  for (const raw of issues) {
    const issue = { ...raw, path: [...prefix, ...raw.path] } as Issue;
    if (issue.code !== 'invalid_union') {
      out.push(issue);
      continue;
    }
    const branches = issue.errors.filter(
      (branch) => branch.length > 0 && branch.every((i) => i.path.length > 0 && i.code !== 'unrecognized_keys'),
    );
    const best = branches.sort((a, b) => a.length - b.length)[0];
    if (best) out.push(...flattenUnions(best, issue.path as PathSegment[], data, dflt));
    else out.push(issue);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// keys a schema allows at a path, for "did you mean"

interface ZodLike {
  _zod: { def: Record<string, unknown> & { type: string } };
}

function candidates(schema: ZodLike): ZodLike[] {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return candidates(def.innerType as ZodLike);
    case 'pipe':
      return candidates(def.in as ZodLike);
    case 'lazy':
      return candidates((def.getter as () => ZodLike)());
    case 'union':
      return (def.options as ZodLike[]).flatMap(candidates);
    default:
      return [schema];
  }
}

function step(schema: ZodLike, seg: PathSegment): ZodLike[] {
  const def = schema._zod.def;
  if (def.type === 'object') {
    const shape = def.shape as Record<string, ZodLike>;
    return typeof seg === 'string' && Object.hasOwn(shape, seg) ? [shape[seg]!] : [];
  }
  if (def.type === 'array') return typeof seg === 'number' ? [def.element as ZodLike] : [];
  if (def.type === 'record') return [def.valueType as ZodLike];
  return [];
}

/** Keys of the object schemas that can sit at `path`. */
export function allowedKeys(schema: z.ZodType, path: readonly PathSegment[], _data?: unknown): string[] {
  let current = candidates(schema as unknown as ZodLike);
  for (const seg of path) current = current.flatMap((s) => step(s, seg)).flatMap(candidates);
  const keys = new Set<string>();
  for (const s of current) if (s._zod.def.type === 'object') for (const k of Object.keys(s._zod.def.shape as object)) keys.add(k);
  return [...keys];
}

// ---------------------------------------------------------------------------------------------
// wording

/** ` (did you mean "concurrency"?)` for a near miss, else ''. */
export function suggestion(word: string, options: readonly string[]): string {
  if (options.length === 0) return '';
  const lower = word.toLowerCase();
  const exactCase = options.find((o) => o.toLowerCase() === lower);
  if (exactCase) return ` (did you mean "${exactCase}"?)`;
  const best = closest(
    lower,
    options.map((o) => o.toLowerCase()),
  );
  const d = distance(lower, best);
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  if (d > limit) return '';
  const original = options.find((o) => o.toLowerCase() === best)!;
  return ` (did you mean "${original}"?)`;
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function where(path: readonly PathSegment[]): string {
  return path.length === 0 ? 'at the top level' : `in ${formatPath(path)}`;
}

function label(path: readonly PathSegment[]): string {
  return path.length === 0 ? 'suite' : formatPath(path);
}

function expectedName(expected: string): string {
  const names: Record<string, string> = {
    int: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'a mapping (key: value)',
    array: 'a list',
    record: 'a mapping (key: value)',
    null: 'null',
  };
  return names[expected] ?? expected;
}

/** A string as echoed in a message: JSON-quoted (control characters escaped), cut to 60 characters. */
function quoted(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 59)}…` : s);
}

function typeName(value: unknown): string {
  if (value === null) return 'null (an empty value)';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the number ${value}`;
  if (typeof value === 'string') return `the string ${quoted(value)}`;
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function shortValue(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return typeName(value);
}

function gotSuffix(value: unknown): string {
  return `, got ${typeName(value)}`;
}

function sizeMessage(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const small = issue.code === 'too_small';
  const bound = small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'array':
    case 'set':
      return small ? `needs at least ${bound} item${bound === 1 ? '' : 's'}` : `takes at most ${bound} item${bound === 1 ? '' : 's'}`;
    case 'string':
      if (small && Number(bound) === 1) return 'must not be empty';
      return small ? `needs at least ${bound} characters` : `takes at most ${bound} characters`;
    default:
      if (small) return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
      return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
  }
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let node = data;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

function dedupe(messages: PositionedMessage[]): PositionedMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    const k = `${m.pos.line}:${m.pos.col}:${m.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
