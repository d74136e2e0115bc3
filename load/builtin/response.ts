/** Pure helpers over responses: the OpenAI `id`, the first SSE event, raw header lookup, a bounded body head. */

const HEAD_LIMIT = 64 * 1024;
export const ERROR_BODY_LIMIT = 512;

/** The first `data:` payload of an SSE text (complete line), or undefined while it has not arrived. */
export function firstSseData(text: string): string | undefined {
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return undefined;
    const line = text.slice(at, nl).replace(/\r$/, '');
    if (line.startsWith('data:')) return line.slice(5).trimStart();
    at = nl + 1;
  }
  return undefined;
}

/** True once an SSE text holds the start of a `data:` line (the first token's chunk has arrived). */
export function hasSseData(text: string): boolean {
  return text.startsWith('data:') || text.includes('\ndata:');
}

const LEADING_ID = '{"id":"';

/**
 * The id of a compact JSON object whose first key is `id` (`{"id":"cmpl-...",`: how vLLM and OpenAI write
 * their responses), read without parsing the rest; undefined for anything else (spaces, escapes, no end quote).
 */
export function leadingJsonId(text: string): string | undefined {
  if (!text.startsWith(LEADING_ID)) return undefined;
  const end = text.indexOf('"', LEADING_ID.length);
  if (end < 0) return undefined;
  const id = text.slice(LEADING_ID.length, end);
  return id.includes('\\') ? undefined : id;
}

/** The `id` of an OpenAI JSON object; tolerant of truncated bodies (falls back to a pattern on the head). */
export function responseIdFrom(json: string): string | undefined {
  const leading = leadingJsonId(json);
  if (leading !== undefined) return leading;
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { id?: unknown }).id === 'string') {
      return (parsed as { id: string }).id;
    }
    return undefined;
  } catch {
    const m = /"id"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(json.slice(0, 4096));
    return m?.[1];
  }
}

/**
 * A response header from undici's raw list (name, value, name, value...), by lower-case name; repeated
 * headers joined with `, `. Names are compared only when their length matches, so a miss costs little.
 */
export function rawHeader(raw: readonly (Buffer | string)[], name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as Buffer | string;
    if (key.length !== name.length) continue;
    if ((typeof key === 'string' ? key : key.toString('latin1')).toLowerCase() !== name) continue;
    const value = String(raw[i + 1]);
    out = out === undefined ? value : `${out}, ${value}`;
  }
  return out;
}

/**
 * Collects what the record needs from a body: its size, and its first bytes (at most `limit`, kept as the
 * chunks that arrived and decoded only when asked for).
 */
export class BodyCollector {
  bytes = 0;
  private chunks: Buffer[] = [];
  private kept = 0;

  constructor(private readonly limit = HEAD_LIMIT) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.byteLength;
    if (this.kept >= this.limit) return;
    this.chunks.push(chunk);
    this.kept += chunk.byteLength;
  }

  /** The head as text, at most `maxBytes` of it (a character cut at the end decodes as U+FFFD). */
  text(maxBytes = this.limit): string {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    const head = this.chunks[0];
    return head === undefined ? '' : head.toString('utf8', 0, Math.min(maxBytes, this.limit, head.byteLength));
  }
}

/**
 * Finds an error event in an SSE stream that came with a 2xx status. vLLM writes one when a stream's generator
 * raises after the 200 was sent (engine death mid-stream): `data: {"error": {"message", "type", "param", "code"}}`
 * then `data: [DONE]` (vllm-project/vllm vllm/entrypoints/openai serving_chat.py / serving_completion.py stream
 * generators → `create_streaming_error_response`, which json.dumps `ErrorResponse(error=ErrorInfo(...))`; v0.8-era
 * releases nest the same fields under `error` too). Fed the body chunk by chunk; keeps only a partial line.
 */
export class SseErrorScanner {
  /** The first error event's message (or its payload when it has none), once seen. */
  message: string | undefined;
  /** The event's JSON payload, as received (at most ERROR_BODY_LIMIT characters). */
  payload: string | undefined;
  private partial = '';

  push(chunk: Buffer): void {
    if (this.message !== undefined) return;
    let text = this.partial + chunk.toString('utf8');
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.line(text.slice(0, nl));
      if (this.message !== undefined) return;
      text = text.slice(nl + 1);
      nl = text.indexOf('\n');
    }
    // a line longer than the cap is a token chunk, not an error event: keep its start only
    this.partial = text.length > SSE_LINE_LIMIT ? text.slice(0, SSE_LINE_LIMIT) : text;
  }

  /** At the end of the body: a last line without its newline still counts. */
  end(): void {
    if (this.message === undefined && this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(raw: string): void {
    const message = sseErrorMessage(raw);
    if (message !== undefined) {
      this.message = message;
      this.payload = raw
        .replace(/^data:\s*/, '')
        .replace(/\r$/, '')
        .slice(0, ERROR_BODY_LIMIT);
    }
  }
}

const SSE_LINE_LIMIT = 16 * 1024;

/** The error message of one SSE line when it is an error event (`data: {"error": ...}`), else undefined. */
export function sseErrorMessage(line: string): string | undefined {
  if (!line.startsWith('data:')) return undefined;
  const payload = line.slice(5).trim();
  if (!payload.startsWith('{') || !payload.includes('"error"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || !('error' in parsed)) return undefined;
  const err = (parsed as { error: unknown }).error;
  if (err === null || err === undefined) return undefined;
  if (typeof err === 'string') return err;
  if (typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    const e = err as { message: string; type?: unknown; code?: unknown };
    const kind = [typeof e.type === 'string' ? e.type : undefined, e.code !== undefined && e.code !== null ? String(e.code) : undefined]
      .filter(Boolean)
      .join(' ');
    return kind ? `${kind}: ${e.message}` : e.message;
  }
  return payload.slice(0, ERROR_BODY_LIMIT);
}
