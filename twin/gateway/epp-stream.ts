/**
 * The gateway's side of the twin's ext-proc stand-in: one `POST /v1/process` exchange per request with the EPP
 * (twin/sims/epp/server.ts), as Envoy holds one ext-proc stream per request. The request body is JSON lines written
 * as the request goes: the pick request first, `{"complete":true}` once the response completed (ResponseComplete).
 * The response's first line is the pick (200) or the EPP's ImmediateResponse (its status, plain text).
 *
 * node:http with one keep-alive agent per EPP: the exchange writes as it goes and reads the answer before its own
 * body ends, which node:http does with a plain chunked request.
 */
import * as http from 'node:http';

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

/** Keep-alive agents per EPP endpoint ("IP:port"); an exchange holds its connection for the request's life. */
export class EppAgents {
  private readonly agents = new Map<string, http.Agent>();

  get(hostPort: string): http.Agent {
    let a = this.agents.get(hostPort);
    if (!a) this.agents.set(hostPort, (a = new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000 })));
    return a;
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

/**
 * Opens the exchange with the EPP at `hostPort` and reads the pick. Rejects when the EPP cannot be reached or
 * the stream breaks before the pick (the caller tells a refused connection from the rest). `pickSignal` cuts the
 * exchange until the pick is read (client gone, pick timeout); after a pick, `tracking.finish` ends it.
 */
export function openEppStream(agents: EppAgents, hostPort: string, pickRequest: unknown, pickSignal: AbortSignal): Promise<EppStream> {
  const colon = hostPort.lastIndexOf(':');
  return new Promise<EppStream>((resolve, reject) => {
    let settled = false;
    let finished = false;
    let lost = false;
    let broke!: () => void;
    const broken = new Promise<void>((r) => (broke = r));
    const breakOff = (): void => {
      if (finished || lost) return;
      lost = true;
      broke();
    };
    const fail = (err: Error): void => {
      if (settled) return breakOff();
      settled = true;
      pickSignal.removeEventListener('abort', onAbort);
      req.destroy();
      reject(err);
    };
    const settle = (s: EppStream): void => {
      settled = true;
      pickSignal.removeEventListener('abort', onAbort);
      resolve(s);
    };
    const req = http.request({
      agent: agents.get(hostPort),
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      method: 'POST',
      path: '/v1/process',
      headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
    });
    // first: a request destroyed later (an abort, a cut) still emits 'error', which must never go unhandled
    req.on('error', fail);
    const onAbort = (): void => fail(pickSignal.reason instanceof Error ? pickSignal.reason : new Error('aborted'));
    if (pickSignal.aborted) return onAbort();
    pickSignal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      let text = '';
      if (res.statusCode !== 200) {
        req.end();
        res.on('data', (c: string) => (text += c));
        res.on('end', () => settle({ kind: 'immediate', status: res.statusCode ?? 500, text }));
        res.on('error', fail);
        return;
      }
      const onData = (c: string): void => {
        text += c;
        const nl = text.indexOf('\n');
        if (nl < 0) return;
        res.off('data', onData);
        res.resume(); // the rest ({"released":...}) is read and dropped
        let answer: PickAnswer;
        try {
          answer = JSON.parse(text.slice(0, nl)) as PickAnswer;
        } catch (err) {
          return fail(err as Error);
        }
        if (answer.scheduled === false) {
          // counted nowhere: nothing to tell the EPP later
          finished = true;
          req.end();
          return settle({ kind: 'picked', answer });
        }
        settle({
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
              if (lost) return void req.destroy();
              req.end(complete ? '{"complete":true}\n' : undefined);
            },
          },
        });
      };
      res.on('data', onData);
      // an EPP that dies cuts the response before its end
      res.on('close', () => {
        if (!res.complete) fail(new Error('the endpoint picker cut the stream'));
      });
      res.on('end', () => {
        if (!settled) fail(new Error('the endpoint picker ended the stream before its pick'));
      });
    });
    req.write(`${JSON.stringify(pickRequest)}\n`);
  });
}
