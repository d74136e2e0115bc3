/** `kubectl rollout status` for a Deployment, as a pure judgement over the object (kubectl's own rules). */
export interface RolloutVerdict {
  done: boolean;
  message: string;
  failed?: boolean;
}

interface DeploymentLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

export function judgeDeploymentRollout(d: DeploymentLike): RolloutVerdict {
  const name = d.metadata?.name ?? '?';
  const st = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) {
    return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const want = d.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const replicas = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < want) {
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`,
    };
  }
  if (replicas > updated) {
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`,
    };
  }
  if (available < updated) {
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
    };
  }
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}
