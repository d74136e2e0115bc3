import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { HttpCall, HttpReply, Sample } from '../protocol.ts';

/** Per-VU state the k6 shims share: samples of the current iteration and the synchronous HTTP channel. */
export const vu = {
  samples: [] as Sample[],
  group: '',
  scenario: 'default',
  /** k6/execution `scenario.iterationInTest` of the current iteration. */
  iterationInTest: 0,
  init: true,
  port: undefined as MessagePort | undefined,
  flag: undefined as Int32Array | undefined,
};

/**
 * k6's HTTP calls are synchronous to the script. The worker posts the call to the main thread, blocks on a
 * SharedArrayBuffer with Atomics.wait until the main thread has done the request (with undici) and posted the
 * reply, then takes the reply with receiveMessageOnPort: no event loop turn is needed in the worker.
 */
export function httpSync(call: HttpCall): HttpReply {
  if (vu.init || !vu.port || !vu.flag) throw new Error('k6 runtime: HTTP requests are not allowed in the init context');
  Atomics.store(vu.flag, 0, 0);
  vu.port.postMessage(call);
  const limit = call.timeoutMs + 30_000;
  if (Atomics.wait(vu.flag, 0, 0, limit) === 'timed-out') throw new Error('k6 runtime: no HTTP reply from the main thread');
  const msg = receiveMessageOnPort(vu.port);
  if (!msg) throw new Error('k6 runtime: HTTP reply missing');
  return msg.message as HttpReply;
}

export function emit(metric: string, type: Sample['type'], value: number, tags?: Record<string, string>): void {
  vu.samples.push(tags ? { metric, type, value, tags } : { metric, type, value });
}
