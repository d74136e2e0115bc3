/**
 * The gateway's side of the twin's ext-proc stand-in: one `POST /v1/process` exchange per request with the EPP
 * (twin/sims/epp/server.ts), as Envoy holds one ext-proc stream per request. The request body is JSON lines written
 * as the request goes: the pick request first, `{"complete":true}` once the response completed (ResponseComplete).
 * The response's first line is the pick (200) or the EPP's ImmediateResponse (its status, plain text).
 */
import { Readable } from 'node:stream';
import type { Pool } from 'undici';

export interface PickAnswer {
  endpoints?: { address?: string }[];
  headers?: Record<string, string>;
  scheduled?: boolean;
}

export type EppStream =
  /** the EPP answered with an ImmediateResponse (or an error of its own): the exchange is over */
  { kind: 'immediate'; status: number; text: string } | { kind: 'picked'; answer: PickAnswer; tracking?: EppTracking };

/** A scheduled request on its EPP stream, until `finish`. */
export interface EppTracking {
  /** The stream broke before `finish` (the EPP died or restarted). */
  readonly lost: boolean;
  /** Resolves when the stream breaks before `finish`. */
  readonly broken: Promise<void>;
  /** The request is over: `complete` sends ResponseComplete; the stream then ends either way. Idempotent. */
  finish(complete: boolean): void;
}

/** Lines to write, one at a time, then the end (`null`). */
function lineQueue() {
  const queued: (string | null)[] = [];
  let wake: (() => void) | undefined;
  return {
    push(line: string | null): void {
      queued.push(line);
      wake?.();
    },
    async *lines(): AsyncGenerator<string> {
      for (;;) {
        if (queued.length === 0) await new Promise<void>((r) => (wake = r));
        const line = queued.shift();
        if (line === undefined) continue;
        if (line === null) return;
        yield line;
      }
    },
  };
}

/**
 * Opens the exchange and reads the pick. Rejects when the EPP cannot be reached or the stream breaks before
 * the pick (the caller tells a refused connection from the rest). `pickSignal` cuts the exchange until the pick
 * is read (client gone, pick timeout); after a pick, `tracking.finish` ends it.
 */
export async function openEppStream(pool: Pool, pickRequest: unknown, pickSignal: AbortSignal): Promise<EppStream> {
  const out = lineQueue();
  out.push(`${JSON.stringify(pickRequest)}\n`);
  const cut = new AbortController();
  const onAbort = () => cut.abort(pickSignal.reason);
  if (pickSignal.aborted) onAbort();
  else pickSignal.addEventListener('abort', onAbort, { once: true });
  try {
    return await exchange(pool, out, cut.signal);
  } catch (err) {
    out.push(null);
    throw err;
  } finally {
    pickSignal.removeEventListener('abort', onAbort);
  }
}

async function exchange(pool: Pool, out: ReturnType<typeof lineQueue>, signal: AbortSignal): Promise<EppStream> {
  const r = await pool.request({
    method: 'POST',
    path: '/v1/process',
    headers: { 'content-type': 'application/x-ndjson' },
    body: Readable.from(out.lines(), { objectMode: false }),
    signal,
  });
  if (r.statusCode !== 200) {
    out.push(null);
    return { kind: 'immediate', status: r.statusCode, text: await r.body.text() };
  }
  const body = r.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let text = '';
  for (let nl = -1; nl < 0; nl = text.indexOf('\n')) {
    const next = await body.next();
    if (next.done) throw new Error('the endpoint picker ended the stream before its pick');
    text += next.value.toString('utf8');
  }
  const answer = JSON.parse(text.slice(0, text.indexOf('\n'))) as PickAnswer;
  if (answer.scheduled === false) {
    // counted nowhere: nothing to tell the EPP later
    out.push(null);
    void drain(body);
    return { kind: 'picked', answer };
  }
  let finished = false;
  let lost = false;
  let broke!: () => void;
  const broken = new Promise<void>((res) => (broke = res));
  void drain(body).then((ok) => {
    if (ok || finished) return;
    lost = true;
    broke();
  });
  return {
    kind: 'picked',
    answer,
    tracking: {
      get lost() {
        return lost;
      },
      broken,
      finish(complete: boolean) {
        if (finished) return;
        finished = true;
        if (complete && !lost) out.push('{"complete":true}\n');
        out.push(null);
      },
    },
  };
}

/** Reads a response body to its end: true when it ended, false when it broke. */
async function drain(body: AsyncIterator<Buffer>): Promise<boolean> {
  try {
    for (let next = await body.next(); !next.done; next = await body.next());
    return true;
  } catch {
    return false;
  }
}
