/** PersistentVolumeClaims are bound at once to a PersistentVolume made for them; Delete-policy PVs go with their claim. */
import type { Api } from '../apiserver/api.ts';
import type { Obj } from '../apiserver/selectors.ts';
import { key } from './util.ts';

export function syncVolumes(api: Api): void {
  const pvcType = api.type('', 'persistentvolumeclaims');
  const pvType = api.type('', 'persistentvolumes');
  for (const pvc of api.store.peek(key('', 'persistentvolumeclaims'))) {
    if (pvc.metadata.deletionTimestamp || pvc.status?.phase === 'Bound') continue;
    const ns = pvc.metadata.namespace;
    const pvName = pvc.spec?.volumeName || `pvc-${pvc.metadata.uid}`;
    const storage = pvc.spec?.resources?.requests?.storage ?? '1Gi';
    const accessModes = pvc.spec?.accessModes ?? ['ReadWriteOnce'];
    let pv: Obj | undefined = api.tryGet(pvType, undefined, pvName);
    if (!pv) {
      pv = api.create(
        pvType,
        undefined,
        {
          metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': 'pd-harness.io/twin' } },
          spec: {
            capacity: { storage },
            accessModes,
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: pvc.spec?.storageClassName ?? 'standard',
            volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
            claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name: pvc.metadata.name, uid: pvc.metadata.uid },
            hostPath: { path: `/pd-harness/pv/${pvName}` },
          },
          status: { phase: 'Bound' },
        },
        { keepStatus: true },
      );
    }
    api.mutate(pvcType, ns, pvc.metadata.name, (o) => {
      o.spec.volumeName = pvName;
      o.metadata.annotations = {
        ...(o.metadata.annotations ?? {}),
        'pv.kubernetes.io/bind-completed': 'yes',
        'pv.kubernetes.io/bound-by-controller': 'yes',
      };
    });
    api.mutate(
      pvcType,
      ns,
      pvc.metadata.name,
      (o) => {
        o.status = { phase: 'Bound', accessModes, capacity: { storage } };
      },
      'status',
    );
  }
  for (const pv of api.store.peek(key('', 'persistentvolumes'))) {
    const ref = pv.spec?.claimRef;
    if (!ref || pv.metadata.deletionTimestamp) continue;
    const claim = api.tryGet(pvcType, ref.namespace, ref.name);
    if (claim && claim.metadata.uid === ref.uid) continue;
    if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      try {
        api.delete(pvType, undefined, pv.metadata.name);
      } catch {
        // gone
      }
    } else if (pv.status?.phase !== 'Released') {
      api.mutate(
        pvType,
        undefined,
        pv.metadata.name,
        (o) => {
          o.status = { ...(o.status ?? {}), phase: 'Released' };
        },
        'status',
      );
    }
  }
}
