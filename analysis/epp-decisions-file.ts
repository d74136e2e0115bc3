/**
 * `epp-decisions` on a log file: the file is read in large pieces straight into the marker scan (only lines
 * with a marker are decoded), and a large file is split into byte ranges at line starts, counted by worker
 * threads side by side (one range on this thread) and merged — the same counts as one pass over the file.
 */
import { availableParallelism } from 'node:os';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  type AnalyzeOptions,
  type CounterState,
  COUNT_MARKERS,
  countsOf,
  createDecisionCounter,
  LINE_MARKERS,
  mergeCounterStates,
  type StreamAnalysis,
} from './epp-decisions.ts';
import { lineAlignedBounds, readRange, READ_BYTES } from './file-ranges.ts';
import { createLineScanner } from './marked-lines.ts';

/** Below this size one thread does it all: starting a worker costs more than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** Threads at most (the scan is bound by memory bandwidth beyond a few). */
const MAX_THREADS = 4;

export interface FileAnalysisOptions extends AnalyzeOptions {
  /** Also collect the loaded-profile start lines (decodes a few more lines). Default: counts only. */
  profiles?: boolean;
  /** Ranges counted side by side (default: the available cores, at most 4, when the file is large enough). */
  threads?: number;
  /** Files smaller than this are counted by one thread (default PARALLEL_MIN_BYTES). */
  minParallelBytes?: number;
  /** Bytes per read (default READ_BYTES). */
  readBytes?: number;
}

/**
 * Whether `analyzeFile` can take the file: a regular file that does not start with the gzip magic bytes
 * (1f 8b). False as well when it cannot be opened (the stream path reports why).
 */
export function isPlainLogFile(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    const head = Buffer.alloc(2);
    return !(readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** What one thread counts: lines starting in [start, end) of `file`. */
export interface RangeJob {
  file: string;
  start: number;
  end: number;
  profiles: boolean;
  readBytes: number;
}

/** Counts the lines of one range (plain options only: the `resolve` function cannot cross threads). */
export function countFileRange(job: RangeJob, options: AnalyzeOptions = {}): CounterState {
  const counter = createDecisionCounter(options);
  const scanner = createLineScanner(job.profiles ? LINE_MARKERS : COUNT_MARKERS, (line) => counter.push(line));
  const fd = openSync(job.file, 'r');
  try {
    readRange(fd, job.start, job.end, (bytes) => scanner.scan(bytes), job.readBytes);
  } finally {
    closeSync(fd);
  }
  counter.pushPlain(scanner.finish().plain);
  return counter.state();
}

/**
 * Counts a regular file. Not for `sinceTs` (every line's timestamp is needed: use `analyzeStream`).
 * With `resolve`, one thread (the pod timeline stays on this thread).
 */
export async function analyzeFile(file: string, options: FileAnalysisOptions = {}): Promise<StreamAnalysis> {
  if (options.sinceTs !== undefined) throw new Error('analyzeFile: sinceTs needs every line: use analyzeStream');
  const { profiles = false, readBytes = READ_BYTES, minParallelBytes = PARALLEL_MIN_BYTES, resolve } = options;
  const fd = openSync(file, 'r');
  let bounds: number[];
  try {
    const size = fstatSync(fd).size;
    const threads = resolve ? 1 : (options.threads ?? Math.min(availableParallelism(), MAX_THREADS));
    bounds = lineAlignedBounds(fd, size, size >= minParallelBytes ? Math.max(1, threads) : 1);
  } finally {
    closeSync(fd);
  }
  const jobs: RangeJob[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) jobs.push({ file, start: bounds[i] as number, end: bounds[i + 1] as number, profiles, readBytes });
  // The workers start first and read side by side with this thread, which counts the first range.
  const others = jobs.slice(1).map(runInWorker);
  let states: CounterState[];
  try {
    const first = countFileRange(jobs[0] as RangeJob, resolve ? { resolve } : {});
    states = [first, ...(await Promise.all(others))];
  } catch (err) {
    await Promise.allSettled(others);
    throw err;
  }
  const state = mergeCounterStates(states);
  return { counts: countsOf(state), loadedProfiles: state.profiles };
}

/**
 * The worker next to this module: the compiled one (dist/), or from the sources through tsx's API (a
 * worker does not inherit the TypeScript loader hooks of its parent on Node 20).
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL('./range-worker.js', import.meta.url), eval: false };
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const target = JSON.stringify(new URL('./range-worker.ts', import.meta.url).href);
  return { entry: `import(${api}).then((tsx) => tsx.tsImport(${target}, ${JSON.stringify(import.meta.url)}))`, eval: true };
}

function runInWorker(job: RangeJob): Promise<CounterState> {
  const { entry, eval: isEval } = workerEntry();
  return new Promise<CounterState>((resolvePromise, reject) => {
    // no execArgv of this process (a --import preload would run again in the worker)
    const worker = new Worker(entry, { eval: isEval, workerData: job, execArgv: [] });
    let done = false;
    worker.once('message', (state: CounterState) => {
      done = true;
      resolvePromise(state);
    });
    worker.once('error', (err) => {
      done = true;
      reject(new Error(`counting bytes ${job.start}-${job.end} of ${job.file}: ${err.message}`, { cause: err }));
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`counting bytes ${job.start}-${job.end} of ${job.file}: worker exited with code ${code}`));
    });
  });
}
