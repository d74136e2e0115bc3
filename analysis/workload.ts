/**
 * Workload names from EPP endpoint names.
 *
 * The EPP names an endpoint `namespace/pod-name` (with `-rank-N` for data-parallel ranks, and sometimes
 * `:port`). Pods of a Deployment are named `<deployment>-<pod-template-hash>-<suffix>`; pods of a bare
 * ReplicaSet, Job or DaemonSet `<owner>-<suffix>`. Kubernetes draws both the hash and the 5-character
 * suffix from the same vowel-free alphabet (k8s.io/apimachinery rand.SafeEncodeString), which is what
 * tells them apart from ordinary name parts such as `p2p` or `proxy`.
 */

const SAFE_CHARS = '[bcdfghjklmnpqrstvwxz2456789]';
const POD_SUFFIX = new RegExp(`^${SAFE_CHARS}{5}$`);
// A pod-template-hash is a uint32 in decimal, each digit mapped to a safe character: 1..10 characters.
// Shorter than 6 is rare and would swallow real name parts (`p2p`), so those stay.
const TEMPLATE_HASH = new RegExp(`^${SAFE_CHARS}{6,10}$`);
const RANK = /-rank-\d+$/;
const IPV4_PORT = /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/;
const IPV6_PORT = /^\[[0-9a-fA-F:.]+\](:\d+)?$/;
const TRAILING_PORT = /:\d+$/;

/** True for endpoints given as an address (`10.0.0.7:8080`, `[fd00::7]:8080`): they are kept as they are. */
export function isAddress(endpoint: string): boolean {
  return IPV4_PORT.test(endpoint) || IPV6_PORT.test(endpoint);
}

/** `llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0` → `vllm-p2p-proxy`; bare pods keep their name. */
export function workloadOf(endpoint: string): string {
  const trimmed = endpoint.trim();
  if (trimmed === '' || isAddress(trimmed)) return trimmed;
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  if (isAddress(last)) return last;
  const name = last.replace(TRAILING_PORT, '').replace(RANK, '');
  const parts = name.split('-');
  if (parts.length >= 2 && POD_SUFFIX.test(parts[parts.length - 1] ?? '')) {
    parts.pop();
    if (parts.length >= 2 && TEMPLATE_HASH.test(parts[parts.length - 1] ?? '')) parts.pop();
  }
  return parts.join('-');
}
