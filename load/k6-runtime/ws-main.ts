import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { classifyError } from '../builtin/errors.ts';
import { isLoopbackHost } from '../loopback.ts';
import type { WsCommand, WsEvent } from './protocol.ts';

/**
 * The main thread's side of k6/ws: it holds each VU's sockets (the `ws` package) and reports what happens on
 * them to the VU, which runs k6's blocking event loop (shims/ws.ts). Traffic goes to loopback only, as HTTP.
 */
export interface WsSide {
  /** A VU's command; `reply` reaches that VU. */
  handle(vuId: number, cmd: WsCommand, reply: (e: WsEvent) => void): void;
  /** A socket to a non-loopback host was refused (the run must stop). */
  refused: string | undefined;
  close(): void;
}

/** gorilla/websocket's names for close codes (conn.go CloseError.Error), as k6 reports them in `error` events. */
const CLOSE_NAMES: Record<number, string> = {
  1000: 'normal',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status',
  1006: 'abnormal closure',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension missing',
  1011: 'internal server error',
  1015: 'TLS handshake error',
};

export function closeErrorText(code: number, reason: string): string {
  const name = CLOSE_NAMES[code];
  const text = reason || (code === 1006 ? 'unexpected EOF' : '');
  return `websocket: close ${code}${name ? ` (${name})` : ''}${text ? `: ${text}` : ''}`;
}

function headerPairs(res: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.push([res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '']);
  return out;
}

function dialError(err: unknown, host: string): string {
  const kind = classifyError(err, false);
  if (kind === 'connection-refused') return `dial tcp ${host}: connect: connection refused`;
  if (kind === 'reset') return `read tcp ${host}: read: connection reset by peer`;
  return (err as Error).message;
}

export function wsSide(allowRemote: boolean): WsSide {
  const sockets = new Map<string, WebSocket>();
  const side: WsSide = {
    refused: undefined,
    handle(vuId, cmd, reply) {
      const key = `${vuId}:${cmd.id}`;
      if (cmd.op === 'open') return open(key, cmd, reply);
      const s = sockets.get(key);
      if (!s || s.readyState !== WebSocket.OPEN) return;
      if (cmd.op === 'send') s.send(cmd.data, { binary: typeof cmd.data !== 'string' });
      else if (cmd.op === 'ping') s.ping(cmd.data);
      else {
        // k6 writes the close frame and closes the connection at once (ws.go closeConnection): no wait for the
        // peer's close frame beyond a moment for ours to go out
        try {
          s.close(cmd.code);
        } catch {
          s.terminate();
        }
        setTimeout(() => s.terminate(), 1000).unref();
        sockets.delete(key);
      }
    },
    close() {
      for (const s of sockets.values()) s.terminate();
      sockets.clear();
    },
  };

  function open(key: string, cmd: Extract<WsCommand, { op: 'open' }>, reply: (e: WsEvent) => void): void {
    const t0 = performance.now();
    const elapsed = (): number => performance.now() - t0;
    let url: URL;
    try {
      url = new URL(cmd.url);
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('malformed ws or wss URL');
    } catch (err) {
      reply({ ev: 'failed', id: cmd.id, error: (err as Error).message, connectingMs: 0 });
      return;
    }
    if (!allowRemote && !isLoopbackHost(url.hostname)) {
      side.refused ??= `refusing to open a WebSocket to ${url.host}: not a loopback address (the built-in k6 runtime sends traffic to loopback only)`;
      reply({ ev: 'failed', id: cmd.id, error: side.refused, connectingMs: 0 });
      return;
    }
    const protocols = cmd.headers.filter(([k]) => k.toLowerCase() === 'sec-websocket-protocol').flatMap(([, v]) => v.split(','));
    const headers = Object.fromEntries(cmd.headers.filter(([k]) => k.toLowerCase() !== 'sec-websocket-protocol'));
    const s = new WebSocket(
      cmd.url,
      protocols.map((p) => p.trim()),
      { headers, perMessageDeflate: false, handshakeTimeout: 60_000, followRedirects: false },
    );
    let upgrade: IncomingMessage | undefined;
    let opened = false;
    let failed = false;
    s.on('upgrade', (res) => (upgrade = res));
    s.on('unexpected-response', (_req, res) => {
      failed = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        reply({
          ev: 'failed',
          id: cmd.id,
          error: 'websocket: bad handshake',
          connectingMs: elapsed(),
          response: { status: res.statusCode ?? 0, headers: headerPairs(res), body: Buffer.concat(chunks).toString('utf8') },
        });
        s.terminate();
      });
    });
    s.on('open', () => {
      opened = true;
      sockets.set(key, s);
      reply({
        ev: 'open',
        id: cmd.id,
        status: upgrade?.statusCode ?? 101,
        headers: upgrade ? headerPairs(upgrade) : [],
        connectingMs: elapsed(),
      });
    });
    s.on('message', (data: Buffer, isBinary: boolean) => {
      reply({ ev: 'message', id: cmd.id, data: isBinary ? new Uint8Array(data) : data.toString('utf8') });
    });
    // ws answers pings with a pong itself, as k6's ping handler does
    s.on('ping', () => reply({ ev: 'ping', id: cmd.id }));
    s.on('pong', (data: Buffer) => reply({ ev: 'pong', id: cmd.id, data: data.toString('utf8') }));
    s.on('error', (err) => {
      if (failed) return;
      if (!opened) {
        failed = true;
        reply({ ev: 'failed', id: cmd.id, error: dialError(err, url.host), connectingMs: elapsed() });
      } else reply({ ev: 'error', id: cmd.id, message: err.message });
    });
    s.on('close', (code: number, reason: Buffer) => {
      sockets.delete(key);
      if (!opened) return;
      // gorilla reports a close other than 1000/1001 as an error first (ws.go readPump IsUnexpectedCloseError)
      if (code !== 1000 && code !== 1001) reply({ ev: 'error', id: cmd.id, message: closeErrorText(code, reason.toString('utf8')) });
      reply({ ev: 'close', id: cmd.id, code });
    });
  }
  return side;
}
