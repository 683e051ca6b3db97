/**
 * A server-to-client WebSocket text frame (RFC 6455: FIN, opcode 1, no
 * mask, no compression) built once per broadcast, so each recipient costs
 * one socket write of a shared Buffer instead of a header allocation and a
 * corked pair of writes.
 */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  let header: Buffer;
  if (n < 126) {
    header = Buffer.from([0x81, n]);
  } else if (n < 65_536) {
    header = Buffer.allocUnsafe(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header = Buffer.allocUnsafe(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload], header.length + n);
}

/** The payload of a frame built by textFrame. */
export function framePayload(frame: Buffer): Buffer {
  const len7 = (frame[1] ?? 0) & 0x7f;
  return frame.subarray(len7 === 127 ? 10 : len7 === 126 ? 4 : 2);
}
