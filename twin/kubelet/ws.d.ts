// The subset of the `ws` package (8.x) the twin and the k6 runtime's k6/ws (load/k6-runtime/ws-main.ts) use; the package ships no types and @types/ws is not a
// dependency. Shapes follow ws's README (WebSocket, WebSocketServer with noServer / handleProtocols).
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';
  import type { Duplex } from 'node:stream';

  export class WebSocket extends EventEmitter {
    constructor(address: string, protocols?: string | string[], options?: Record<string, unknown>);
    static readonly OPEN: 1;
    readonly CONNECTING: 0;
    readonly OPEN: 1;
    readonly CLOSING: 2;
    readonly CLOSED: 3;
    readonly readyState: 0 | 1 | 2 | 3;
    readonly protocol: string;
    send(data: Buffer | string, cb?: (err?: Error) => void): void;
    send(data: Uint8Array | string, options: { binary?: boolean }): void;
    ping(data?: Buffer | string): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'open', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'unexpected-response', listener: (req: unknown, res: IncomingMessage) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
  }

  export interface ServerOptions {
    noServer?: boolean;
    handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  }

  export class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions);
    readonly clients: Set<WebSocket>;
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WebSocket, request: IncomingMessage) => void): void;
    close(cb?: () => void): void;
  }

  export default WebSocket;
}
