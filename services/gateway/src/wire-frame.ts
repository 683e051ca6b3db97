/**
 * Server-to-client WebSocket text frames (RFC 6455: no mask, no
 * compression) built once per broadcast, so each recipient costs one socket
 * write of a shared Buffer instead of a header allocation and a corked pair
 * of writes.
 */

const FIN = 0x80;
const OP_TEXT = 0x01;
const OP_CONTINUATION = 0x00;

/** One frame: `first` picks the opcode (text, else continuation), `fin` ends the message. */
function frame(payload: Buffer, first: boolean, fin: boolean): Buffer {
  const n = payload.length;
  const b0 = (fin ? FIN : 0) | (first ? OP_TEXT : OP_CONTINUATION);
  let header: Buffer;
  if (n < 126) {
    header = Buffer.from([b0, n]);
  } else if (n < 65_536) {
    header = Buffer.allocUnsafe(4);
    header[0] = b0;
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header = Buffer.allocUnsafe(10);
    header[0] = b0;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload], header.length + n);
}

/** A whole text message in one frame (FIN, opcode 1). */
export function textFrame(payload: Buffer): Buffer {
  return frame(payload, true, true);
}

/**
 * One text message as a frame per piece (a text frame without FIN, then
 * continuation frames, the last with FIN): the client's WebSocket joins
 * them into one message. Lets a large snapshot go out as small buffers
 * instead of one of its whole size. The frames must reach the socket
 * together and in order (the connection's queue keeps them so).
 */
export function textFragments(pieces: readonly Buffer[]): Buffer[] {
  if (pieces.length <= 1) return [textFrame(pieces[0] ?? Buffer.alloc(0))];
  return pieces.map((p, i) => frame(p, i === 0, i === pieces.length - 1));
}

/** Whether a frame built here ends its message (FIN set). */
export function isFinal(f: Buffer): boolean {
  return ((f[0] ?? FIN) & FIN) !== 0;
}

/** The payload of a frame built here. */
export function framePayload(f: Buffer): Buffer {
  const len7 = (f[1] ?? 0) & 0x7f;
  return f.subarray(len7 === 127 ? 10 : len7 === 126 ? 4 : 2);
}
