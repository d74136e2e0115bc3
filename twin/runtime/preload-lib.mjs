// Pure helpers of the twin preload (importable without installing its patches).

export const CLUSTER_DOMAIN = 'cluster.local';
// A Service with no ready endpoints resolves here: nothing listens, so clients get ECONNREFUSED,
// as with kube-proxy's REJECT rule for services without endpoints. The twin never assigns 127.x.255.*.
export const NO_ENDPOINTS_IP = '127.255.255.254';

function isWildcardHost(host) {
  return host === undefined || host === null || host === '' || host === '0.0.0.0' || host === '::' || host === '::0';
}

/** Rewrites the arguments of server.listen() so a wildcard or missing host becomes podIP. */
export function rewriteListenArgs(args, podIP) {
  const [first, ...rest] = args;
  if (first !== null && typeof first === 'object') {
    // listen(options[, cb]); handles, fds and pipe paths are left alone.
    if ('path' in first && first.path != null) return args;
    if ('fd' in first || '_handle' in first || 'handle' in first) return args;
    if (!('port' in first) && !('host' in first)) return args;
    if (!isWildcardHost(first.host)) return args;
    return [{ ...first, host: podIP }, ...rest];
  }
  const isPort = typeof first === 'number' || first === undefined || (typeof first === 'string' && /^\d+$/.test(first));
  if (!isPort && typeof first !== 'function') return args; // a pipe path
  if (typeof first === 'function') return [0, podIP, first, ...rest];
  const port = first === undefined ? 0 : first;
  const [second, ...more] = rest;
  if (typeof second === 'string') return isWildcardHost(second) ? [port, podIP, ...more] : args;
  if (second === undefined || second === null) return [port, podIP, ...more];
  // listen(port, backlog?, cb?) or listen(port, cb)
  return [port, podIP, ...rest];
}

/** The names a pod's resolver would try for `name`, most specific first (like a search path). */
export function candidateNames(name, namespace) {
  const n = name.toLowerCase().replace(/\.$/, '');
  const parts = n.split('.');
  const out = [n];
  if (parts.length === 1) out.push(`${n}.${namespace}.svc.${CLUSTER_DOMAIN}`);
  else if (parts.length === 2) out.push(`${n}.svc.${CLUSTER_DOMAIN}`);
  else if (parts.length === 3 && parts[2] === 'svc') out.push(`${n}.${CLUSTER_DOMAIN}`);
  return out;
}
