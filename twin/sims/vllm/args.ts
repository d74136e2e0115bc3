/**
 * Parses the vLLM container args the way `vllm serve` reads them:
 * `serve MODEL --port=8000 --max-model-len 2048 --kv-transfer-config '{...}'` (both `--flag=value` and
 * `--flag value`), or the model given as `--model`. Flags the simulator does not model are ignored.
 */

export type KvRole = 'kv_producer' | 'kv_consumer' | 'kv_both';
/** The connectors the twin models exactly (P2P over TCP instead of NCCL; files) or approximates (the rest). */
export type KvConnectorKind =
  | 'P2pNcclConnector'
  | 'ExampleConnector'
  | 'NixlConnector'
  | 'MooncakeConnector'
  | 'LMCacheConnectorV1'
  | 'LMCacheMPConnector'
  | 'OffloadingConnector'
  | 'MultiConnector';

/**
 * Names registered with vLLM's KVConnectorFactory (vllm-project/vllm v0.15.0
 * vllm/distributed/kv_transfer/kv_connector/factory.py `register_connector(...)`). `SharedStorageConnector` is
 * ExampleConnector's older name, kept by the twin for older manifests. Any other name without
 * `kv_connector_module_path` is refused with the factory's `ValueError: Unsupported connector type: <name>`.
 */
export const KNOWN_CONNECTORS: readonly string[] = [
  'P2pNcclConnector',
  'ExampleConnector',
  'SharedStorageConnector',
  'NixlConnector',
  'MooncakeConnector',
  'LMCacheConnectorV1',
  'LMCacheMPConnector',
  'OffloadingConnector',
  'MultiConnector',
  'DecodeBenchConnector',
  'MoRIIOConnector',
];

export interface KvTransferConfig {
  connector: KvConnectorKind;
  /** The name as given (e.g. SharedStorageConnector, DecodeBenchConnector), for logs. */
  connectorName: string;
  /** MultiConnector: its member connectors, in order. */
  members?: KvTransferConfig[];
  role: KvRole;
  rank: number;
  parallelSize: number;
  ip: string;
  /** P2P only: the TCP port this pod listens on for KV blocks (0 = any free port). */
  port: number;
  /** FS only: where blocks live (a container path; mapped through PD_TWIN_MOUNTS). */
  sharedStoragePath?: string;
  engineId?: string;
}

export interface VllmArgs {
  model: string;
  servedModelNames: string[];
  host: string;
  port: number;
  maxModelLen: number;
  maxNumSeqs?: number;
  kvTransfer?: KvTransferConfig;
  accessLog: boolean;
  /** Flags as given, for the "non-default args" startup line. */
  given: Record<string, string | boolean>;
}

/** Flags that take no value (everything starting with --no- / --enable- / --disable- too). */
const BOOLEAN_FLAGS = new Set(['trust-remote-code', 'enforce-eager', 'headless', 'api-server-count']);

function isBooleanFlag(name: string): boolean {
  return BOOLEAN_FLAGS.has(name) || name.startsWith('no-') || name.startsWith('enable-') || name.startsWith('disable-');
}

export class ArgsError extends Error {
  override name = 'ArgsError';
}

/**
 * A config vLLM accepts on the command line but whose engine cannot start: the EngineCore raises while building
 * the KV connector and the API server exits 1 with `RuntimeError: Engine core initialization failed`.
 */
export class EngineInitError extends Error {
  override name = 'ValueError';
}

function toInt(flag: string, value: string | boolean | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min) throw new ArgsError(`argument --${flag}: invalid int value: '${String(value)}'`);
  return n;
}

export function parseVllmArgs(argv: readonly string[]): VllmArgs {
  const given: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] ?? '';
    if (!tok.startsWith('--')) {
      positional.push(tok);
      continue;
    }
    const eq = tok.indexOf('=');
    if (eq > 0) {
      given[tok.slice(2, eq)] = tok.slice(eq + 1);
      continue;
    }
    const name = tok.slice(2);
    const next = argv[i + 1];
    if (!isBooleanFlag(name) && next !== undefined && !next.startsWith('--')) {
      given[name] = next;
      i++;
    } else {
      given[name] = true;
    }
  }
  // `vllm serve MODEL` or `serve MODEL`: drop the command words.
  while (positional[0] === 'vllm' || positional[0] === 'serve') positional.shift();
  const modelFlag = typeof given['model'] === 'string' ? given['model'] : undefined;
  const model = positional[0] ?? modelFlag;
  if (!model) throw new ArgsError('no model given: expected `serve MODEL` or `--model MODEL`');

  const served = typeof given['served-model-name'] === 'string' ? given['served-model-name'].split(/[\s,]+/) : [];
  const kvRaw = given['kv-transfer-config'];
  return {
    model,
    servedModelNames: served.filter(Boolean).length > 0 ? served.filter(Boolean) : [model],
    host: typeof given['host'] === 'string' ? given['host'] : '0.0.0.0',
    port: toInt('port', given['port'], 0) ?? 8000,
    maxModelLen: toInt('max-model-len', given['max-model-len'], 1) ?? 2048,
    maxNumSeqs: toInt('max-num-seqs', given['max-num-seqs'], 1),
    kvTransfer: typeof kvRaw === 'string' ? parseKvTransferConfig(kvRaw) : undefined,
    accessLog: given['disable-uvicorn-access-log'] !== true,
    given,
  };
}

