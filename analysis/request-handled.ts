/**
 * The stock EPP's per-request line and the text forms of EPP lines.
 *
 * GAIE v1.2.0 `pkg/epp/requestcontrol/director.go:266` (`prepareRequest`; llm-d-inference-scheduler v0.4.0
 * vendors GAIE v1.2.0, go.mod, so its line is the same) logs at V(3) (logutil.VERBOSE,
 * pkg/epp/util/logging/logging_const.go):
 *   logger.V(logutil.VERBOSE).Info("Request handled", "objectiveKey", ..., "incomingModelName", ...,
 *     "targetModel", ..., "endpoint", multiEndpointString)
 * where multiEndpointString is `strings.Join(targetEndpoints, ",")` of `net.JoinHostPort(ip, port)` for each
 * target pod of the primary profile (the first is the target, IPv6 in brackets).
 *
 * Encodings the line comes in:
 *  - zap JSON (`--zap-encoder=json`, what the GAIE chart and llm-d deploy):
 *    `{"level":"Level(-3)","ts":"…","caller":"requestcontrol/director.go:266","msg":"Request handled",…,"endpoint":"10.0.0.7:8000"}`;
 *  - zap console (controller-runtime's development default without `--zap-encoder`):
 *    `2026-01-01T00:00:00Z\tLevel(-3)\trequestcontrol/director.go:266\tRequest handled\t{"objectiveKey": …, "endpoint": "…"}`;
 *  - klog text (`I0102 15:04:05.000000       1 director.go:266] "Request handled" objectiveKey="…" endpoint="…"`),
 *    from builds that log through klog.
 */
import { parseJsonObject, parseTimestamp } from './log-line.ts';

export const REQUEST_HANDLED = 'Request handled';

/** A decoded EPP line in any of the encodings: its message, fields and timestamp (epoch seconds). */
export interface DecodedLine {
  msg: string;
  fields: Record<string, unknown>;
  ts?: number;
  format: 'json' | 'console' | 'klog';
}

const ZAP_LEVEL = /^(Level\(-?\d+\)|LEVEL\(-?\d+\)|debug|info|warn|error|dpanic|panic|fatal|DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL)$/;
const KLOG = /^([IWEF])(\d{2})(\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+\d+\s+([^\]\s]+)\]\s+(.*)$/;
const KLOG_PAIR = /\s([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S+)/g;

/** Decodes a line body (kubectl prefixes already removed): zap JSON, zap console or klog text. */
export function decodeLine(body: string): DecodedLine | undefined {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    const obj = parseJsonObject(trimmed);
    if (!obj || typeof obj.msg !== 'string') return undefined;
    const ts = parseTimestamp(obj.ts);
    return { msg: obj.msg, fields: obj, ...(ts !== undefined ? { ts } : {}), format: 'json' };
  }
  const klog = KLOG.exec(trimmed);
  if (klog) return decodeKlog(klog);
  const cols = trimmed.split('\t');
  if (cols.length >= 3) {
    // [ts,] level, [logger,] caller, msg, [json fields] (kubectl's --timestamps prefix may have taken the ts)
    const levelAt = cols.findIndex((c, i) => i <= 1 && ZAP_LEVEL.test(c));
    if (levelAt < 0) return undefined;
    const ts = levelAt === 1 ? parseTimestamp(cols[0]) : undefined;
    const jsonAt = cols.findIndex((c, i) => i > levelAt + 1 && c.startsWith('{'));
    const msg = cols[jsonAt > 0 ? jsonAt - 1 : cols.length - 1] ?? '';
    const fields = jsonAt > 0 ? (parseJsonObject(cols.slice(jsonAt).join('\t')) ?? {}) : {};
    if (msg === '') return undefined;
    return { msg, fields, ...(ts !== undefined ? { ts } : {}), format: 'console' };
  }
  return undefined;
}

function decodeKlog(m: RegExpExecArray): DecodedLine | undefined {
  const rest = m[6] ?? '';
  let msg: string;
  let tail: string;
  if (rest.startsWith('"')) {
    const end = closingQuote(rest);
    if (end < 0) return undefined;
    msg = JSON.parse(rest.slice(0, end + 1)) as string;
    tail = rest.slice(end + 1);
  } else {
    msg = rest;
    tail = '';
  }
  const fields: Record<string, unknown> = {};
  for (const pair of ` ${tail}`.matchAll(KLOG_PAIR)) {
    const raw = pair[2] ?? '';
    let value: unknown = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw.slice(1, -1);
      }
    } else if (raw.startsWith('[')) {
      value = raw
        .slice(1, -1)
        .split(/\s+/)
        .filter((s) => s !== '');
    }
    fields[pair[1] ?? ''] = value;
  }
  // klog's header has month, day and time but no year: the current year is assumed.
  const year = new Date().getUTCFullYear();
  const ts = parseTimestamp(`${year}-${m[2]}-${m[3]}T${m[4]}Z`);
  return { msg, fields, ...(ts !== undefined ? { ts } : {}), format: 'klog' };
}

function closingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/** `"10.0.0.7:8000,[fd00::7]:8000"` → `["10.0.0.7:8000", "[fd00::7]:8000"]` (empty parts dropped). */
export function splitEndpoints(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `10.0.0.7:8000` → `10.0.0.7`; `[fd00::7]:8000` → `fd00::7`; a bare IP stays. */
export function hostOf(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1] ?? address;
  const v4 = /^([^:]+):\d+$/.exec(address);
  return v4 ? (v4[1] ?? address) : address;
}
