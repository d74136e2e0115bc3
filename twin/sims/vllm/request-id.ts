/**
 * The P/D proxy's request id (facts.md §1): `___prefill_addr_{PREFILL}___decode_addr_{DECODE}_{uuid4 hex}`,
 * e.g. `___prefill_addr_vllm-prefill-p2p:14579___decode_addr_vllm-decode-p2p:14579_0f3c...` (P2P carries the
 * kv ports) or `___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_0f3c...` (FS).
 */

export interface PdRequestId {
  prefillAddr: string;
  decodeAddr: string;
  uuid: string;
}

const PD_ID = /^___prefill_addr_(.+?)___decode_addr_(.+)_([0-9A-Za-z-]+)$/;

export function parsePdRequestId(id: string): PdRequestId | undefined {
  const m = PD_ID.exec(id);
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { prefillAddr: m[1], decodeAddr: m[2], uuid: m[3] };
}

/** `host:port` → parts; undefined when there is no numeric port (the FS form). IPv6 in brackets works too. */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(addr);
  if (!m || !m[1] || !m[2]) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}