export function parseKvTransferConfig(json: string): KvTransferConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ArgsError(`argument --kv-transfer-config: not valid JSON: ${json}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new ArgsError('argument --kv-transfer-config: expected a JSON object');
  return kvConfigFrom(raw as Record<string, unknown>);
}

const ROLES: readonly string[] = ['kv_producer', 'kv_consumer', 'kv_both'];
const ROLES_TEXT = "('kv_producer', 'kv_consumer', 'kv_both')";

function kvConfigFrom(o: Record<string, unknown>, inheritedRole?: unknown): KvTransferConfig {
  const connector = o['kv_connector'];
  const roleRaw = o['kv_role'] ?? inheritedRole;
  // KVTransferConfig.__post_init__ (vllm/config/kv_transfer.py, v0.15.0): a role is required with a connector and
  // must be one of the KVRole literals.
  if (roleRaw === undefined || roleRaw === null) {
    throw new ArgsError(`Please specify kv_role when kv_connector is set, supported roles are ${ROLES_TEXT}`);
  }
  if (typeof roleRaw !== 'string' || !ROLES.includes(roleRaw)) {
    throw new ArgsError(`Unsupported kv_role: ${String(roleRaw)}. Supported roles are ${ROLES_TEXT}`);
  }
  const role = roleRaw as KvRole;
  if (typeof connector !== 'string' || !KNOWN_CONNECTORS.includes(connector)) {
    if (typeof o['kv_connector_module_path'] === 'string') {
      throw new EngineInitError(
        `twin: cannot import out-of-tree KV connector ${String(connector)} from ${o['kv_connector_module_path']} (only vLLM's registered connectors are simulated)`,
      );
    }
    throw new EngineInitError(`Unsupported connector type: ${String(connector)}`);
  }
  const extra = (typeof o['kv_connector_extra_config'] === 'object' && o['kv_connector_extra_config']) || {};
  const ex = extra as Record<string, unknown>;
  const storage = ex['shared_storage_path'];
  const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : d);
  const kind = kindOf(connector);
  const cfg: KvTransferConfig = {
    connector: kind,
    connectorName: connector,
    role,
    rank: num(o['kv_rank'], 0),
    parallelSize: num(o['kv_parallel_size'], 1),
    ip: typeof o['kv_ip'] === 'string' ? o['kv_ip'] : '127.0.0.1',
    port: num(o['kv_port'], 14579),
    // ExampleConnector's default is "/tmp" (example_connector.py: get_from_extra_config("shared_storage_path", "/tmp")).
    sharedStoragePath: typeof storage === 'string' ? storage : kind === 'ExampleConnector' ? '/tmp' : undefined,
    engineId: typeof o['engine_id'] === 'string' ? o['engine_id'] : undefined,
  };
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) {
    throw new ArgsError(`argument --kv-transfer-config: invalid kv_port ${String(o['kv_port'])}`);
  }
  if (kind === 'MultiConnector') {
    // multi_connector.py: kv_connector_extra_config.connectors is a list of KVTransferConfig dicts; each entry
    // inherits the outer kv_role when it has none.
    const list = ex['connectors'];
    if (!Array.isArray(list) || list.length === 0) {
      throw new EngineInitError('MultiConnector requires kv_connector_extra_config.connectors to be a non-empty list');
    }
    cfg.members = list.map((m: unknown) => {
      if (typeof m !== 'object' || m === null) throw new EngineInitError('MultiConnector: each entry of connectors must be an object');
      return kvConfigFrom(m as Record<string, unknown>, role);
    });
  }
  return cfg;
}

function kindOf(name: string): KvConnectorKind {
  switch (name) {
    case 'SharedStorageConnector':
    case 'ExampleConnector':
      return 'ExampleConnector';
    case 'DecodeBenchConnector':
    case 'MoRIIOConnector':
      // MoRI-IO moves KV from a remote prefill the way Nixl does (kv_transfer_params); DecodeBench fills it
      // synthetically. The twin treats both as pull connectors.
      return 'NixlConnector';
    default:
      return name as KvConnectorKind;
  }
}
