/**
 * `GET pods/NAME/log`: reads the CRI-format files the kubelet writes at
 * `<stateDir>/logs/<ns>_<pod>_<uid>/<container>/<restartCount>.log` (twin/runtime/cri-log.ts podLogPath;
 * `<RFC3339Nano> <stream> <P|F> <text>`).
 */
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api } from './api.ts';
import type { Obj } from './selectors.ts';
import { podLogPath } from '../runtime/cri-log.ts';
import { errors } from './status.ts';

export interface LogOptions {
  container?: string;
  previous?: boolean;
  follow?: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  tailLines?: number;
  limitBytes?: number;
  timestamps?: boolean;
}

export interface LogLine {
  ts: string;
  text: string;
}

/** Parses CRI log content; partial (P) lines are joined with the following ones. Returns lines and the unparsed rest. */
export function parseCriLog(content: string): { lines: LogLine[]; rest: string } {
  const lines: LogLine[] = [];
  const lastNl = content.lastIndexOf('\n');
  const complete = lastNl >= 0 ? content.slice(0, lastNl) : '';
  const rest = lastNl >= 0 ? content.slice(lastNl + 1) : content;
  let pending = '';
  let pendingTs = '';
  for (const raw of complete.split('\n')) {
    if (!raw) continue;
    const m = raw.match(/^(\S+) (stdout|stderr) ([PF]) ?(.*)$/);
    if (!m) {
      lines.push({ ts: '', text: raw });
      continue;
    }
    if (m[3] === 'P') {
      if (!pending) pendingTs = m[1]!;
      pending += m[4] ?? '';
      continue;
    }
    lines.push({ ts: pending ? pendingTs : m[1]!, text: pending + (m[4] ?? '') });
    pending = '';
  }
  return { lines, rest };
}

export function filterLines(lines: LogLine[], opts: LogOptions, now = Date.now()): LogLine[] {
  let out = lines;
  const since = opts.sinceTime ? Date.parse(opts.sinceTime) : opts.sinceSeconds !== undefined ? now - opts.sinceSeconds * 1000 : undefined;
  if (since !== undefined && Number.isFinite(since)) out = out.filter((l) => !l.ts || Date.parse(l.ts) >= since);
  if (opts.tailLines !== undefined && opts.tailLines >= 0) out = out.slice(Math.max(0, out.length - opts.tailLines));
  return out;
}

export function formatLines(lines: LogLine[], timestamps: boolean): string {
  return lines.map((l) => (timestamps && l.ts ? `${l.ts} ${l.text}\n` : `${l.text}\n`)).join('');
}

function containerStatus(pod: Obj, name: string): Obj | undefined {
  return ((pod.status?.containerStatuses ?? []) as Obj[])
    .concat((pod.status?.initContainerStatuses ?? []) as Obj[])
    .find((c) => c.name === name);
}

/** Picks the container and file to read; throws the same 400s the real server gives. */
export function resolveLogTarget(pod: Obj, opts: LogOptions): { container: string; restart: number } {
  const names = [...((pod.spec?.containers ?? []) as Obj[]), ...((pod.spec?.initContainers ?? []) as Obj[])].map((c) => String(c.name));
  const podName = pod.metadata.name;
  const container = opts.container ?? names[0];
  if (!container) throw errors.badRequest(`pod ${podName} has no containers`);
  if (!names.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${podName}`);
  const cs = containerStatus(pod, container);
  const rc = Number(cs?.restartCount ?? 0);
  if (opts.previous) {
    if (rc < 1) throw errors.badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return { container, restart: rc - 1 };
  }
  if (!cs || cs.state?.waiting) {
    const reason = cs?.state?.waiting?.reason ?? 'ContainerCreating';
    throw errors.badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  }
  return { container, restart: rc };
}

const POLL_MS = 200;

export function serveLog(
  req: IncomingMessage,
  res: ServerResponse,
  api: Api,
  stateDir: string,
  ns: string,
  podName: string,
  opts: LogOptions,
): void {
  const podType = api.type('', 'pods');
  const pod = api.get(podType, ns, podName);
  const target = resolveLogTarget(pod, opts);
  const file = podLogPath(
    stateDir,
    { namespace: ns, name: podName, uid: String(pod.metadata.uid ?? '') },
    target.container,
    target.restart,
  );
  let content = '';
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch {
    content = '';
  }
  const limit = opts.limitBytes !== undefined && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
  let written = 0;
  const write = (s: string): boolean => {
    if (written >= limit) return false;
    const b = Buffer.from(s, 'utf8');
    const part = written + b.length > limit ? b.subarray(0, limit - written) : b;
    written += part.length;
    res.write(part);
    return written < limit;
  };
  const parsed = parseCriLog(content);
  const first = formatLines(filterLines(parsed.lines, opts), !!opts.timestamps);
  res.writeHead(200, { 'Content-Type': 'text/plain', ...(opts.follow ? { 'Transfer-Encoding': 'chunked' } : {}) });
  if (!write(first) || !opts.follow || opts.previous) {
    res.end();
    return;
  }
  // follow: tail the file until the container restarts, the pod goes away, or the client leaves.
  res.flushHeaders();
  let offset = Buffer.byteLength(content, 'utf8') - Buffer.byteLength(parsed.rest, 'utf8');
  let closed = false;
  const timer = setInterval(() => {
    if (closed) return;
    try {
      const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
      if (size > offset) {
        const fd = fs.openSync(file, 'r');
        try {
          const buf = Buffer.alloc(size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          const chunk = buf.toString('utf8');
          const p = parseCriLog(chunk);
          offset += buf.length - Buffer.byteLength(p.rest, 'utf8');
          if (!write(formatLines(p.lines, !!opts.timestamps))) return stop();
        } finally {
          fs.closeSync(fd);
        }
      }
      const now = api.tryGet(podType, ns, podName);
      if (!now || now.metadata.uid !== pod.metadata.uid) return stop();
      const cs = containerStatus(now, target.container);
      if (Number(cs?.restartCount ?? 0) !== target.restart) return stop();
    } catch {
      stop();
    }
  }, POLL_MS);
  const stop = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    res.end();
  };
  req.on('close', stop);
  res.on('close', stop);
}
