/** Pure helpers over response bodies: the OpenAI `id`, the first SSE event. */

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

/** The `id` of an OpenAI JSON object; tolerant of truncated bodies (falls back to a pattern on the head). */
export function responseIdFrom(json: string): string | undefined {
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

/** Collects what the record needs from a body without keeping more than a bounded head. */
export class BodyCollector {
  bytes = 0;
  private head = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly limit = HEAD_LIMIT) {}

  push(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    if (this.head.length < this.limit) this.head += this.decoder.decode(chunk, { stream: true });
  }

  text(): string {
    return this.head;
  }
}
