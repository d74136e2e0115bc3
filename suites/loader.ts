/**
 * Reads suite files: YAML with positions, validated by the zod schema, every problem reported as
 * `FILE:LINE:COL: message` (YAML syntax, unknown keys with a "did you mean", wrong types, missing
 * fields, manifest paths that do not exist).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import { isScalar, LineCounter, parseAllDocuments, visit } from '#yaml';
import { isSameOrInside, realPathLoose } from '../common/output-dir.ts';
import { SuiteSchema, type Suite } from './schema.ts';
import { problemsFromIssues, type Position, type PositionFinder } from './issues.ts';
import { positionFinder } from './positions.ts';

export interface SuiteProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  /** The first MAX_PROBLEMS problems, in file order. */
  problems: SuiteProblem[];
  /** How many more problems there were (not listed). */
  more?: number;
}

/** Input bounds: a suite is a small hand-written file, anything else is refused in one line. */
export const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 * 1024;
/** Nesting deeper than this (mappings and lists) is refused before the YAML parser recurses into it. */
export const MAX_NESTING = 64;
/** Problems listed at most; the rest are counted ("and N more"). */
export const MAX_PROBLEMS = 50;
/** Echoed text (values, keys) in a message is cut to this many characters. */
const MAX_MESSAGE = 400;

export interface LoadOptions {
  /** Size cap for suite and manifest files (default PD_HARNESS_MAX_INPUT_BYTES, else 4 MiB). */
  maxBytes?: number;
  /**
   * Paths outside the suite's repository that deploy/apply/script paths may resolve into (default: the
   * PD_HARNESS_ALLOW_OUTSIDE list, separated like PATH; `--allow-outside` sets it).
   */
  allowOutside?: readonly string[];
}

function maxBytesFrom(opts: LoadOptions): number {
  if (opts.maxBytes !== undefined) return opts.maxBytes;
  const env = Number(process.env.PD_HARNESS_MAX_INPUT_BYTES);
  return Number.isFinite(env) && env > 0 ? env : DEFAULT_MAX_INPUT_BYTES;
}

function allowOutsideFrom(opts: LoadOptions): string[] {
  if (opts.allowOutside) return [...opts.allowOutside];
  return (process.env.PD_HARNESS_ALLOW_OUTSIDE ?? '').split(':').filter(Boolean);
}

export interface LoadedSuite {
  /** The parsed suite; durations are milliseconds and file paths (deploy, apply, script) are absolute. */
  suite: Suite;
  /** The path as given. */
  file: string;
  /** Absolute directory of the suite file: relative paths in it are resolved from here. */
  dir: string;
}

/** Thrown by loadSuite: its message holds one `FILE:LINE:COL: message` line per problem. */
export class SuiteValidationError extends Error {
  /** `more`: problems found beyond the listed ones (the list is capped). */
  constructor(
    readonly problems: SuiteProblem[],
    readonly more = 0,
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'SuiteValidationError';
  }
}

