/** Messages between the main thread (scheduler, HTTP, metrics) and VU workers. */

/** One HTTP round trip (a redirect hop is its own call: the worker follows redirects, like k6's client). */
export interface HttpCall {
  method: string;
  url: string;
  /** Header pairs as the script gave them (names keep their case, as k6 sends them). */
  headers: [string, string][];
  body?: string | Uint8Array;
  timeoutMs: number;
  /** The request's tags (system tags method/url/name/scenario/group and the script's), for the run's records. */
  tags: Record<string, string>;
  /** options.discardResponseBodies / params.responseType 'none': read and drop the body. */
  discardBody: boolean;
}

export interface HttpTimings {
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
}

export interface HttpReply {
  status: number;
  statusText: string;
  /** Header pairs as received (lower-case names, one pair per header line). */
  headers: [string, string][];
  body: string;
  bodyBytes: number;
  sentBytes: number;
  timings: HttpTimings;
  remoteIp: string;
  remotePort: number;
  error?: string;
  errorCode?: number;
}

/** Timings of a request that got no response (all 0 but the duration it took). */
export const zeroTimings = (duration = 0): HttpTimings => ({
  blocked: 0,
  connecting: 0,
  tls_handshaking: 0,
  sending: 0,
  waiting: 0,
  receiving: 0,
  duration,
});

/** A reply without a response (k6: status 0, `error` and `error_code` set), for a request that failed or was not sent. */
export function failedReply(error: string, errorCode: number, sent: Partial<HttpReply> = {}): HttpReply {
  return {
    status: 0,
    statusText: '',
    headers: [],
    body: '',
    bodyBytes: 0,
    sentBytes: 0,
    timings: zeroTimings(),
    remoteIp: '',
    remotePort: 0,
    ...sent,
    error,
    errorCode,
  };
}

export interface Sample {
  metric: string;
  type: 'counter' | 'rate' | 'trend' | 'gauge';
  value: number;
  tags: Record<string, string>;
  /** Trend created with `isTime` (or a built-in time metric): shown in ms units in the summary. */
  time?: boolean;
}

/** What the init context tells the scheduler before the test starts. */
export interface InitInfo {
  options: Record<string, unknown>;
  /** Names of the script's exported functions (default, setup, teardown, handleSummary, scenario `exec`s). */
  exports: string[];
  /** Custom metrics declared in the init context: name → type and isTime. */
  metrics: Record<string, { type: Sample['type']; time: boolean }>;
}

/** The position of one iteration in the test, for `__ITER` and `k6/execution`. */
export interface IterationContext {
  scenario: string;
  executor: string;
  exec: string;
  env: Record<string, string>;
  tags: Record<string, string>;
  /** Epoch ms of the scenario's and the test's start. */
  scenarioStartMs: number;
  testStartMs: number;
  iterationInScenario: number;
  iterationInTest: number;
  /** Scenario progress (0..1) at the start of the iteration. */
  progress: number;
}

export type ToWorker =
  | { kind: 'iterate'; ctx: IterationContext; data: string | undefined }
  | { kind: 'call'; fn: 'setup' | 'teardown' | 'handleSummary'; arg: string | undefined };

export interface ScriptError {
  message: string;
  /** `at fn (file:line:col)` of the script frame that threw, when known. */
  at?: string;
  /** exec.test.abort() */
  abort?: boolean;
}

export type FromWorker =
  | { kind: 'init'; info: InitInfo }
  | { kind: 'ready' }
  | { kind: 'done'; samples: Sample[]; error?: ScriptError; result?: string }
  /** Samples of the running iteration so far, sent before the VU blocks (sleep, HTTP): they count even if it is interrupted. */
  | { kind: 'samples'; samples: Sample[] }
  | { kind: 'log'; level: 'info' | 'warn' | 'error' | 'debug'; text: string }
  | { kind: 'fatal'; error: ScriptError };

/** A VU's WebSocket command (k6/ws), on its own channel: the main thread holds the socket (ws-main.ts). */
export type WsCommand =
  | { op: 'open'; id: number; url: string; headers: [string, string][] }
  | { op: 'send'; id: number; data: string | Uint8Array }
  | { op: 'ping'; id: number; data: string }
  | { op: 'close'; id: number; code: number };

/** What the main thread reports about a VU's socket, in the order it happened. */
export type WsEvent =
  | { ev: 'open'; id: number; status: number; headers: [string, string][]; connectingMs: number }
  | {
      ev: 'failed';
      id: number;
      error: string;
      connectingMs: number;
      /** The handshake's HTTP response when there was one (a non-101 status). */
      response?: { status: number; headers: [string, string][]; body: string };
    }
  | { ev: 'message'; id: number; data: string | Uint8Array }
  | { ev: 'ping'; id: number }
  | { ev: 'pong'; id: number; data: string }
  | { ev: 'error'; id: number; message: string }
  | { ev: 'close'; id: number; code: number };
