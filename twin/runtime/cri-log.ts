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
 * The kubelet's container log rotation (KubeletConfiguration `containerLogMaxSize`, `containerLogMaxFiles`; defaults
 * 10Mi and 5: kubernetes/kubernetes pkg/kubelet/apis/config/v1beta1/defaults.go, pkg/kubelet/logs/container_log_manager.go,
 * v1.32). A log file at or over the size is renamed `<file>.<YYYYMMDD-HHMMSS>` and a new one started; at most `maxFiles` files
 * per container are kept, the oldest rotated ones removed. `kubectl logs` reads only the current file, so lines
 * rotated away are no longer served. simplification: the size is checked at each write (the kubelet checks every
 * `containerLogMonitorInterval`, 10 s) and rotated files are not gzipped.
 */
export interface LogRotation {
  maxSizeBytes: number;
  maxFiles: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 5 };

/** `2026-12-07T09:05:35.123Z` -> `20261207-090535`, the suffix the kubelet gives a rotated log. */
function rotationSuffix(now: Date): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

/**
 * Appends a container's stdout/stderr to a file in CRI format. Writes are synchronous per chunk,
 * so what a process printed is in the file as soon as the pipe delivered it; an unterminated tail
 * waits for its newline (or for close()). Rotated as the kubelet rotates (LogRotation).
 */
export class CriLogWriter {
  private fd: number;
  private size: number;
  private readonly pending: Record<LogStream, string> = { stdout: '', stderr: '' };
  private readonly decoders: Record<LogStream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private closed = false;

  constructor(
    readonly filePath: string,
    private readonly rotation: LogRotation = DEFAULT_LOG_ROTATION,
  ) {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    this.fd = fs.openSync(filePath, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }

  private append(out: string): void {
    this.size += fs.writeSync(this.fd, out);
    if (this.size >= this.rotation.maxSizeBytes) this.rotate(); // container_log_manager.go: rotated unless Size() < MaxSize
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    let rotated = `${this.filePath}.${rotationSuffix(new Date())}`;
    for (let n = 1; fs.existsSync(rotated); n++) rotated = `${this.filePath}.${rotationSuffix(new Date())}.${n}`; // twice in a second
    fs.renameSync(this.filePath, rotated);
    this.fd = fs.openSync(this.filePath, 'a');
    this.size = 0;
    const base = path.basename(this.filePath);
    const old = fs
      .readdirSync(path.dirname(this.filePath))
      .filter((n) => n.startsWith(`${base}.`))
      .map((n) => ({ n, t: fs.statSync(path.join(path.dirname(this.filePath), n)).mtimeMs }))
      .sort((a, b) => a.t - b.t || a.n.localeCompare(b.n));
    for (const { n } of old.slice(0, Math.max(0, old.length - (this.rotation.maxFiles - 1))))
      fs.rmSync(path.join(path.dirname(this.filePath), n), { force: true });
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
    if (out) this.append(out);
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
    if (out) this.append(out);
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
