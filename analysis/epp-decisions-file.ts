/**
 * `epp-decisions` on a log file: the file is read in large pieces straight into the marker scan (only lines
 * with a marker are decoded), and a large file is cut into blocks at line starts that worker threads and this
 * thread take in turn (whoever is free takes the next block, so a late or slow thread costs little) and whose
 * counts are merged in file order — the same counts as one pass over the file.
 */
import { availableParallelism, loadavg } from 'node:os';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { runnableModule } from '../common/build.mjs';
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
import { lineStartAtOrAfter, readRange, READ_BYTES } from './file-ranges.ts';
import { createLineScanner } from './marked-lines.ts';

/** Below this size one thread does it all: starting a worker costs more than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** Bytes per block handed out to a thread (a block ends at the first line start at or after its end). */
export const BLOCK_BYTES = 8 * 1024 * 1024;
/** Blocks that must be left for the default to start workers (a worker takes ~30-40 ms to start). */
const MIN_BLOCKS_FOR_WORKERS = 4;
/** Threads at most (the scan is bound by memory bandwidth beyond a few). */
const MAX_THREADS = 4;

export interface FileAnalysisOptions extends AnalyzeOptions {
  /** Also collect the loaded-profile start lines (decodes a few more lines). Default: counts only. */
  profiles?: boolean;
  /**
   * Threads counting side by side. Default (a file large enough): this thread starts alone and, after its
   * first block, adds a worker per core that was idle meanwhile (`idleCoresBetween`), at most 4 threads.
   */
  threads?: number;
  /** Files smaller than this are counted by one thread (default PARALLEL_MIN_BYTES). */
  minParallelBytes?: number;
  /** Bytes per block (default BLOCK_BYTES). */
  blockBytes?: number;
  /** Bytes per read (default READ_BYTES). */
  readBytes?: number;
  /**
   * For the default thread count: called when counting starts, gives the function asked after each block
   * for the cores idle since (undefined: too soon to tell). Default `idleSinceNow`; tests give their own.
   */
  idleProbe?: () => () => number | undefined;
  /** Whether this thread takes blocks too (default true; false leaves them all to the workers, for tests). */
  takeBlocksHere?: boolean;
}

/**
 * What the threads share: block k is the lines that start in [k * blockBytes, (k + 1) * blockBytes) of the
 * file; `next` (an Int32Array over shared memory) is the next block nobody has taken yet.
 */
export interface BlockJob {
  file: string;
  size: number;
  blockBytes: number;
  blocks: number;
  next: SharedArrayBuffer;
  profiles: boolean;
  readBytes: number;
}

export interface BlockCounts {
  block: number;
  state: CounterState;
}

/**
 * The cores the 1-minute load average leaves idle (rounded), at least 1: the fallback where /proc/stat is
 * not there. The load average lags by a minute and counts work that is already over (on a quiet box, the
 * bench's previous runs), so where it can the default measures idle time now instead (`idleCoresBetween`).
 */
export function idleCores(): number {
  return Math.max(1, Math.round(availableParallelism() - (loadavg()[0] ?? 0)));
}

/** Clock ticks of all CPUs together since boot (Linux /proc/stat, first line): idle (idle + iowait) and total. */
export interface CpuTicks {
  idle: number;
  total: number;
}

/** The `cpu` line of /proc/stat parsed, or undefined when there is none (not Linux, or another format). */
export function parseProcStat(text: string): CpuTicks | undefined {
  const m = /^cpu +(\d+(?: +\d+){3,})/.exec(text);
  if (!m) return undefined;
  const n = (m[1] as string).split(/ +/).map(Number);
  // user nice system idle iowait irq softirq steal [guest guest_nice, already in user and nice]
  const idle = (n[3] as number) + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle, total };
}

