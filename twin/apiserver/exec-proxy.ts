/**
 * `pods/exec` on the API server: checks the request as the real apiserver does (pkg/registry/core/pod/rest
 * subresources.go ExecREST and pkg/registry/core/pod/strategy.go ExecLocation), then hands the upgraded
 * connection to the kubelet of the pod's node — at the Node's InternalIP and
 * `status.daemonEndpoints.kubeletEndpoint.Port`, path `/exec/{ns}/{pod}/{container}` — and pipes bytes
 * both ways, like the real apiserver's upgrade-aware proxy.
 *
 * Only the WebSocket protocol is spoken (twin/kubelet/exec.ts). A kubectl older than 1.31 asks for SPDY and
 * gets one line naming the kubectl it needs (its output: `error: unable to upgrade connection: …`).
 * `attach` and `portforward` are refused the same way, with one line.
 */
import type * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Api } from './api.ts';
import type { Obj } from './selectors.ts';
import { ApiError, errors } from './status.ts';

export const SPDY_REFUSAL =
  'the pd-harness twin serves pods/exec over WebSocket (v5.channel.k8s.io) only, not SPDY: use kubectl 1.31 or newer';

function writeStatus(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The pod, container and node address an exec request goes to, or the ApiError the real server gives. */
export function execLocation(api: Api, ns: string, podName: string, q: URLSearchParams): { container: string; host: string; port: number } {
  const pod = api.get(api.type('', 'pods'), ns, podName);
  const names = ((pod.spec?.containers ?? []) as Obj[]).map((c) => String(c.name));
  const all = [
    ...names,
    ...((pod.spec?.initContainers ?? []) as Obj[]).map((c) => String(c.name)),
    ...((pod.spec?.ephemeralContainers ?? []) as Obj[]).map((c) => String(c.name)),
  ];
  const container = q.get('container') || names[0] || '';
  if (!all.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${podName}`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed')
    throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${podName} does not have a host assigned`);
  if (q.getAll('command').length === 0) throw errors.badRequest('you must specify at least 1 command');
  const node = api.tryGet(api.type('', 'nodes'), undefined, nodeName);
  const port = Number(node?.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
  const host = ((node?.status?.addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address;
  if (!node || !port || !host)
    throw new ApiError(500, 'InternalError', `Internal error occurred: no kubelet endpoint for node ${nodeName}`);
  return { container, host: String(host), port };
}

/** Handles an HTTP upgrade request (the server's 'upgrade' event): exec, or a Status error. */
export function handleUpgrade(
  api: Api,
  authorized: (req: http.IncomingMessage) => boolean,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', () => undefined);
  const url = new URL(req.url ?? '/', 'http://twin');
  try {
    if (!authorized(req)) throw errors.unauthorized();
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/.exec(url.pathname);
    if (!m) throw errors.pathNotFound();
    const [, ns, podName, sub] = m as unknown as [string, string, string, string];
    if (sub !== 'exec') throw errors.badRequest(`the pd-harness twin does not serve pods/${sub}; only pods/exec`);
    const loc = execLocation(api, decodeURIComponent(ns), decodeURIComponent(podName), url.searchParams);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw errors.badRequest(SPDY_REFUSAL);
    const q = new URLSearchParams(url.searchParams);
    q.set('container', loc.container);
    const upstream = net.connect(loc.port, loc.host, () => {
      const lines = [`GET /exec/${ns}/${podName}/${encodeURIComponent(loc.container)}?${q.toString()} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i]!;
        if (k.toLowerCase() === 'authorization') continue;
        lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', (e) => writeStatus(socket, new ApiError(500, 'InternalError', `error dialing backend: ${e.message}`)));
    socket.on('close', () => upstream.destroy());
  } catch (e) {
    writeStatus(
      socket,
      e instanceof ApiError
        ? e
        : new ApiError(500, 'InternalError', `Internal error occurred: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}