export function formatProblem(p: SuiteProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${printable(p.message, MAX_MESSAGE)}`;
}

/** The lines `validate` prints: each problem, then `FILE: and N more problems` when some were left out. */
export function formatProblems(file: string, result: ValidationResult): string[] {
  const lines = result.problems.map(formatProblem);
  if (result.more) lines.push(`${printable(file, MAX_MESSAGE)}: and ${result.more} more problem${result.more === 1 ? '' : 's'}`);
  return lines;
}

/** Text safe to echo on one terminal line: control, bidi and other invisible characters escaped, cut to `max`. */
export function printable(text: string, max: number): string {
  const escaped = text.replace(
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]/g,
    (c) => {
      const code = c.charCodeAt(0);
      return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

type Outcome = { ok: true; loaded: LoadedSuite } | { ok: false; problems: SuiteProblem[] };

/** Validates a suite file without throwing. A missing file is a problem at 1:1. */
export function validateSuiteFile(file: string, opts: LoadOptions = {}): ValidationResult {
  return toResult(readSuite(file, opts));
}

/** Loads a valid suite or throws SuiteValidationError. */
export function loadSuite(file: string, opts: LoadOptions = {}): LoadedSuite {
  const outcome = readSuite(file, opts);
  if (!outcome.ok) {
    const r = toResult(outcome);
    throw new SuiteValidationError(r.problems, r.more ?? 0);
  }
  return outcome.loaded;
}

/** Validates suite text as if it were the file `file` (relative paths are checked from its directory). */
export function validateSuiteText(file: string, text: string, opts: LoadOptions = {}): ValidationResult {
  return toResult(checkText(file, text, opts));
}

function toResult(outcome: Outcome): ValidationResult {
  if (outcome.ok) return { ok: true, problems: [] };
  const problems = outcome.problems.slice(0, MAX_PROBLEMS);
  const more = outcome.problems.length - problems.length;
  return { ok: false, problems, ...(more > 0 ? { more } : {}) };
}

/** The `*.suite.yaml` / `*.suite.yml` files in a directory, sorted. */
export function listSuiteFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.suite\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function readSuite(file: string, opts: LoadOptions): Outcome {
  const read = readInputFile(file, maxBytesFrom(opts), 'suite file');
  if (!read.ok) return { ok: false, problems: [{ file, line: 1, col: 1, message: read.message }] };
  return checkText(file, read.text, opts);
}

/**
 * Reads a suite or manifest file within bounds: a regular file (a FIFO, a device such as /dev/zero or a
 * directory is refused without opening it, so nothing hangs), at most `maxBytes` (read no further, so a
 * file that lies about its size cannot grow memory), UTF-8 text (UTF-16 and binary are refused).
 */
export function readInputFile(file: string, maxBytes: number, what: string): { ok: true; text: string } | { ok: false; message: string } {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      message: code === 'ENOENT' || code === 'ENOTDIR' ? 'file not found' : `cannot read file (${code ?? (err as Error).message})`,
    };
  }
  if (st.isDirectory()) return { ok: false, message: `is a directory, not a ${what}` };
  if (!st.isFile())
    return {
      ok: false,
      message: `is not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'a special file'}): give a ${what} on disk`,
    };
  if (st.size > maxBytes) return { ok: false, message: tooBig(st.size, maxBytes, what) };
  const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size + 1, 64 * 1024)));
  let length = 0;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    for (;;) {
      if (length === buf.length) break;
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
  } catch (err) {
    return { ok: false, message: `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (length > maxBytes) return { ok: false, message: tooBig(length, maxBytes, what) };
  return decodeText(buf.subarray(0, length), what);
}

