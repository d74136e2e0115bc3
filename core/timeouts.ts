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
  /** A controller-managed object (the SchedulerInstall's EPP ConfigMap) shows a setup patch. */
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
  /** A restarted container (decode pod after a crash) comes back during a repro campaign. */
  reproRestart: number;
  /** The model pods of a repro cell become Ready. */
  reproReady: number;
  /** One HTTP call to a twin simulator's fault endpoint. */
  simFaultCall: number;
}

export type TimeoutName = keyof TimeoutConfig;

const S = 1000;
const M = 60 * S;

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
  reproRestart: 30 * S,
  reproReady: 2 * M,
  simFaultCall: 5 * S,
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

/** `500ms`, `35s`, `3m`, `1m30s`: how a message names the value in force. */
export function formatTimeout(ms: number): string {
  if (ms < S || ms % S !== 0) return `${ms}ms`;
  const m = Math.floor(ms / M);
  const s = (ms % M) / S;
  return m === 0 ? `${s}s` : s === 0 ? `${m}m` : `${m}m${s}s`;
}
