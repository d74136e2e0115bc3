/**
 * Reads suite files: YAML with positions, validated by the zod schema, every problem reported as
 * `FILE:LINE:COL: message` (YAML syntax, unknown keys with a "did you mean", wrong types, missing
 * fields, manifest paths that do not exist).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
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
  problems: SuiteProblem[];
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
  constructor(readonly problems: SuiteProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'SuiteValidationError';
  }
}

export function formatProblem(p: SuiteProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

type Outcome = { ok: true; loaded: LoadedSuite } | { ok: false; problems: SuiteProblem[] };

/** Validates a suite file without throwing. A missing file is a problem at 1:1. */
export function validateSuiteFile(file: string): ValidationResult {
  const outcome = readSuite(file);
  return outcome.ok ? { ok: true, problems: [] } : { ok: false, problems: outcome.problems };
}

/** Loads a valid suite or throws SuiteValidationError. */
export function loadSuite(file: string): LoadedSuite {
  const outcome = readSuite(file);
  if (!outcome.ok) throw new SuiteValidationError(outcome.problems);
  return outcome.loaded;
}

/** Validates suite text as if it were the file `file` (relative paths are checked from its directory). */
export function validateSuiteText(file: string, text: string): ValidationResult {
  const outcome = checkText(file, text);
  return outcome.ok ? { ok: true, problems: [] } : { ok: false, problems: outcome.problems };
}

/** The `*.suite.yaml` / `*.suite.yml` files in a directory, sorted. */
export function listSuiteFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.suite\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function readSuite(file: string): Outcome {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a suite file' : `cannot read file (${code ?? (err as Error).message})`;
    return { ok: false, problems: [{ file, line: 1, col: 1, message: why }] };
  }
  return checkText(file, text);
}

function checkText(file: string, text: string): Outcome {
  const at = (pos: Position, message: string): SuiteProblem => ({ file, line: pos.line, col: pos.col, message });
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
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
  for (const ref of fileReferences(data)) {
    if (!existsSync(resolve(dir, ref.value))) {
      problems.push(at(find(ref.path, 'value'), `${ref.what} not found: ${ref.value} (paths are relative to the suite file's directory)`));
    }
  }
  if (problems.length > 0 || !parsed.success) {
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, problems };
  }
  return { ok: true, loaded: { suite: resolvePaths(parsed.data, dir), file, dir } };
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
      if (typeof file === 'string' && file !== '') refs.push({ path: ['spec', 'setup', i, 'apply', 'file'], value: file, what: 'manifest' });
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