function tooBig(size: number, max: number, what: string): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MiB`;
  return `is ${mib(size)}, over the ${mib(max)} limit for a ${what} (raise it with PD_HARNESS_MAX_INPUT_BYTES)`;
}

/** UTF-8 text (a BOM is dropped); UTF-16/32 (by BOM or NUL pattern) and binary (NUL bytes, invalid UTF-8) are refused. */
export function decodeText(buf: Buffer, what: string): { ok: true; text: string } | { ok: false; message: string } {
  if (
    (buf[0] === 0xff && buf[1] === 0xfe) ||
    (buf[0] === 0xfe && buf[1] === 0xff) ||
    (buf.length >= 4 &&
      (buf[0] === 0 || buf[1] === 0) &&
      buf.subarray(0, 64).includes(0) &&
      buf.subarray(0, 64).filter((b) => b === 0).length * 3 >= Math.min(buf.length, 64))
  ) {
    return { ok: false, message: `is UTF-16 or UTF-32 encoded: save the ${what} as UTF-8` };
  }
  if (buf.includes(0)) return { ok: false, message: `holds binary data (NUL bytes), not YAML text` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return { ok: false, message: `is not valid UTF-8 text: save the ${what} as UTF-8` };
  }
  return { ok: true, text: text.startsWith('\ufeff') ? text.slice(1) : text };
}

/**
 * A cheap, linear look at how deep the YAML nests, before the parser (which recurses) sees it: block
 * nesting by indentation and `- ` markers, flow nesting by brackets outside quotes.
 */
export function nestingTooDeep(text: string, max = MAX_NESTING): { line: number } | undefined {
  let flow = 0;
  let line = 1;
  let lineStart = true;
  let column = 0;
  let dashes = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = true;
      column = 0;
      dashes = 0;
      if (quote === "'" || quote === '"') continue; // multi-line quoted scalars
      continue;
    }
    if (lineStart) {
      if (c === ' ' || c === '\t') {
        column++;
        if (column > 4 * max) return { line };
        continue;
      }
      if (c === '-' && (text[i + 1] === ' ' || text[i + 1] === '\n' || text[i + 1] === undefined)) {
        dashes++;
        column++;
        if (dashes > max || column > 4 * max) return { line };
        continue;
      }
      lineStart = false;
    }
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if ((c === '"' || c === "'") && (i === 0 || /[\s,[{:]/.test(text[i - 1]!))) quote = c;
    else if (c === '[' || c === '{') {
      if (++flow > max) return { line };
    } else if ((c === ']' || c === '}') && flow > 0) flow--;
  }
  return undefined;
}

function checkText(file: string, text: string, opts: LoadOptions = {}): Outcome {
  const at = (pos: Position, message: string): SuiteProblem => ({ file, line: pos.line, col: pos.col, message });
  const deep = nestingTooDeep(text);
  if (deep)
    return {
      ok: false,
      problems: [
        at(
          { line: deep.line, col: 1 },
          `nesting deeper than ${MAX_NESTING} levels: a suite is not nested that deep (is this the right file?)`,
        ),
      ],
    };
  try {
    return checkParsed(file, text, opts, at);
  } catch (err) {
    if (err instanceof RangeError)
      return { ok: false, problems: [at({ line: 1, col: 1 }, `nesting too deep to read (${firstLine(err.message)})`)] };
    throw err;
  }
}

function checkParsed(file: string, text: string, opts: LoadOptions, at: (pos: Position, message: string) => SuiteProblem): Outcome {
  const lineCounter = new LineCounter();
  // uniqueKeys is checked below in linear time (the parser's own check is quadratic in the keys of a map)
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true });
  const posOf = (offset: number): Position => lineCounter.linePos(offset);

  // parseAllDocuments returns an EmptyStream (an empty array with extras) for text without documents.
  const list = Array.isArray(docs) ? docs : [docs];
  const withContent = list.filter((d) => d.contents !== null || d.errors.length > 0);
  if (withContent.length === 0) return { ok: false, problems: [at({ line: 1, col: 1 }, 'empty suite file')] };
  if (withContent.length > 1) {
    const second = withContent[1]!;
    const offset = second.range?.[0] ?? 0;
    return { ok: false, problems: [at(posOf(offset), 'more than one YAML document: put one suite per file')] };
  }
  const doc = withContent[0]!;
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => at(posOf(e.pos[0]), `YAML syntax error: ${firstLine(e.message)}`)),
    };
  }
  const duplicates: SuiteProblem[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) duplicates.push(at(posOf(pair.key.range?.[0] ?? 0), 'YAML syntax error: Map keys must be unique'));
        seen.add(key);
      }
    },
  });
  if (duplicates.length > 0) return { ok: false, problems: duplicates };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { ok: false, problems: [at({ line: 1, col: 1 }, `YAML error: ${firstLine((err as Error).message)}`)] };
  }
  if (data === null || data === undefined) return { ok: false, problems: [at({ line: 1, col: 1 }, 'empty suite file')] };

  const find: PositionFinder = positionFinder(doc, lineCounter);
  const dir = resolve(dirname(file));
  const problems: SuiteProblem[] = [];

  const parsed = SuiteSchema.safeParse(data, { error: () => DEFAULT_MESSAGE });
  if (!parsed.success) {
    for (const p of problemsFromIssues(parsed.error.issues, data, find, DEFAULT_MESSAGE)) problems.push(at(p.pos, p.message));
  }
  const boundary = suiteRepository(dir);
  const allowed = [boundary, ...HARNESS_DIRS, ...allowOutsideFrom(opts).map((p) => realPathLoose(p))];
  for (const ref of fileReferences(data)) {
    const abs = resolve(dir, ref.value);
    // outside first, from the path alone where it can: whether an outside path exists is never revealed
    if (!allowed.some((root) => isSameOrInside(abs, root))) {
      problems.push(
        at(
          find(ref.path, 'value'),
          `${ref.what} path ${ref.value} resolves outside the suite's repository (${boundary}): keep it inside, or allow it with --allow-outside PATH`,
        ),
      );
      continue;
    }
    if (!existsSync(abs)) {
      problems.push(at(find(ref.path, 'value'), `${ref.what} not found: ${ref.value} (paths are relative to the suite file's directory)`));
      continue;
    }
    const bad = checkReferencedFile(abs, maxBytesFrom(opts), ref.what);
    if (bad) problems.push(at(find(ref.path, 'value'), `${ref.what} ${ref.value}: ${bad}`));
  }
  if (problems.length > 0 || !parsed.success) {
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, problems };
  }
  return { ok: true, loaded: { suite: resolvePaths(parsed.data, dir), file, dir } };
}

