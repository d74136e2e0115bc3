/** Defaulting on create, the way the real API server fills in fields clients rely on. */
import type { Obj } from './selectors.ts';

function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const c of [...((spec.initContainers ?? []) as Obj[]), ...((spec.containers ?? []) as Obj[])]) {
    if (c && typeof c === 'object') {
      const tag =
        String(c.image ?? '')
          .split('/')
          .pop() ?? '';
      c.imagePullPolicy ??= tag.includes(':') && !tag.endsWith(':latest') ? 'IfNotPresent' : 'Always';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
      for (const p of (c.ports ?? []) as Obj[]) p.protocol ??= 'TCP';
    }
  }
}

let nextClusterIp = 10;

export function applyCreateDefaults(kind: string, group: string, obj: Obj): void {
  if (group === '' && kind === 'Pod') {
    obj.spec ??= {};
    defaultPodSpec(obj.spec);
    obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
  } else if (group === 'apps' && (kind === 'Deployment' || kind === 'ReplicaSet')) {
    const spec = (obj.spec ??= {});
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    if (kind === 'Deployment') {
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate' };
      spec.strategy.type ??= 'RollingUpdate';
      if (spec.strategy.type === 'RollingUpdate')
        spec.strategy.rollingUpdate = { maxSurge: '25%', maxUnavailable: '25%', ...(spec.strategy.rollingUpdate ?? {}) };
    }
    if (spec.template) {
      spec.template.metadata ??= {};
      spec.template.spec ??= {};
      defaultPodSpec(spec.template.spec);
    }
    obj.status = {};
  } else if (group === '' && kind === 'Service') {
    const spec = (obj.spec ??= {});
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.type !== 'ExternalName') {
      if (!spec.clusterIP) {
        const n = nextClusterIp++;
        spec.clusterIP = `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
      }
      spec.clusterIPs ??= spec.clusterIP === 'None' ? ['None'] : [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    for (const p of (spec.ports ?? []) as Obj[]) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    obj.status ??= { loadBalancer: {} };
  } else if (group === '' && kind === 'Namespace') {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  } else if (group === '' && kind === 'PersistentVolumeClaim') {
    obj.spec ??= {};
    obj.spec.volumeMode ??= 'Filesystem';
    obj.status = { phase: 'Pending' };
  } else if (group === '' && kind === 'Secret') {
    obj.type ??= 'Opaque';
  }
}
