/**
 * The seed's gateway load as a k6 script: 60 chat completions through the gateway, 12 at a time
 * (`seq 1 60 | xargs -P12 curl --max-time 35 ...`), plus a constant-arrival-rate variant.
 *
 *   k6 run -e GATEWAY=http://127.0.0.1:18080 -e SCENARIO=seed k6/gateway-load.ts
 *   k6 run -e SCENARIO=arrival -e RATE=20 -e DURATION=1m k6/gateway-load.ts
 *
 * Plain k6 API only (no Node modules): real k6 (v0.57+ runs .ts directly) and pd-harness's built-in k6
 * runtime both run it.
 */
import { check } from 'k6';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import type { Options, Scenario } from 'k6/options';

function intEnv(name: string, fallback: number): number {
  const raw = __ENV[name];
  const n = raw === undefined || raw === '' ? NaN : parseInt(raw, 10);
  return isNaN(n) || n <= 0 ? fallback : n;
}

const GATEWAY = (__ENV['GATEWAY'] || 'http://127.0.0.1:18080').replace(/\/+$/, '');
const REQUESTS = intEnv('REQUESTS', 60);
const VUS = intEnv('VUS', 12);
const RATE = intEnv('RATE', 10);
const DURATION = __ENV['DURATION'] || '30s';
const MODEL = __ENV['MODEL'] || 'Qwen/Qwen3-Coder-30B-A3B-Instruct';
const MAX_TOKENS = intEnv('MAX_TOKENS', 8);
const TIMEOUT = __ENV['TIMEOUT'] || '35s';
const SCENARIO = __ENV['SCENARIO'] || 'seed';

const scenarios: Record<string, Scenario> = {
  seed: {
    executor: 'shared-iterations',
    vus: VUS,
    iterations: REQUESTS,
    maxDuration: '10m',
    tags: { load: 'seed' },
  },
  arrival: {
    executor: 'constant-arrival-rate',
    rate: RATE,
    timeUnit: '1s',
    duration: DURATION,
    preAllocatedVUs: VUS,
    maxVUs: VUS,
    tags: { load: 'arrival' },
  },
};

const chosen = scenarios[SCENARIO];
if (chosen === undefined) throw new Error(`SCENARIO must be seed or arrival, not ${SCENARIO}`);

export const options: Options = {
  scenarios: { [SCENARIO]: chosen },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    gateway_ok: ['rate>0.99'],
  },
  tags: { suite: 'gateway-load' },
};

/** Share of responses that were 200 with a completion id (the seed's "60/60 returned 200"). */
const gatewayOk = new Rate('gateway_ok');
/** 429s carrying InferencePoolResourceExhausted: the EPP filtered every candidate out. */
const poolExhausted = new Counter('gateway_pool_exhausted');

export default function (): void {
  const body = JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: `hello-${__VU}-${__ITER}` }],
    max_tokens: MAX_TOKENS,
    stream: false,
  });
  const res = http.post(`${GATEWAY}/v1/chat/completions`, body, {
    headers: { 'Content-Type': 'application/json' },
    timeout: TIMEOUT,
    tags: { name: 'chat-completions' },
  });
  const ok = check(res, { 'status is 200': (r) => r.status === 200 });
  gatewayOk.add(ok);
  if (res.status === 429 && typeof res.body === 'string' && res.body.indexOf('InferencePoolResourceExhausted') >= 0) {
    poolExhausted.add(1);
  }
}
