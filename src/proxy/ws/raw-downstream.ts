/**
 * A Downstream over a raw client socket taken over by an HTTP/1.1 upgrade: lets local replies (404,
 * 503, redirects) and relayed non-101 handshake answers reuse the ordinary request path.
 */
import type net from 'node:net';
import type { Downstream, DownstreamListener } from '../http/downstream.ts';
import { statusLine } from '../h1/response-writer.ts';

export function serializeHead(status: number, headers: readonly string[]): string {
  let head = statusLine(status);
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return head + '\r\n';
}

export class RawDownstream implements Downstream {
  readonly protocol = 'WebSocket';
  readonly body: net.Socket;
  headersSent = false;
  readonly #socket: net.Socket;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.body = socket;
  }

  listen(l: DownstreamListener): void {
    this.#socket.once('close', () => l.onDownstreamClose());
  }

  closeAfter(): void {}

  respond(status: number, headers: string[], endStream: boolean): void {
    this.headersSent = true;
    if (status !== 101) headers.push('connection', 'close');
    this.#socket.write(serializeHead(status, headers));
    if (endStream) this.#close();
  }

  write(chunk: Buffer): boolean {
    return this.#socket.write(chunk);
  }

  endWith(chunk: Buffer): void {
    this.#close(chunk);
  }

  end(): void {
    this.#close();
  }

  /** Ends a local reply; the socket (paused since the upgrade) reads on, discarding, so the client's close is seen. */
  #close(last: Buffer | null = null): void {
    if (last === null) this.#socket.end();
    else this.#socket.end(last);
    this.#socket.resume();
  }

  abort(): void {
    this.#socket.destroy();
  }
}
