/**
 * What a generated suite-load script carries (k6/suite-load.ts reads it; load/k6-script/generate.ts writes it).
 * Types only: the harness and the k6 scripts share it.
 */
export interface SuiteScriptRequest {
  /** Variant name (the record tag `variant`), absent without variants. */
  variant?: string;
  method: string;
  /** Path after the gateway URL; `{{i}}` is the 1-based request number. */
  path: string;
  headers: Record<string, string>;
  /** The body as sent (JSON already serialized), `{{i}}` filled per request; absent for no body. */
  body?: string;
}

export interface SuiteScriptPlan {
  /** The suite the script was generated from (for the reader). */
  suite: string;
  /** Default gateway when `-e GATEWAY=...` is not given. */
  gateway: string;
  /** Per-request timeout as k6 reads `params.timeout` (e.g. `35s`). */
  timeout: string;
  /** Request i (1-based) uses requests[(i - 1) % requests.length]. */
  requests: SuiteScriptRequest[];
  /** The SSE response's first `data:` line carries the response id. */
  stream: boolean;
  /** k6 options: one scenario `load`, the suite's thresholds. */
  options: Record<string, unknown>;
}
