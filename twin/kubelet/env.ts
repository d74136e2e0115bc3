import type { V1Container, V1Pod } from '#client-node';

/** ConfigMap and Secret data the kubelet looked up (secret values decoded). */
export interface EnvSources {
  configMaps: Record<string, Record<string, string> | undefined>;
  secrets: Record<string, Record<string, string> | undefined>;
}

export class EnvError extends Error {}

/** Expands `$(VAR)` references as Kubernetes does; `$$(VAR)` stays literal `$(VAR)`, unknown refs stay as written. */
export function expandVars(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(env, name) ? env[name]! : match;
  });
}

/** The value of a downward-API fieldRef. */
export function fieldRefValue(pod: V1Pod, fieldPath: string): string | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!];
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name;
    case 'metadata.namespace':
      return pod.metadata?.namespace;
    case 'metadata.uid':
      return pod.metadata?.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return pod.status?.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.status?.hostIP;
    default:
      return undefined;
  }
}

/**
 * A container's environment: envFrom first, then env (later wins), with `$(VAR)` expanded against
 * what came before, as the kubelet does. Throws EnvError for a missing non-optional reference.
 */
export function containerEnv(pod: V1Pod, container: V1Container, sources: EnvSources): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const data = sources.configMaps[from.configMapRef.name ?? ''];
      if (!data && !from.configMapRef.optional) throw new EnvError(`configmap "${from.configMapRef.name}" not found`);
      for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
    }
    if (from.secretRef) {
      const data = sources.secrets[from.secretRef.name ?? ''];
      if (!data && !from.secretRef.optional) throw new EnvError(`secret "${from.secretRef.name}" not found`);
      for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expandVars(e.value, env);
      continue;
    }
    const from = e.valueFrom;
    if (!from) {
      env[e.name] = '';
      continue;
    }
    if (from.fieldRef) {
      env[e.name] = fieldRefValue(pod, from.fieldRef.fieldPath) ?? '';
    } else if (from.configMapKeyRef) {
      const v = sources.configMaps[from.configMapKeyRef.name ?? '']?.[from.configMapKeyRef.key];
      if (v === undefined && !from.configMapKeyRef.optional)
        throw new EnvError(
          `couldn't find key ${from.configMapKeyRef.key} in ConfigMap ${pod.metadata?.namespace}/${from.configMapKeyRef.name}`,
        );
      if (v !== undefined) env[e.name] = v;
    } else if (from.secretKeyRef) {
      const v = sources.secrets[from.secretKeyRef.name ?? '']?.[from.secretKeyRef.key];
      if (v === undefined && !from.secretKeyRef.optional)
        throw new EnvError(`couldn't find key ${from.secretKeyRef.key} in Secret ${pod.metadata?.namespace}/${from.secretKeyRef.name}`);
      if (v !== undefined) env[e.name] = v;
    } else if (from.resourceFieldRef) {
      env[e.name] = '0';
    }
  }
  return env;
}

/** Names of ConfigMaps and Secrets a pod refers to (volumes, env, envFrom), to fetch before starting it. */
export function referencedSources(pod: V1Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
  }
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps, secrets };
}
