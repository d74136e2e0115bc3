import { DEFAULT_TIMEOUTS, formatTimeout } from '../core/timeouts.ts';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { KubeConfig, V1SelfSubjectAccessReview } from '#client-node';
import type { Cluster } from '../cluster/driver.ts';
import { describeApiError, isNotFound } from '../cluster/errors.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import { TargetError, UsageError } from '../core/errors.ts';
import { TESTRUN_API_VERSION, TESTRUN_KIND } from '../load/k6-operator/testrun.ts';
import type { LoadEngineName } from '../load/plan.ts';
import type { Suite } from '../suites/schema.ts';
import { matchLabels, parseLabelSelector } from '../k8s-rules/labels.ts';
import { guardFaults, type GuardDecision, type GuardSubject } from './guard.ts';
import { faultBody } from './faults/common.ts';
import type { PlannedWrite, Verb } from './write-set.ts';

/** The pods a set of manifests will run: bare Pods by name, a workload's pods as `<workload>-*` with its template labels. */
export function manifestPods(manifests: readonly ManifestObject[]): { name: string; namespace: string; labels: Record<string, string> }[] {
  const out: { name: string; namespace: string; labels: Record<string, string> }[] = [];
  for (const m of manifests) {
    const namespace = m.metadata.namespace ?? 'default';
    if (m.kind === 'Pod') {
      out.push({ name: m.metadata.name, namespace, labels: { ...((m.metadata.labels as Record<string, string>) ?? {}) } });
    } else if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(m.kind)) {
      const template = (m.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
      out.push({ name: `${m.metadata.name}-*`, namespace, labels: { ...(template?.metadata?.labels ?? {}) } });
    }
  }
  return out;
}

/**
 * The guard judged before anything is deployed: each fault against the pods the suite's manifests will
 * run (faults whose pods the manifests do not describe, like the operator-rendered EPP, are judged again
 * on the live pods before the load).
 */
export function preflightGuard(suite: Suite, manifests: readonly ManifestObject[]): GuardDecision {
  const pods = manifestPods(manifests);
  const subjects: GuardSubject[] = suite.spec.faults.map((fault, index) => {
    const { kind, body } = faultBody(fault);
    const selector = typeof body.selector === 'string' ? parseLabelSelector(body.selector) : undefined;
    const matching = selector ? pods.filter((p) => p.namespace === body.namespace && matchLabels(selector, p.labels)) : [];
    return { index, kind, namespace: body.namespace, pods: matching };
  });
  return guardFaults(suite.spec.target, subjects);
}

// ---------------------------------------------------------------------------------------------
// preflight before the first write: engine, script, load plan, gateway, authorization

export { findOnPath, plannedRequests, staticPreflight, type PreflightInput } from './preflight-static.ts';

/** The gateway URL is an http(s) URL and accepts a TCP connection (exit 2 for a malformed URL, 3 when unreachable). */
export async function checkGateway(url: string, timeoutMs = DEFAULT_TIMEOUTS.gatewayReachable): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new UsageError(`gateway URL ${url} is not a URL: give e.g. --gateway http://127.0.0.1:18080`, { cause: err });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(`gateway URL ${url} is not http:// or https://: give e.g. --gateway http://127.0.0.1:18080`);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  await new Promise<void>((ok, fail) => {
    const sock = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    sock.once('connect', () => {
      sock.destroy();
      ok();
    });
    const failWith = (why: string, cause?: unknown) => {
      sock.destroy();
      fail(
        new TargetError(`cannot reach the gateway at ${u.origin}: ${why}: check --gateway / PD_HARNESS_GATEWAY or the port-forward`, {
          cause,
        }),
      );
    };
    sock.once('timeout', () => failWith(`no answer within ${formatTimeout(timeoutMs)} (timeout gatewayReachable)`));
    sock.once('error', (err: NodeJS.ErrnoException) => failWith(err.code ?? err.message, err));
  });
}

/** Engine k6-operator needs the TestRun CRD on the cluster (k6-operator installed). */
export async function checkEngineOnCluster(cluster: Cluster, engine: LoadEngineName): Promise<void> {
  if (engine !== 'k6-operator') return;
  // not served = not installed; a forbidden or failed discovery is a target problem, not a missing operator
  const res = await cluster.resourceOf(TESTRUN_API_VERSION, TESTRUN_KIND).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw new TargetError(`cannot read the API discovery of ${TESTRUN_API_VERSION} at ${cluster.target.server}: ${describeApiError(err)}`, {
      cause: err,
    });
  });
  if (!res)
    throw new UsageError(
      `engine k6-operator: the cluster serves no ${TESTRUN_KIND} (${TESTRUN_API_VERSION}): install k6-operator (https://grafana.com/docs/k6/latest/testing-guides/running-distributed-tests/) or use --engine builtin`,
    );
}

