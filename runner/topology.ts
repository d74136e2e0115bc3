/** Names from the seed topology that the harness reads (facts.md §1, §2). */
export const EPP = {
  namespace: 'llm-d-inference-scheduler',
  deployment: 'gaie-inference-scheduling-epp',
  configMap: 'gaie-inference-scheduling-epp-config',
  configKey: 'epp-config.yaml',
} as const;

export const VLLM_NAMESPACE = 'llm-d-vllm';
