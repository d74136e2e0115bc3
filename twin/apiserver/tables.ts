/** Server-side printing: `Table` objects for `kubectl get`, with the columns the real server prints. */
import { evalJsonPath } from './jsonpath.ts';
import type { ResourceType } from './resources.ts';
import type { Obj } from './selectors.ts';
import { fromLabelSelectorObject, selectorToString } from './selectors.ts';

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
}

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  return y < 8 ? `${y}y${d % 365}d` : `${y}y`;
}

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const ageCol: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp' };
const wide = (n: string, type = 'string'): Column => ({ name: n, type, priority: 1 });
const col = (n: string, type = 'string'): Column => ({ name: n, type });

export function podStatusReason(p: Obj): string {
  let reason: string = p.status?.reason ?? p.status?.phase ?? 'Unknown';
  let initializing = false;
  const inits = (p.status?.initContainerStatuses ?? []) as Obj[];
  inits.forEach((c, i) => {
    if (c.state?.terminated?.exitCode === 0) return;
    if (c.state?.terminated)
      reason = c.state.terminated.reason ? `Init:${c.state.terminated.reason}` : `Init:ExitCode:${c.state.terminated.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${inits.length}`;
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...((p.status?.containerStatuses ?? []) as Obj[])].reverse()) {
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated)
        reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.state?.running && c.ready) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (p.metadata?.deletionTimestamp) reason = p.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRow(p: Obj, now: number): unknown[] {
  const statuses = (p.status?.containerStatuses ?? []) as Obj[];
  const total = ((p.spec?.containers ?? []) as Obj[]).length;
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const lastRestart = statuses
    .map((c) => c.lastState?.terminated?.finishedAt as string | undefined)
    .filter((t): t is string => !!t)
    .sort()
    .pop();
  const restartsCell = restarts > 0 && lastRestart ? `${restarts} (${age(lastRestart, now)} ago)` : restarts;
  return [
    p.metadata.name,
    `${ready}/${total}`,
    podStatusReason(p),
    restartsCell,
    age(p.metadata.creationTimestamp, now),
    p.status?.podIP ?? '<none>',
    p.spec?.nodeName ?? '<none>',
    '<none>',
    '<none>',
  ];
}

