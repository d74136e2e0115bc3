/** Worker thread of `analyzeFile`: takes blocks of a log file in turn with the other threads and posts their counts. */
import { parentPort, workerData } from 'node:worker_threads';
import { countBlocks, type BlockJob } from './epp-decisions-file.ts';

if (!parentPort) throw new Error('range-worker.ts runs as a worker thread of analyzeFile');
parentPort.postMessage(countBlocks(workerData as BlockJob));