/** One access the run needs, as a SelfSubjectAccessReview asks it. */
export interface AccessNeed {
  verb: Verb;
  group: string;
  resource: string;
  namespace?: string;
}

/** The (verb, resource, namespace) triples a write set needs, without duplicates. */
export async function accessNeeds(cluster: Cluster, writes: readonly PlannedWrite[]): Promise<AccessNeed[]> {
  const seen = new Map<string, AccessNeed>();
  for (const w of writes) {
    const group = w.apiVersion.includes('/') ? w.apiVersion.slice(0, w.apiVersion.lastIndexOf('/')) : '';
    const res = await cluster.resourceOf(w.apiVersion, w.kind).catch(() => undefined);
    // a kind whose CRD the run installs is not served yet: RBAC names it by its plural, lower case
    const resource = res?.name ?? `${w.kind.toLowerCase()}s`;
    for (const verb of w.verbs) {
      const need: AccessNeed = { verb, group, resource, ...(w.namespace !== undefined ? { namespace: w.namespace } : {}) };
      seen.set(`${verb}|${group}|${resource}|${w.namespace ?? ''}`, need);
    }
  }
  return [...seen.values()];
}

export function describeNeed(n: AccessNeed): string {
  return `kubectl auth can-i ${n.verb} ${n.resource}${n.group ? `.${n.group}` : ''}${n.namespace ? ` -n ${n.namespace}` : ''}`;
}

/**
 * Asks the API server, with a SelfSubjectAccessReview per need (what `kubectl auth can-i` does), whether
 * the kubeconfig's credentials may do everything the run needs. Any "no" is a TargetError (exit 3).
 */
export async function checkAccess(cluster: Cluster, needs: readonly AccessNeed[]): Promise<void> {
  // loaded here: a static plan (`pd-harness validate`, --dry-run without a cluster) needs no API client
  const { AuthorizationV1Api } = await import('#client-node');
  const authz = cluster.kc.makeApiClient(AuthorizationV1Api);
  const denied: string[] = [];
  for (let i = 0; i < needs.length; i += 8) {
    await Promise.all(
      needs.slice(i, i + 8).map(async (n) => {
        let review: V1SelfSubjectAccessReview;
        try {
          review = await authz.createSelfSubjectAccessReview({
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: {
                resourceAttributes: {
                  verb: n.verb,
                  group: n.group,
                  resource: n.resource,
                  ...(n.namespace ? { namespace: n.namespace } : {}),
                },
              },
            },
          });
        } catch (err) {
          throw new TargetError(
            `cannot check authorization at ${cluster.target.server} (SelfSubjectAccessReview): ${describeApiError(err)}`,
            { cause: err },
          );
        }
        if (!review.status?.allowed) denied.push(`${describeNeed(n)}: no${review.status?.reason ? ` (${review.status.reason})` : ''}`);
      }),
    );
  }
  if (denied.length) {
    const shown = denied.slice(0, 3).join('; ') + (denied.length > 3 ? `; and ${denied.length - 3} more` : '');
    throw new TargetError(
      `not authorized for what the run writes, nothing was written: ${shown}: grant it (RBAC) or use another kubeconfig`,
    );
  }
}

/**
 * The namespace holding the harness's own credentials, when it can be known: PD_HARNESS_CREDENTIALS_NAMESPACE,
 * a service-account token's namespace claim (`kubernetes.io.namespace`, or the legacy
 * `kubernetes.io/serviceaccount/namespace`), or the in-cluster service account's namespace file.
 */
export function credentialsNamespace(kc: KubeConfig | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PD_HARNESS_CREDENTIALS_NAMESPACE) return env.PD_HARNESS_CREDENTIALS_NAMESPACE;
  const token = kc?.getCurrentUser()?.token;
  const fromToken = token ? serviceAccountNamespace(token) : undefined;
  if (fromToken) return fromToken;
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The namespace claim of a Kubernetes service-account JWT (not verified: it only widens the protected set). */
export function serviceAccountNamespace(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const k8s = claims['kubernetes.io'] as { namespace?: unknown } | undefined;
    const ns = k8s?.namespace ?? claims['kubernetes.io/serviceaccount/namespace'];
    return typeof ns === 'string' && ns ? ns : undefined;
  } catch {
    return undefined;
  }
}
