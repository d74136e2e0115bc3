import type { DecisionCounts, LoadedProfile } from '../analysis/epp-decisions.ts';
import { countDecisions, parseLoadedProfiles } from '../analysis/epp-decisions.ts';
import type { LoadResult } from '../load/result.ts';
import { PodIpTimeline, type PodIpSpan } from '../analysis/pod-ips.ts';

/** Measured by the chaos runner around a fault. */
export interface RecoveryMeasurement {
  /** How long requests failed after the fault, ms. */
  errorWindowMs: number;
  /** From the fault to steady state holding again, ms; null/Infinity when it never did. */
  recoveryMs: number | null;
  /** Failed requests over all requests of the load, 0..1. */
  errorRate: number;
  /** Epoch ms when steady state held again after the last fault: `proxiesChosen: {afterRecovery: true}` counts picks from here. */
  recoveredAtMs?: number;
}

/** A fault the chaos runner injected (its event), for criteria that judge what followed it. */
export interface FaultObservation {
  /** 0-based index in spec.faults. */
  index: number;
  kind: string;
  /** Epoch ms when it acted. */
  atMs: number;
  /** The pods it acted on. */
  targets: string[];
}

/** KV reuse measured on a decode pod (metrics or logs): of `requests`, `hits` found the prefill's KV. */
export interface KvTransferObservation {
  /** `p2p` (P2pNcclConnector) or `fs` (ExampleConnector). */
  backend: string;
  requests: number;
  hits: number;
  /** What `requests` and `hits` count: decode requests (default), or prompt tokens (vLLM's external prefix-cache counters). */
  unit?: 'requests' | 'tokens';
  /** Where the numbers come from, e.g. `vllm-decode-fs /metrics`. */
  source?: string;
}

/** Everything criteria look at. Gathered by fixtures (I/O); criteria only read it. */
export interface Observations {
  /** The HTTPRoutes the suite checks, raw Kubernetes objects. */
  httpRoutes: unknown[];
  inferencePools: unknown[];
  /** The Service each observed pool's endpointPickerRef names (`ns/name`) and its type (`ExternalName`, `ClusterIP`, `missing`). */
  eppRefServices?: { pool: string; service: string; type: string }[];
  /** Which pod held which IP during the run (from a pod watch): maps stock "Request handled" endpoints to pods. */
  podIps?: PodIpSpan[];
  /** The rendered `epp-config.yaml` (EndpointPickerConfig) from the EPP ConfigMap. */
  eppConfigYaml?: string;
  /** EPP log lines since the run started; used when the derived fields below are absent. */
  eppLogLines?: string[];
  /** The analyzer's counts (else computed from eppLogLines). */
  eppDecisions?: DecisionCounts;
  /** Loaded-profile start lines (else parsed from eppLogLines). */
  eppLoadedProfiles?: LoadedProfile[];
  load?: LoadResult;
  recovery?: RecoveryMeasurement;
  /** The faults injected during the load, in the order they fired (chaos suites). */
  faults?: FaultObservation[];
  kvTransfer?: KvTransferObservation[];
}

/** The decision counts, from the analyzer result or the raw lines; undefined when there is no EPP log. */
export function decisionsOf(obs: Observations): DecisionCounts | undefined {
  if (obs.eppDecisions) return obs.eppDecisions;
  if (!obs.eppLogLines) return undefined;
  // a stock EPP logs endpoint addresses: the pods that held them during the run name them
  const timeline = obs.podIps?.length ? PodIpTimeline.fromSpans(obs.podIps) : undefined;
  return countDecisions(obs.eppLogLines, timeline ? { resolve: (a, ts) => timeline.resolve(a, ts) } : {});
}

export function loadedProfilesOf(obs: Observations): LoadedProfile[] | undefined {
  if (obs.eppLoadedProfiles) return obs.eppLoadedProfiles;
  return obs.eppLogLines ? parseLoadedProfiles(obs.eppLogLines) : undefined;
}

/** Observations with the EPP log reduced once (the evaluator calls this before running criteria). */
export function withDerivedEpp(obs: Observations): Observations {
  const eppDecisions = decisionsOf(obs);
  const eppLoadedProfiles = loadedProfilesOf(obs);
  return {
    ...obs,
    ...(eppDecisions ? { eppDecisions } : {}),
    ...(eppLoadedProfiles ? { eppLoadedProfiles } : {}),
  };
}