export function readCpuTicks(): CpuTicks | undefined {
  let fd: number | undefined;
  try {
    fd = openSync('/proc/stat', 'r');
    const head = Buffer.alloc(256);
    return parseProcStat(head.toString('latin1', 0, readSync(fd, head, 0, head.length, 0)));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Cores that were idle between two readings (idle share of all ticks times the cores, rounded down after
 * adding 0.25: a core idle three quarters of the time counts); undefined when fewer than two ticks per core
 * went by (too short to tell). The caller's own busy thread is in the readings, so on an idle 2-core
 * machine this is 1, on a busy one 0.
 */
export function idleCoresBetween(before: CpuTicks, after: CpuTicks, cores: number): number | undefined {
  const total = after.total - before.total;
  if (total < 2 * cores) return undefined;
  return Math.floor(((after.idle - before.idle) / total) * cores + 0.25);
}

/** Cores idle from now until the returned function is called: /proc/stat where there is one, else `idleCores()` less this thread. */
export function idleSinceNow(): () => number | undefined {
  const before = readCpuTicks();
  const cores = availableParallelism();
  return () => {
    const after = before && readCpuTicks();
    return before && after ? idleCoresBetween(before, after, cores) : idleCores() - 1;
  };
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

/**
 * Takes blocks until none is left and counts each (plain options only: `resolve` cannot cross threads).
 * `afterBlock` runs after each block this thread counted (to start more threads while it works).
 */
export function countBlocks(job: BlockJob, options: AnalyzeOptions = {}, afterBlock?: () => void): BlockCounts[] {
  const next = new Int32Array(job.next);
  const markers = job.profiles ? LINE_MARKERS : COUNT_MARKERS;
  const out: BlockCounts[] = [];
  // One counter and one scanner for all the blocks of this thread, reset after each: per-block closures
  // would be optimized again for every block (on 8 MiB blocks that doubled the time of a 147 MB log).
  const counter = createDecisionCounter(options);
  const scanner = createLineScanner(markers, (line) => counter.push(line));
  const onBytes = (bytes: Buffer): void => scanner.scan(bytes);
  const readBuffer = Buffer.allocUnsafe(Math.max(1, Math.min(job.readBytes, job.size)));
  const fd = openSync(job.file, 'r');
  try {
    const probe = Buffer.allocUnsafe(4096);
    for (let block = Atomics.add(next, 0, 1); block < job.blocks; block = Atomics.add(next, 0, 1)) {
      const start = lineStartAtOrAfter(fd, job.size, block * job.blockBytes, probe);
      const end = block + 1 === job.blocks ? job.size : lineStartAtOrAfter(fd, job.size, (block + 1) * job.blockBytes, probe);
      if (end <= start) continue; // inside a line that started in an earlier block
      readRange(fd, start, end, onBytes, readBuffer);
      counter.pushPlain(scanner.finish().plain);
      out.push({ block, state: counter.state() });
      counter.reset();
      afterBlock?.();
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Counts a regular file. Not for `sinceTs` (every line's timestamp is needed: use `analyzeStream`).
 * With `resolve`, one thread (the pod timeline stays on this thread).
 */
export async function analyzeFile(file: string, options: FileAnalysisOptions = {}): Promise<StreamAnalysis> {
  if (options.sinceTs !== undefined) throw new Error('analyzeFile: sinceTs needs every line: use analyzeStream');
  const { profiles = false, readBytes = READ_BYTES, minParallelBytes = PARALLEL_MIN_BYTES, resolve } = options;
  const fd = openSync(file, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  const parallel = size >= minParallelBytes && !resolve;
  // Default: measure the idle cores while this thread counts its first block(s), then start the workers.
  const auto = parallel && options.threads === undefined;
  const fixed = parallel && !auto ? Math.max(1, options.threads ?? 1) : 1;
  const blockBytes = auto || fixed > 1 ? Math.max(1, options.blockBytes ?? BLOCK_BYTES) : Math.max(1, size);
  const job: BlockJob = {
    file,
    size,
    blockBytes,
    blocks: Math.max(1, Math.ceil(size / blockBytes)),
    next: new SharedArrayBuffer(4),
    profiles,
    readBytes,
  };
  // Fixed workers start first; this thread takes blocks meanwhile.
  const others = Array.from({ length: fixed - 1 }, () => runInWorker(job));
  let afterBlock: (() => void) | undefined;
  if (auto) {
    const idleNow = (options.idleProbe ?? idleSinceNow)();
    afterBlock = () => {
      const left = job.blocks - Atomics.load(new Int32Array(job.next), 0);
      if (left < MIN_BLOCKS_FOR_WORKERS) return void (afterBlock = undefined); // a worker would start when it is all done
      const idle = idleNow();
      if (idle === undefined) return; // too short a time to tell: ask again after the next block
      afterBlock = undefined;
      for (let i = 0; i < Math.min(idle, MAX_THREADS - 1); i++) others.push(runInWorker(job));
    };
  }
  let results: BlockCounts[][];
  try {
    const mine = fixed > 1 && options.takeBlocksHere === false ? [] : countBlocks(job, resolve ? { resolve } : {}, () => afterBlock?.());
    results = [mine, ...(await Promise.all(others))];
  } catch (err) {
    Atomics.store(new Int32Array(job.next), 0, job.blocks); // the others stop after their current block
    await Promise.allSettled(others);
    throw err;
  }
  const state = mergeCounterStates(
    results
      .flat()
      .sort((a, b) => a.block - b.block)
      .map((b) => b.state),
  );
  return { counts: countsOf(state), loadedProfiles: state.profiles };
}

/**
 * The worker next to this module, with this module's extension: the compiled one (dist/<fp>/analysis/*.js,
 * or the command bundle's range-worker.cjs next to the bundle, which holds this module). From the sources (tests,
 * development): the compiled worker when the build is fresh, as bin/pd-harness.js runs it, else the sources
 * through tsx's API (a worker does not inherit the TypeScript loader hooks of its parent on Node 20; loading tsx
 * and the sources in every worker thread was most of a multi-threaded count's CPU in the tests).
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  const ext = /\.[cm]?js$/.exec(import.meta.url)?.[0];
  if (ext) return { entry: new URL(`./range-worker${ext}`, import.meta.url), eval: false };
  const compiled = runnableModule('analysis/range-worker.ts');
  if (compiled.endsWith('.js')) return { entry: pathToFileURL(compiled), eval: false };
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const target = JSON.stringify(new URL('./range-worker.ts', import.meta.url).href);
  return { entry: `import(${api}).then((tsx) => tsx.tsImport(${target}, ${JSON.stringify(import.meta.url)}))`, eval: true };
}

function runInWorker(job: BlockJob): Promise<BlockCounts[]> {
  const { entry, eval: isEval } = workerEntry();
  // loaded when a worker is wanted (not on the start-up of a small file's count)
  const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  return new Promise<BlockCounts[]>((resolvePromise, reject) => {
    // no execArgv of this process (a --import preload would run again in the worker)
    const worker = new Worker(entry, { eval: isEval, workerData: job, execArgv: [] });
    let done = false;
    worker.once('message', (counts: BlockCounts[]) => {
      done = true;
      resolvePromise(counts);
    });
    worker.once('error', (err) => {
      done = true;
      reject(new Error(`counting ${job.file} on a worker thread: ${err.message}`, { cause: err }));
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`counting ${job.file} on a worker thread: the worker exited with code ${code}`));
    });
  });
}
