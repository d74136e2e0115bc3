/** The subset of Kubernetes / Gateway API / GAIE object shapes the gateway reads. */

export interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  creationTimestamp?: string | Date;
  generation?: number;
  deletionTimestamp?: unknown;
  uid?: string;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  spec?: any;
  status?: any;
  subsets?: any[];
}

export interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

// HTTPRoute match and rule shapes: one copy, in the Kubernetes-rules package the harness shares.
export type {
  HTTPBackendRef as BackendRef,
  HTTPPathMatch,
  HTTPRouteMatch,
  HTTPRouteRule,
  HTTPValueMatch,
} from '../../k8s-rules/httproute.ts';
import type { HTTPRouteRule } from '../../k8s-rules/httproute.ts';

export interface HTTPRoute extends KObject {
  spec: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: HTTPRouteRule[] };
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const POOL_GROUP_V1 = 'inference.networking.k8s.io';
export const POOL_GROUP_ALPHA = 'inference.networking.x-k8s.io';
export const CONTROLLER_NAME = 'pd-harness.dev/twin-gateway';

export type Rng = () => number;
