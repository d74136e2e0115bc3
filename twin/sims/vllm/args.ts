/**
 * Parses the vLLM container args the way `vllm serve` reads them:
 * `serve MODEL --port=8000 --max-model-len 2048 --kv-transfer-config '{...}'` (both `--flag=value` and
 * `--flag value`), or the model given as `--model`. Flags the simulator does not model are ignored.
 */

export type KvRole = 'kv_producer' | 'kv_consumer' | 'kv_both';
export type KvConnectorKind = 'P2pNcclConnector' | 'ExampleConnector';

export interface KvTransferConfig {
  connector: KvConnectorKind;
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
  return (
    BOOLEAN_FLAGS.has(name) || name.startsWith('no-') || name.startsWith('enable-') || name.startsWith('disable-')
  );
}

export class ArgsError extends Error {
  override name = 'ArgsError';
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
  const o = raw as Record<string, unknown>;
  const connector = o['kv_connector'];
  if (connector !== 'P2pNcclConnector' && connector !== 'ExampleConnector' && connector !== 'SharedStorageConnector') {
    throw new ArgsError(`argument --kv-transfer-config: unsupported kv_connector ${JSON.stringify(connector)}`);
  }
  const role = o['kv_role'];
  if (role !== 'kv_producer' && role !== 'kv_consumer' && role !== 'kv_both') {
    throw new ArgsError(`argument --kv-transfer-config: kv_role must be kv_producer, kv_consumer or kv_both`);
  }
  const extra = (typeof o['kv_connector_extra_config'] === 'object' && o['kv_connector_extra_config']) || {};
  const storage = (extra as Record<string, unknown>)['shared_storage_path'];
  const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : d);
  const cfg: KvTransferConfig = {
    // SharedStorageConnector is ExampleConnector's older name in vLLM.
    connector: connector === 'P2pNcclConnector' ? 'P2pNcclConnector' : 'ExampleConnector',
    role,
    rank: num(o['kv_rank'], 0),
    parallelSize: num(o['kv_parallel_size'], 1),
    ip: typeof o['kv_ip'] === 'string' ? o['kv_ip'] : '127.0.0.1',
    port: num(o['kv_port'], 14579),
    sharedStoragePath: typeof storage === 'string' ? storage : defaultStoragePath(connector),
    engineId: typeof o['engine_id'] === 'string' ? o['engine_id'] : undefined,
  };
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) {
    throw new ArgsError(`argument --kv-transfer-config: invalid kv_port ${String(o['kv_port'])}`);
  }
  return cfg;
}

function defaultStoragePath(connector: string): string | undefined {
  return connector === 'P2pNcclConnector' ? undefined : '/tmp/kv_cache';
}
