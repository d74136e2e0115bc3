/**
 * The kubelet's `exec` endpoint (`/exec/{namespace}/{pod}/{container}?command=…&stdin=&stdout=&stderr=&tty=`,
 * as pkg/kubelet/server/server.go serves it), speaking the WebSocket remote-command protocol that kubectl
 * 1.31+ uses (k8s.io/apimachinery pkg/util/remotecommand constants.go, client-go
 * tools/remotecommand/websocket.go): subprotocol `v5.channel.k8s.io` (or `v4.channel.k8s.io`), binary
 * messages whose first byte is the channel — 0 stdin, 1 stdout, 2 stderr, 3 error (a metav1.Status, the
 * last message), 4 resize, and (v5) 255 close, `[255, 0]` ending stdin.
 *
 * The command runs on the host in the pod's context: the container's environment (as the kubelet gave
 * it to the container), its working directory, `POD_IP` and `HOSTNAME` (the pod name), and the cluster's
 * Service names reachable through `http_proxy` (cluster-proxy.ts). A non-zero exit is the Status
 * `NonZeroExitCode` with an `ExitCode` cause, which kubectl turns into its own exit code; a missing
 * program is exit 126 with the OCI runtime's line, as containerd reports it.
 * Simplification: no terminal (`-t` is refused with one line), resize messages are ignored.
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as os from 'node:os';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { startClusterProxy } from './cluster-proxy.ts';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** What a command exec'd in a container sees. */
export interface ExecTarget {
  namespace: string;
  pod: string;
  podIP: string;
  env: Record<string, string>;
  cwd: string;
  hostsFile: string;
}

/** The error channel's Status for an exit code (pkg/kubelet/cri/streaming/remotecommand/websocket.go). */
export function exitStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function failureStatus(message: string): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

const frame = (channel: number, data: Buffer | string) =>
  Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);

export interface ExecQuery {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Query flags are read like the API server reads them (query.ts): absent, 0 or false is false. */
export function parseExecQuery(q: URLSearchParams): ExecQuery {
  const flag = (n: string) => {
    const v = q.get(n);
    return v !== null && v !== '0' && v.toLowerCase() !== 'false';
  };
  return { command: q.getAll('command'), stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr'), tty: flag('tty') };
}

/** Runs one exec session over an open WebSocket; resolves when it is over. */
export async function runExec(ws: WebSocket, target: ExecTarget, q: ExecQuery): Promise<void> {
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const finish = (status: Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) {
      ws.send(frame(CHANNEL.error, JSON.stringify(status)));
      ws.close(1000);
    }
  };
  if (q.tty) return finish(failureStatus("the twin runs exec'd commands without a terminal: drop -t (use kubectl exec -i POD -- COMMAND)"));
  if (q.command.length === 0) return finish(failureStatus('you must specify at least 1 command'));
  const proxy = await startClusterProxy({ hostsFile: target.hostsFile, namespace: target.namespace, podIP: target.podIP });
  const env: Record<string, string> = { ...target.env, HOSTNAME: target.pod, POD_IP: target.podIP };
  for (const k of ['no_proxy', 'NO_PROXY']) delete env[k];
  for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) env[k] = proxy.url;
  const child = spawn(q.command[0]!, q.command.slice(1), {
    cwd: target.cwd,
    env,
    detached: true,
    stdio: [q.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const killGroup = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const buf = isBinary ? data : Buffer.from(data);
    if (buf.length === 0) return;
    if (buf[0] === CHANNEL.stdin && child.stdin) child.stdin.write(buf.subarray(1));
    else if (v5 && buf[0] === CHANNEL.close && buf[1] === CHANNEL.stdin) child.stdin?.end();
  });
  ws.on('close', killGroup);
  child.stdin?.on('error', () => undefined);
  child.stdout!.on('data', (c: Buffer) => q.stdout && ws.readyState === ws.OPEN && ws.send(frame(CHANNEL.stdout, c)));
  child.stderr!.on('data', (c: Buffer) => q.stderr && ws.readyState === ws.OPEN && ws.send(frame(CHANNEL.stderr, c)));
  await new Promise<void>((resolve) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'ENOENT'
          ? `exec: "${q.command[0]}": executable file not found in $PATH`
          : `exec: "${q.command[0]}": ${e.code ?? e.message}`;
      if (q.stdout && ws.readyState === ws.OPEN)
        ws.send(frame(CHANNEL.stdout, `OCI runtime exec failed: exec failed: unable to start container process: ${why}: unknown\r\n`));
      finish(exitStatus(126, q.command));
      resolve();
    });
    child.on('close', (code, signal) => {
      finish(exitStatus(code ?? (signal ? 128 + (signalNumber(signal) ?? 9) : 1), q.command));
      resolve();
    });
  });
  proxy.close();
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return (os.constants.signals as Record<string, number | undefined>)[signal];
}

export interface ExecServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The kubelet's streaming server on one node address. `lookup` finds the running container, or says in
 * one line why not (the API server passes that line on to kubectl).
 */
export async function startExecServer(
  host: string,
  lookup: (ns: string, pod: string, container: string) => ExecTarget | string,
): Promise<ExecServer> {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => EXEC_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const server = http.createServer((_req, res) => {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    res.end('the twin kubelet serves exec over WebSocket only (v5.channel.k8s.io / v4.channel.k8s.io)\n');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const m = /^\/exec\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const reject = (code: number, text: string) => {
      socket.end(
        `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
      );
    };
    if (!m) return reject(404, 'not found');
    const target = lookup(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), decodeURIComponent(m[3]!));
    if (typeof target === 'string') return reject(400, target);
    wss.handleUpgrade(req, socket, head, (ws) => {
      void runExec(ws, target, parseExecQuery(url.searchParams)).catch((e: unknown) => {
        if (ws.readyState === ws.OPEN) {
          ws.send(frame(CHANNEL.error, JSON.stringify(failureStatus(e instanceof Error ? e.message : String(e)))));
          ws.close(1000);
        }
      });
    });
  });
  await new Promise<void>((ok, ko) => {
    server.once('error', ko);
    server.listen(0, host, () => ok());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
