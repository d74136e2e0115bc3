/** Messages between the main thread (scheduler, HTTP) and VU workers. */
export interface HttpCall {
  method: string;
  url: string;
  body?: string;
  headers: Record<string, string>;
  timeoutMs: number;
  tags: Record<string, string>;
}

export interface HttpReply {
  status: number;
  body: string;
  headers: Record<string, string>;
  durationMs: number;
  waitingMs: number;
  error?: string;
  errorCode?: number;
}

export interface Sample {
  metric: string;
  type: 'counter' | 'rate' | 'trend' | 'gauge';
  value: number;
  /** Tags the script gave (`metric.add(v, tags)`). */
  tags?: Record<string, string>;
}

export type ToWorker = { kind: 'iterate'; scenario: string; iter: number; env: Record<string, string>; iterationInTest?: number } | { kind: 'exit' };

export type FromWorker =
  | { kind: 'options'; options: unknown }
  | { kind: 'ready' }
  | { kind: 'done'; samples: Sample[]; error?: string }
  | { kind: 'fatal'; error: string };
