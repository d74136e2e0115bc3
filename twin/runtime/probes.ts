import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { V1Probe } from '#client-node';
import { fairDeadline } from './fair-deadline.ts';

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed, in the words a kubelet uses in the Unhealthy event. */
  message: string;
}

type NamedPort = { name?: string; containerPort: number };

/** A probe's port: a number, a numeric string or the name of a container port. */
export function resolveProbePort(port: number | string | undefined, ports: readonly NamedPort[]): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return ports.find((p) => p.name === port)?.containerPort;
}

/** Probe timing with the twin's clamps: periods of at least 0.2 s (k8s: at least 1 s) keep tests quick. */
export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

export const MIN_PROBE_PERIOD_MS = 200;

/**
 * The twin runs probe clocks faster than a kubelet (delays and periods times this factor, env
 * PD_TWIN_PROBE_TIME_SCALE, default 0.2): the order of events is Kubernetes', a 5 s readiness period
 * just does not cost 5 s of every test. Set it to 1 for real-time probes.
 */
export function probeTimeScale(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.PD_TWIN_PROBE_TIME_SCALE);
  return Number.isFinite(v) && v > 0 ? v : 0.2;
}

export function probeTiming(probe: V1Probe, scale = probeTimeScale()): ProbeTiming {
  return {
    initialDelayMs: Math.max(0, (probe.initialDelaySeconds ?? 0) * 1000 * scale),
    periodMs: Math.max(MIN_PROBE_PERIOD_MS, (probe.periodSeconds ?? 10) * 1000 * scale),
    timeoutMs: Math.max(MIN_PROBE_PERIOD_MS, (probe.timeoutSeconds ?? 1) * 1000),
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
    successThreshold: Math.max(1, probe.successThreshold ?? 1),
  };
}

/**
 * Runs one probe attempt against a pod. exec probes are not run in the twin and count as success.
 * `sourceIP` (the node's host IP) is the local address, so the pod sees probes come from its node.
 */
export async function runProbe(probe: V1Probe, podIP: string, ports: readonly NamedPort[], sourceIP?: string): Promise<ProbeOutcome> {
  const timeoutMs = probeTiming(probe).timeoutMs;
  if (probe.httpGet) {
    const port = resolveProbePort(probe.httpGet.port as number | string, ports);
    if (port === undefined) return { ok: false, message: `Probe failed: port ${String(probe.httpGet.port)} is not a container port` };
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toUpperCase();
    const host = probe.httpGet.host || podIP;
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    return httpProbe(scheme === 'HTTPS' ? 'https' : 'http', host, port, probe.httpGet.path ?? '/', headers, timeoutMs, sourceIP);
  }
  if (probe.tcpSocket) {
    const port = resolveProbePort(probe.tcpSocket.port as number | string, ports);
    if (port === undefined) return { ok: false, message: `Probe failed: port ${String(probe.tcpSocket.port)} is not a container port` };
    return tcpProbe(probe.tcpSocket.host || podIP, port, timeoutMs, sourceIP);
  }
  if (probe.grpc) return tcpProbe(podIP, probe.grpc.port, timeoutMs, sourceIP);
  return { ok: true, message: 'exec probe not run in the twin' };
}

function httpProbe(
  scheme: 'http' | 'https',
  host: string,
  port: number,
  pathname: string,
  headers: Record<string, string>,
  timeoutMs: number,
  sourceIP?: string,
): Promise<ProbeOutcome> {
  const url = `${scheme}://${host}:${port}${pathname.startsWith('/') ? pathname : `/${pathname}`}`;
  return new Promise((resolve) => {
    const mod = scheme === 'https' ? https : http;
    let settled = false;
    const settle = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      deadline.cancel();
      resolve(outcome);
    };
    const req = mod.get(
      url,
      { headers, agent: false, rejectUnauthorized: false, ...(sourceIP ? { localAddress: sourceIP } : {}) },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => undefined);
        if (status >= 200 && status < 400) settle({ ok: true, message: `HTTP probe succeeded with statuscode: ${status}` });
        else settle({ ok: false, message: `HTTP probe failed with statuscode: ${status}` });
      },
    );
    // the kubelet's http.Client Timeout; not counted while the twin host's own loop is held up (fair-deadline.ts)
    const deadline = fairDeadline(timeoutMs, () => {
      settle({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'ECONNREFUSED' ? `dial tcp ${host}:${port}: connect: connection refused` : err.message;
      settle({ ok: false, message: `Get "${url}": ${reason}` });
    });
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number, sourceIP?: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, ...(sourceIP ? { localAddress: sourceIP } : {}) });
    const deadline = fairDeadline(timeoutMs, () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.once('connect', () => {
      deadline.cancel();
      socket.destroy();
      resolve({ ok: true, message: 'tcp probe succeeded' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      deadline.cancel();
      resolve({
        ok: false,
        message: `dial tcp ${host}:${port}: connect: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}`,
      });
    });
  });
}
