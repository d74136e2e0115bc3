import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export type LogStream = 'stdout' | 'stderr';

/**
 * Where a container's log file lives: `<stateDir>/logs/<namespace>_<pod>_<uid>/<container>/<restartCount>.log`, the
 * kubelet's `/var/log/pods` layout (kubernetes/kubernetes pkg/kubelet/kuberuntime/helpers.go BuildPodLogsDirectory,
 * BuildContainerLogsDirectory; kuberuntime_container.go buildContainerLogsPath, v1.32). Keyed by the pod's uid, so a
 * pod created again under a deleted one's name starts with no log. The kubelet writes it, the API server reads it.
 */
export function podLogPath(
  stateDir: string,
  pod: { namespace: string; name: string; uid: string },
  container: string,
  restartCount: number,
): string {
  return path.join(stateDir, 'logs', `${pod.namespace}_${pod.name}_${pod.uid}`, container, `${restartCount}.log`);
}

/** Longest line written as one entry; longer output is split into `P` (partial) entries, as CRI does. */
const MAX_LINE_BYTES = 16 * 1024;

/** RFC 3339 timestamp with nanoseconds, as container runtimes write: 2026-11-25T10:00:00.123456789Z. */
export function criTimestamp(now: Date = new Date(), subMillisecondNanos = Number(process.hrtime.bigint() % 1_000_000n)): string {
  const iso = now.toISOString(); // 2026-11-25T10:00:00.123Z
  const sub = String(Math.max(0, Math.min(999_999, subMillisecondNanos))).padStart(6, '0');
  return `${iso.slice(0, -1)}${sub}Z`;
}

/** One CRI log entry: `<timestamp> <stream> <F|P> <content>\n`. */
export function formatCriLine(timestamp: string, stream: LogStream, content: string, partial = false): string {
  return `${timestamp} ${stream} ${partial ? 'P' : 'F'} ${content}\n`;
}

export interface CriLogEntry {
  timestamp: string;
  stream: LogStream;
  partial: boolean;
  content: string;
}

/** Parses one line of a CRI log file; undefined when it is not one. */
export function parseCriLine(line: string): CriLogEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/.exec(line);
  if (!m) return undefined;
  return { timestamp: m[1]!, stream: m[2] as LogStream, partial: m[3] === 'P', content: m[4]! };
}

/**
 * Appends a container's stdout/stderr to a file in CRI format. Writes are synchronous per chunk,
 * so what a process printed is in the file as soon as the pipe delivered it; an unterminated tail
 * waits for its newline (or for close()).
 */
export class CriLogWriter {
  private readonly fd: number;
  private readonly pending: Record<LogStream, string> = { stdout: '', stderr: '' };
  private readonly decoders: Record<LogStream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private closed = false;

  constructor(readonly filePath: string) {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    this.fd = fs.openSync(filePath, 'a');
  }

  write(stream: LogStream, chunk: Buffer | string): void {
    if (this.closed) return;
    let text = this.pending[stream] + (typeof chunk === 'string' ? chunk : this.decoders[stream].write(chunk));
    let out = '';
    const ts = criTimestamp();
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      out += formatCriLine(ts, stream, stripCr(text.slice(0, nl)));
      text = text.slice(nl + 1);
    }
    while (Buffer.byteLength(text) > MAX_LINE_BYTES) {
      out += formatCriLine(ts, stream, text.slice(0, MAX_LINE_BYTES), true);
      text = text.slice(MAX_LINE_BYTES);
    }
    this.pending[stream] = text;
    if (out) fs.writeSync(this.fd, out);
  }

  /** Writes any unterminated tail as a full line and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    const ts = criTimestamp();
    let out = '';
    for (const stream of ['stdout', 'stderr'] as const) {
      this.pending[stream] += this.decoders[stream].end();
      if (this.pending[stream]) out += formatCriLine(ts, stream, stripCr(this.pending[stream]));
      this.pending[stream] = '';
    }
    if (out) fs.writeSync(this.fd, out);
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
