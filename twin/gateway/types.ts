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

export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface HTTPPathMatch {
  type?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value?: string;
}

export interface HTTPValueMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: HTTPPathMatch;
  headers?: HTTPValueMatch[];
  queryParams?: HTTPValueMatch[];
  method?: string;
}

export interface HTTPRouteRule {
  matches?: HTTPRouteMatch[];
  backendRefs?: BackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
}

export interface HTTPRoute extends KObject {
  spec: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: HTTPRouteRule[] };
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const POOL_GROUP_V1 = 'inference.networking.k8s.io';
export const POOL_GROUP_ALPHA = 'inference.networking.x-k8s.io';
export const CONTROLLER_NAME = 'pd-harness.dev/twin-gateway';

export type Rng = () => number;
