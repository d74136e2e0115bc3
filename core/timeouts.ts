/**
 * Every wait of a run, named and documented in one place, with one set of defaults (the model:
 * kubernetes-sigs/gateway-api conformance/utils/config/timeout.go). A suite overrides them in
 * `spec.timeouts` and the command line with `--timeout NAME=DURATION` (the command line wins).
 * Messages about a wait print the value in force (`formatTimeout`), never a literal.
 * Pure: no I/O, no imports from outside core/.
 */

export interface TimeoutConfig {
  /** Deployed manifests (pods, Deployments, CRDs) become Ready / Available. */
  deploy: number;
  /**
   * A controller-managed object shows a setup patch: its status.observedGeneration reaches the patched
   * generation (the SchedulerInstall's operator re-rendered the EPP ConfigMap); cluster/reconciled.ts.
   */
  reconcile: number;
  /** A CustomResourceDefinition reports Established after it is applied. */
  crdEstablished: number;
  /** The steady-state probe through the gateway passes before the load starts. */
  steadyStateBeforeLoad: number;
  /** The steady-state hypothesis holds before a fault is injected. */
  steadyStateBeforeFault: number;
  /** How long after a fault recovery is watched when the suite sets no recovery window. */
  recoveryWatch: number;
  /** Added to a suite's recovery window before the watch gives up. */
  recoveryMargin: number;
  /** A killed pod is gone (or replaced) after the kill. */
  podGone: number;
  /** A deleted object is gone during cleanup. */
  objectGone: number;
  /** The whole cleanup (restore patches, delete created objects) of one run. */
  cleanup: number;
  /** The API server answers /version and discovery. */
  apiServer: number;
  /** The gateway URL accepts a connection. */
  gatewayReachable: number;
  /** The local twin starts (API server, kubelet, gateway, operator). */
  twinStart: number;
  /** A crashed decode container is restarted (so `logs --previous` holds the crash) during a repro campaign. */
  reproRestart: number;
  /** How long a repro cell whose load saw failed requests is watched for a decode crash. */
  reproSettle: number;
  /** How long a repro cell whose load saw no failure is watched for a decode crash. */
  reproSettleQuiet: number;
  /** The model pods of a repro cell become Ready. */
  reproReady: number;
  /** One HTTP call to a twin simulator's fault endpoint. */
  simFaultCall: number;
  /** A k6-operator TestRun reaches stage `finished` or `error` (the whole distributed load, runner pods included). */
  k6OperatorRun: number;
  /** One GET /metrics of a vLLM pod while the run observes KV transfer. */
  metricsCall: number;
  /** One GET /health of an engine while a repro cell waits for its decode engines to be healthy. */
  healthCall: number;
  /** A chaos suite's whole Playwright test (deploy, setup, steady state, load with faults, recovery). */
  chaosTest: number;
  /** A repro suite's Playwright test before its cells: deploy, rollouts, setup, preflight. */
  reproTest: number;
  /** Added to a repro suite's Playwright test for each matrix cell (its load bound and a possible restart). */
  reproCell: number;
}

export type TimeoutName = keyof TimeoutConfig;

const S = 1000;
const M = 60 * S;
const H = 60 * M;

export const DEFAULT_TIMEOUTS: Readonly<TimeoutConfig> = Object.freeze({
  deploy: 3 * M,
  reconcile: 30 * S,
  crdEstablished: 30 * S,
  steadyStateBeforeLoad: 60 * S,
  steadyStateBeforeFault: 30 * S,
  recoveryWatch: 2 * M,
  recoveryMargin: 30 * S,
  podGone: 60 * S,
  objectGone: 60 * S,
  cleanup: 60 * S,
  apiServer: 5 * S,
  gatewayReachable: 3 * S,
  twinStart: 2 * M,
  reproRestart: 2 * M,
  reproSettle: 6 * S,
  reproSettleQuiet: 1 * S,
  reproReady: 2 * M,
  simFaultCall: 5 * S,
  k6OperatorRun: 15 * M,
  metricsCall: 5 * S,
  healthCall: 2 * S,
  chaosTest: 4 * M,
  reproTest: 5 * M,
  reproCell: 2 * M,
});