function containersAndImages(tpl: Obj | undefined): [string, string] {
  const cs = (tpl?.spec?.containers ?? []) as Obj[];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

function servicePorts(s: Obj): string {
  const ports = (s.spec?.ports ?? []) as Obj[];
  if (!ports.length) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function nodeStatus(n: Obj): string {
  const ready = ((n.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
  const s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

function endpointsCell(e: Obj): string {
  const out: string[] = [];
  for (const sub of (e.subsets ?? []) as Obj[]) {
    for (const a of (sub.addresses ?? []) as Obj[]) {
      const ports = (sub.ports ?? []) as Obj[];
      if (!ports.length) out.push(a.ip);
      for (const p of ports) out.push(`${a.ip}:${p.port}`);
    }
  }
  if (!out.length) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

interface Printer {
  columns: Column[];
  row(o: Obj, now: number): unknown[];
}

const PRINTERS: Record<string, Printer> = {
  '/pods': {
    columns: [
      name,
      col('Ready'),
      col('Status'),
      col('Restarts'),
      ageCol,
      wide('IP'),
      wide('Node'),
      wide('Nominated Node'),
      wide('Readiness Gates'),
    ],
    row: podRow,
  },
  'apps/deployments': {
    columns: [
      name,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      ageCol,
      wide('Containers'),
      wide('Images'),
      wide('Selector'),
    ],
    row: (d, now) => {
      const [c, i] = containersAndImages(d.spec?.template);
      return [
        d.metadata.name,
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        age(d.metadata.creationTimestamp, now),
        c,
        i,
        selectorToString(fromLabelSelectorObject(d.spec?.selector)),
      ];
    },
  },
  'apps/replicasets': {
    columns: [
      name,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      ageCol,
      wide('Containers'),
      wide('Images'),
      wide('Selector'),
    ],
    row: (r, now) => {
      const [c, i] = containersAndImages(r.spec?.template);
      return [
        r.metadata.name,
        r.spec?.replicas ?? 0,
        r.status?.replicas ?? 0,
        r.status?.readyReplicas ?? 0,
        age(r.metadata.creationTimestamp, now),
        c,
        i,
        selectorToString(fromLabelSelectorObject(r.spec?.selector)),
      ];
    },
  },
  '/services': {
    columns: [name, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), ageCol, wide('Selector')],
    row: (s, now) => [
      s.metadata.name,
      s.spec?.type ?? 'ClusterIP',
      s.spec?.type === 'ExternalName' ? '<none>' : (s.spec?.clusterIP ?? '<none>'),
      s.spec?.type === 'ExternalName'
        ? (s.spec?.externalName ?? '<none>')
        : ((s.spec?.externalIPs ?? []) as string[]).join(',') || '<none>',
      servicePorts(s),
      age(s.metadata.creationTimestamp, now),
      s.spec?.selector
        ? Object.entries(s.spec.selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')
        : '<none>',
    ],
  },
  '/nodes': {
    columns: [
      name,
      col('Status'),
      col('Roles'),
      ageCol,
      col('Version'),
      wide('Internal-IP'),
      wide('External-IP'),
      wide('OS-Image'),
      wide('Kernel-Version'),
      wide('Container-Runtime'),
    ],
    row: (n, now) => {
      const addr = (type: string) => ((n.status?.addresses ?? []) as Obj[]).find((a) => a.type === type)?.address ?? '<none>';
      const info = n.status?.nodeInfo ?? {};
      return [
        n.metadata.name,
        nodeStatus(n),
        '<none>',
        age(n.metadata.creationTimestamp, now),
        info.kubeletVersion ?? '',
        addr('InternalIP'),
        addr('ExternalIP'),
        info.osImage ?? '<unknown>',
        info.kernelVersion ?? '<unknown>',
        info.containerRuntimeVersion ?? '<unknown>',
      ];
    },
  },
  '/events': {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Message'),
      wide('Subobject'),
      wide('Source'),
      wide('First Seen'),
      wide('Count', 'integer'),
      { ...name, priority: 1 },
    ],
    row: (e, now) => {
      const io = e.involvedObject ?? {};
      const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      return [
        age(last, now),
        e.type ?? '',
        e.reason ?? '',
        `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
        e.message ?? '',
        io.fieldPath ?? '',
        e.source?.component ?? e.reportingComponent ?? '',
        age(e.firstTimestamp ?? last, now),
        e.count ?? 1,
        e.metadata.name,
      ];
    },
  },
  '/namespaces': {
    columns: [name, col('Status'), ageCol],
    row: (n, now) => [n.metadata.name, n.status?.phase ?? 'Active', age(n.metadata.creationTimestamp, now)],
  },
  '/configmaps': {
    columns: [name, col('Data', 'integer'), ageCol],
    row: (c, now) => [
      c.metadata.name,
      Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length,
      age(c.metadata.creationTimestamp, now),
    ],
  },
  '/secrets': {
    columns: [name, col('Type'), col('Data', 'integer'), ageCol],
    row: (s, now) => [s.metadata.name, s.type ?? 'Opaque', Object.keys(s.data ?? {}).length, age(s.metadata.creationTimestamp, now)],
  },
  '/endpoints': {
    columns: [name, col('Endpoints'), ageCol],
    row: (e, now) => [e.metadata.name, endpointsCell(e), age(e.metadata.creationTimestamp, now)],
  },
  '/persistentvolumeclaims': {
    columns: [name, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), ageCol],
    row: (c, now) => [
      c.metadata.name,
      c.status?.phase ?? '',
      c.spec?.volumeName ?? '',
      c.status?.capacity?.storage ?? '',
      ((c.status?.accessModes ?? c.spec?.accessModes ?? []) as string[])
        .map((m) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ?? m)
        .join(','),
      c.spec?.storageClassName ?? '<unset>',
      age(c.metadata.creationTimestamp, now),
    ],
  },
  'apiextensions.k8s.io/customresourcedefinitions': {
    columns: [name, col('Created At', 'date')],
    row: (c) => [c.metadata.name, c.metadata.creationTimestamp],
  },
};

function printerFor(t: ResourceType): Printer {
  const p = PRINTERS[`${t.group}/${t.plural}`];
  if (p) return p;
  const cols = t.printerColumns ?? [];
  if (cols.length) {
    return {
      columns: [
        name,
        ...cols.map((c) => ({
          name: c.name,
          type: c.type === 'date' ? 'string' : c.type,
          ...(c.priority ? { priority: c.priority } : {}),
          ...(c.description ? { description: c.description } : {}),
        })),
      ],
      row: (o, now) => [
        o.metadata.name,
        ...cols.map((c) => {
          const vals = evalJsonPath(o, c.jsonPath);
          if (c.type === 'date') return vals[0] ? age(String(vals[0]), now) : '<unknown>';
          if (!vals.length) return c.type === 'integer' || c.type === 'number' ? null : '';
          if (c.type === 'integer' || c.type === 'number' || c.type === 'boolean') return vals[0];
          return vals.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
        }),
      ],
    };
  }
  return { columns: [name, ageCol], row: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)] };
}

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

export function toTable(t: ResourceType, items: Obj[], resourceVersion: string, includeObject: string | undefined): Obj {
  const p = printerFor(t);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: p.columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: p.row(o, now),
      object:
        includeObject === 'None'
          ? undefined
          : includeObject === 'Object'
            ? o
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