/** pd-harness's own manifests and k6 scripts: a suite anywhere may use what the harness ships. */
const HARNESS_ROOT = packageRoot(import.meta.url);
const HARNESS_DIRS = ['manifests', 'k6'].map((d) => realPathLoose(join(HARNESS_ROOT, d)));

/** The repository a suite belongs to: the nearest directory up from it with a `.git`, else the suite's own directory. */
export function suiteRepository(dir: string): string {
  const real = realPathLoose(dir);
  for (let d = real; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return d;
    if (dirname(d) === d) return real;
  }
}

/** A manifest file (or each file of a manifest directory) within bounds; a problem text, or undefined. */
function checkReferencedFile(abs: string, maxBytes: number, what: string): string | undefined {
  const st = statSync(abs);
  if (st.isDirectory()) {
    for (const name of readdirSync(abs)) {
      if (!/\.(ya?ml|json)$/.test(name)) continue;
      const sub = statSync(join(abs, name), { throwIfNoEntry: false });
      if (sub && !sub.isFile() && !sub.isDirectory()) return `${name} is not a regular file`;
      if (sub?.isFile() && sub.size > maxBytes) return `${name} ${tooBig(sub.size, maxBytes, what)}`;
    }
    return undefined;
  }
  if (!st.isFile()) return `is not a regular file (a FIFO or device)`;
  if (st.size > maxBytes) return tooBig(st.size, maxBytes, what);
  return undefined;
}

/** The message zod issues get unless the schema set its own; the issue formatter writes those. */
const DEFAULT_MESSAGE = '\u0000default';

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

interface FileReference {
  path: (string | number)[];
  value: string;
  what: string;
}

/** Paths to files the suite names, read from the raw data so they are checked even when other parts are invalid. */
function fileReferences(data: unknown): FileReference[] {
  const refs: FileReference[] = [];
  const spec = get(data, 'spec');
  const deploy = get(spec, 'deploy');
  if (Array.isArray(deploy)) {
    deploy.forEach((p, i) => {
      if (typeof p === 'string' && p !== '') refs.push({ path: ['spec', 'deploy', i], value: p, what: 'manifest' });
    });
  }
  const setup = get(spec, 'setup');
  if (Array.isArray(setup)) {
    setup.forEach((step, i) => {
      const file = get(get(step, 'apply'), 'file');
      if (typeof file === 'string' && file !== '')
        refs.push({ path: ['spec', 'setup', i, 'apply', 'file'], value: file, what: 'manifest' });
    });
  }
  const script = get(get(spec, 'load'), 'script');
  if (typeof script === 'string' && script !== '') refs.push({ path: ['spec', 'load', 'script'], value: script, what: 'k6 script' });
  return refs;
}

function get(obj: unknown, key: string): unknown {
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)[key] : undefined;
}

function resolvePaths(suite: Suite, dir: string): Suite {
  const abs = (p: string) => resolve(dir, p);
  const spec = suite.spec;
  return {
    ...suite,
    spec: {
      ...spec,
      deploy: spec.deploy.map(abs),
      setup: spec.setup.map((step) => ('apply' in step ? { apply: { ...step.apply, file: abs(step.apply.file) } } : step)),
      ...(spec.load ? { load: { ...spec.load, ...(spec.load.script !== undefined ? { script: abs(spec.load.script) } : {}) } } : {}),
    },
  };
}