/**
 * Waits of commands that are not a run (no suite, no `--timeout`): named here so that no command hides a
 * literal, fixed because nothing about them depends on the target.
 */
export const COMMAND_TIMEOUTS = Object.freeze({
  /** `pd-harness twin down`: the twin's process exits after SIGTERM before it is SIGKILLed. */
  twinStop: 20 * S,
  /** `pd-harness report`: `java -version` answers (is Java there for the Allure CLI). */
  javaCheck: 20 * S,
  /** `pd-harness report`: the Allure CLI generates the HTML report. */
  reportGenerate: 5 * M,
  /** The report's environment: `git rev-parse HEAD` answers (else the commit is `unknown`). */
  gitCommit: 5 * S,
});

/**
 * Playwright's budgets (playwright.config.ts): a test's default budget (the conformance suites' base, raised by
 * `testBudget` when a run's waits are raised), one `expect` poll, and a browser-project test (Allure's HTML
 * generated, then opened in chromium).
 */
export const TEST_BUDGETS = Object.freeze({
  test: 2 * M,
  expect: 10 * S,
  browserTest: 5 * M,
});

export const TIMEOUT_NAMES = Object.keys(DEFAULT_TIMEOUTS) as TimeoutName[];

/** The longest any single wait may be set to (a typo like 60h is refused, not waited for). */
export const MAX_TIMEOUT_MS = 2 * 60 * M;

export function isTimeoutName(name: string): name is TimeoutName {
  return Object.hasOwn(DEFAULT_TIMEOUTS, name);
}

/** Defaults, then the suite's `spec.timeouts`, then the command line's `--timeout` values. */
export function resolveTimeouts(...layers: readonly Partial<TimeoutConfig>[]): Readonly<TimeoutConfig> {
  const out: TimeoutConfig = { ...DEFAULT_TIMEOUTS };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined && isTimeoutName(k)) out[k] = v;
  }
  return Object.freeze(out);
}

/** Why a `NAME: value` override is refused (unknown name, out of range), in one line; undefined when it is fine. */
export function timeoutProblem(name: string, ms: number): string | undefined {
  if (!isTimeoutName(name)) return `unknown timeout "${name}" (known: ${TIMEOUT_NAMES.join(', ')})`;
  if (!Number.isFinite(ms) || ms <= 0) return `timeout ${name} must be more than 0`;
  if (ms > MAX_TIMEOUT_MS) return `timeout ${name} must be at most ${formatTimeout(MAX_TIMEOUT_MS)} (got ${formatTimeout(ms)})`;
  return undefined;
}

/** The waits that are not test budgets: what `testBudget` adds up when they are raised. */
const BUDGET_NAMES: readonly TimeoutName[] = ['chaosTest', 'reproTest', 'reproCell'];

/**
 * A Playwright test's budget: its base (calibrated against the defaults) plus however much each of the run's
 * waits was raised above its default, so that raising a wait (`--timeout deploy=10m`) lets that wait run out
 * and report itself rather than the test's timeout cutting it short.
 */
export function testBudget(baseMs: number, t: Readonly<TimeoutConfig>): number {
  let extra = 0;
  for (const name of TIMEOUT_NAMES) if (!BUDGET_NAMES.includes(name)) extra += Math.max(0, t[name] - DEFAULT_TIMEOUTS[name]);
  return baseMs + extra;
}

/**
 * How long `pd-harness twin up --detach` waits for the twin to report ready: the twin starts, the seed topology
 * deploys, the operator renders the EPP and the route is accepted (the sum of those waits, so each of them
 * runs out and reports itself first).
 */
export function twinUpBudget(t: Readonly<TimeoutConfig>): number {
  return t.twinStart + t.deploy + 2 * t.reconcile;
}

/** `500ms`, `35s`, `3m`, `1m30s`, `2h`: how a message names the value in force. */
export function formatTimeout(ms: number): string {
  if (ms < S || ms % S !== 0) return `${ms}ms`;
  const h = Math.floor(ms / H);
  const m = Math.floor((ms % H) / M);
  const s = (ms % M) / S;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
