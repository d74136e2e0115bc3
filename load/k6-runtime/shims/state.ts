import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { HttpCall, HttpReply, IterationContext, Sample } from '../protocol.ts';

/** Per-VU state the k6 shims share: samples of the current iteration, tags, the synchronous HTTP channel. */
export const vu = {
  samples: [] as Sample[],
  group: '',
  init: true,
  id: 0,
  iterationInInstance: 0,
  /** This VU's iterations in the current scenario before this one (__ITER, exec.vu.iterationInScenario). */
  iterationInScenario: 0,
  ctx: undefined as IterationContext | undefined,
  /** options.tags, then scenario tags, then exec.vu.tags (k6's tag precedence). */
  userTags: {} as Record<string, string>,
  options: {} as Record<string, unknown>,
  port: undefined as MessagePort | undefined,
  flag: undefined as Int32Array | undefined,
  /** The k6/ws channel: commands out, socket events in; the main thread bumps wsFlag[0] after each event. */
  wsPort: undefined as MessagePort | undefined,
  wsFlag: undefined as Int32Array | undefined,
  /** Custom metrics declared in this VU (name → type), reported by the init context. */
  declared: {} as Record<string, { type: Sample['type']; time: boolean }>,
  scriptDir: '',
  /** The first unsupported feature the script reached (see Unsupported). */
  unsupported: undefined as string | undefined,
  /** performance.now() at the test start, as seen in this worker. */
  testStartMs: undefined as number | undefined,
};

/** Thrown to stop an iteration and the test (exec.test.abort()). */
export class AbortTest extends Error {
  readonly k6Abort = true;
}

/** A feature the runtime does not implement, found at its first use: the iteration fails and the run is refused. */
export class Unsupported extends Error {
  readonly k6Unsupported = true;
  constructor(feature: string, docsTerm: string) {
    super(`unsupported by the built-in k6 runtime: ${feature} (k6 docs: ${docsTerm})`);
    // remembered even if the script catches it: the run is refused all the same
    vu.unsupported ??= this.message;
  }
}

export function inInit(): boolean {
  return vu.init;
}

/** Tags every sample of the current iteration carries (k6: scenario, group, plus user tags). */
export function baseTags(): Record<string, string> {
  return { ...vu.userTags, scenario: vu.ctx?.scenario ?? 'default', group: vu.group };
}

/**
 * k6's HTTP calls are synchronous to the script. The worker posts the call to the main thread, blocks on a
 * SharedArrayBuffer with Atomics.wait until the main thread has done the request (with undici) and posted the
 * reply, then takes the reply with receiveMessageOnPort: no event loop turn is needed in the worker.
 */
export function httpSync(call: HttpCall): HttpReply {
  if (vu.init || !vu.port || !vu.flag) throw new Error('Making http requests in the init context is not supported');
  flushSamples();
  Atomics.store(vu.flag, 0, 0);
  vu.port.postMessage(call);
  const limit = call.timeoutMs + 30_000;
  if (Atomics.wait(vu.flag, 0, 0, limit) === 'timed-out') throw new Error('k6 runtime: no HTTP reply from the main thread');
  const msg = receiveMessageOnPort(vu.port);
  if (!msg) throw new Error('k6 runtime: HTTP reply missing');
  return msg.message as HttpReply;
}

/**
 * Send the samples of the running iteration so far to the main thread, before the VU blocks (sleep, HTTP,
 * waiting for timers): k6 emits samples as they happen, so an iteration interrupted later (gracefulStop, an
 * abort) still counts its requests and checks. postMessage needs no event-loop turn in the sender.
 */
export function flushSamples(): void {
  if (vu.init || vu.samples.length === 0) return;
  parentPort?.postMessage({ kind: 'samples', samples: vu.samples });
  vu.samples = [];
}

export function emit(metric: string, type: Sample['type'], value: number, tags: Record<string, string>, time = false): void {
  vu.samples.push(time ? { metric, type, value, tags, time } : { metric, type, value, tags });
}
