/** Worker thread of `analyzeFile`: counts the lines of one byte range of a log file and posts the counter state. */
import { parentPort, workerData } from 'node:worker_threads';
import { countFileRange, type RangeJob } from './epp-decisions-file.ts';

if (!parentPort) throw new Error('range-worker.ts runs as a worker thread of analyzeFile');
parentPort.postMessage(countFileRange(workerData as RangeJob));
