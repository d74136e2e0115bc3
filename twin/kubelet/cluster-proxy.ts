/**
 * The cluster's DNS and Service routing for commands run by `kubectl exec`: a loopback HTTP proxy handed
 * to the command as `http_proxy` / `HTTP_PROXY` (and `https_proxy` for CONNECT tunnels), which curl, wget
 * and Python's urllib/requests honour. The proxy resolves the names a pod resolves — `svc`, `svc.ns`,
 * `svc.ns.svc`, `svc.ns.svc.cluster.local` through the pod namespace's search path (the preload's
 * `candidateNames`) — from the twin's hosts file (twin/runtime/hosts.ts), and `localhost` / `127.0.0.1` to
 * the pod's own address (in a pod, loopback is the pod's network namespace).
 *
 * Safety: it only ever connects to loopback addresses. A name that is neither a cluster name nor a
 * loopback address answers 502 with one line, as does a refused connection.
 * Simplification: curl reports those as an HTTP 502 from the proxy, not as its own exit codes 6 / 7.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { candidateNames, NO_ENDPOINTS_IP } from '../runtime/preload-lib.mjs';
import type { HostsMap } from '../runtime/hosts.ts';

export interface ClusterProxyOptions {
  hostsFile: string;
  namespace: string;
  podIP: string;
}

export interface ClusterProxy {
  url: string;
  close(): void;
}

const isLoopbackV4 = (h: string) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);

/** Where `host` goes from inside the pod: a loopback IP, or an error line. Pure but for the hosts map. */
export function resolveFromPod(
  host: string,
  opts: { namespace: string; podIP: string },
  hosts: HostsMap,
): { ip: string } | { error: string } {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h === '127.0.0.1' || h === '::1') return { ip: opts.podIP };
  if (isLoopbackV4(h)) return { ip: h };
  if (net.isIP(h)) return { error: `the twin reaches only loopback addresses, not ${host}` };
  for (const name of candidateNames(h, opts.namespace) as string[]) {
    const ips = hosts[name];
    if (!ips) continue;
    if (ips.length === 0) return { ip: NO_ENDPOINTS_IP };
    return { ip: ips[Math.floor(Math.random() * ips.length)]! };
  }
  return { error: `Could not resolve host: ${host}` };
}

function readHosts(file: string): HostsMap {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as HostsMap;
  } catch {
    return {};
  }
}

function fail(res: http.ServerResponse, line: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(502, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end(`${line}\n`);
}

export async function startClusterProxy(opts: ClusterProxyOptions): Promise<ClusterProxy> {
  const resolve = (host: string) => resolveFromPod(host, opts, readHosts(opts.hostsFile));
  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return fail(res, `the twin's cluster proxy needs an absolute URL, got ${req.url}`);
    }
    const where = resolve(target.hostname);
    if ('error' in where) return fail(res, where.error);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const up = http.request(
      { host: where.ip, port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (e) =>
      fail(res, `Failed to connect to ${target.hostname} port ${target.port || 80}: ${(e as NodeJS.ErrnoException).code ?? e.message}`),
    );
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    const where = resolve(host);
    if ('error' in where) {
      client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${where.error}\n`);
      return;
    }
    const up = net.connect(Number(port), where.ip, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n'));
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((ok, ko) => {
    server.once('error', ko);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}
