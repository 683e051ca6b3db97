import { connect, type Socket } from 'node:net';

/**
 * HTTP/1.1 pipelining for tests, over a raw socket: Node's client does not
 * pipeline, so requests are written as text and answers parsed off the
 * stream by Content-Length (the servers under test answer with it).
 */

export interface Answer {
  status: number;
  body: string;
}

/** A connected socket to 127.0.0.1:port. */
export async function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  return socket;
}

/** A POST as written on the wire; `extra` holds more header lines ("name: value\r\n"). */
export function postText(path: string, body: string, extra = ''): string {
  return (
    `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${extra}` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** The answers read off the socket so far, in order; the list grows as they arrive. */
export function readAnswers(socket: Socket): Answer[] {
  const list: Answer[] = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) break;
      list.push({
        status: Number(head.slice(9, 12)),
        body: buf.subarray(end + 4, end + 4 + len).toString('utf8'),
      });
      buf = buf.subarray(end + 4 + len);
    }
  });
  return list;
}
