/**
 * The decode crash of facts.md §3 as vLLM v0.15.0 logs it: the EngineCore's fatal error with its traceback down
 * to `torch.index_select` → `IndexError`, then the API server's output handler failure and EngineDeadError.
 * Pure: returns the messages; the logger adds the `(EngineCore_DP0 pid=..) ERROR <ts> [core.py:866]` prefixes.
 */

const SITE = '/usr/local/lib/python3.12/dist-packages';

export const ENGINE_FATAL_WHERE = 'core.py:866';
export const OUTPUT_HANDLER_WHERE = 'async_llm.py:480';

export function engineCoreTraceback(): string[] {
  return [
    'EngineCore encountered a fatal error.',
    'Traceback (most recent call last):',
    `  File "${SITE}/vllm/v1/engine/core.py", line 857, in run_engine_core`,
    '    engine_core.run_busy_loop()',
    `  File "${SITE}/vllm/v1/engine/core.py", line 884, in run_busy_loop`,
    '    self._process_engine_step()',
    `  File "${SITE}/vllm/v1/engine/core.py", line 913, in _process_engine_step`,
    '    outputs, model_executed = self.step_fn()',
    '                              ^^^^^^^^^^^^^^',
    `  File "${SITE}/vllm/v1/engine/core.py", line 424, in step_with_batch_queue`,
    '    model_output = self.execute_model_with_error_logging(',
    `  File "${SITE}/vllm/v1/executor/uniproc_executor.py", line 75, in collective_rpc`,
    '    result = run_method(self.driver_worker, method, args, kwargs)',
    '             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    `  File "${SITE}/vllm/worker/worker_base.py", line 365, in execute_model`,
    '    return self.worker.execute_model(scheduler_output, *args, **kwargs)',
    `  File "${SITE}/vllm/v1/worker/gpu_worker.py", line 447, in execute_model`,
    '    output = self.model_runner.execute_model(scheduler_output,',
    `  File "${SITE}/vllm/v1/worker/gpu_model_runner.py", line 3333, in execute_model`,
    '    ) = self._prepare_inputs(scheduler_output)',
    '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    `  File "${SITE}/vllm/v1/worker/gpu_model_runner.py", line 1474, in _prepare_inputs`,
    '    torch.index_select(',
    'IndexError: index out of range in self',
  ];
}

/**
 * The EngineCore's fatal error when the P2P connector raises inside the forward pass (p2p_nccl_connector.py
 * start_load_kv (decode) or save_kv_layer (prefill) → parse_request_id: `ValueError: Request id ... does not
 * contain hostname and port`). The frames follow the v0.15.0 call chain; the line numbers of the connector and
 * model-runner frames are approximate.
 */
export function connectorErrorTraceback(error: string, side: 'load' | 'save'): string[] {
  const connectorFrames =
    side === 'load'
      ? [
          `  File "${SITE}/vllm/v1/worker/kv_connector_model_runner_mixin.py", line 110, in _get_kv_connector_output`,
          '    kv_connector.start_load_kv(get_forward_context())',
          `  File "${SITE}/vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_connector.py", line 199, in start_load_kv`,
          '    ip, port = self.parse_request_id(request_id, False)',
        ]
      : [
          `  File "${SITE}/vllm/attention/utils/kv_transfer_utils.py", line 40, in wrapper`,
          '    connector.save_kv_layer(layer_name, kv_cache_layer, attn_metadata)',
          `  File "${SITE}/vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_connector.py", line 281, in save_kv_layer`,
          '    ip, port = self.parse_request_id(request_id, True)',
        ];
  return [
    'EngineCore encountered a fatal error.',
    'Traceback (most recent call last):',
    `  File "${SITE}/vllm/v1/engine/core.py", line 857, in run_engine_core`,
    '    engine_core.run_busy_loop()',
    `  File "${SITE}/vllm/v1/engine/core.py", line 884, in run_busy_loop`,
    '    self._process_engine_step()',
    `  File "${SITE}/vllm/v1/engine/core.py", line 913, in _process_engine_step`,
    '    outputs, model_executed = self.step_fn()',
    `  File "${SITE}/vllm/v1/engine/core.py", line 424, in step_with_batch_queue`,
    '    model_output = self.execute_model_with_error_logging(',
    `  File "${SITE}/vllm/v1/executor/uniproc_executor.py", line 75, in collective_rpc`,
    '    result = run_method(self.driver_worker, method, args, kwargs)',
    `  File "${SITE}/vllm/v1/worker/gpu_worker.py", line 447, in execute_model`,
    '    output = self.model_runner.execute_model(scheduler_output,',
    ...connectorFrames,
    `  File "${SITE}/vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_connector.py", line 471, in parse_request_id`,
    '    raise ValueError(f"Request id {request_id} does not contain hostname and port")',
    error,
  ];
}

export function apiServerDeathLines(): string[] {
  return [
    'AsyncLLM output_handler failed.',
    'Traceback (most recent call last):',
    `  File "${SITE}/vllm/v1/engine/async_llm.py", line 439, in output_handler`,
    '    outputs = await engine_core.get_output_async()',
    '              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    `  File "${SITE}/vllm/v1/engine/core_client.py", line 846, in get_output_async`,
    '    raise self._format_exception(outputs) from None',
    'vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.',
  ];
}

/** Twin-only summary line the repro campaign parses. */
export function crashSummaryLine(requestCounter: number, inFlight: readonly string[], cause: string): string {
  return `engine died (${cause}); request counter: ${requestCounter}; in-flight request ids: ${inFlight.join(', ')}`;
}
