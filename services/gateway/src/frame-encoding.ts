import type { ServerFrame } from '@quantmon/shared';
import type { Connection } from './connection.js';
import type { Broadcast } from './stream-feed.js';
import { textFragments, textFrame } from './wire-frame.js';

/** A frame of the gateway's own (not a broadcast) to one client. */
export function sendFrame(conn: Connection, frame: ServerFrame): void {
  conn.sendOwn(encode(frame));
}

/**
 * A large frame of the gateway's own (a snapshot of many strategies) from
 * its JSON pieces (json-pieces.ts), as one fragmented message: small
 * buffers, never one string or Buffer of the whole frame.
 */
export function sendPieces(conn: Connection, pieces: Iterable<string>): void {
  const buffers: Buffer[] = [];
  for (const p of pieces) buffers.push(Buffer.from(p));
  conn.sendOwnFragments(textFragments(buffers));
}

export function sendError(conn: Connection, message: string): void {
  sendFrame(conn, { type: 'error', message });
}

/** JSON, framed for the wire once (see wire-frame.ts). */
function encode(frame: ServerFrame): Buffer {
  return textFrame(Buffer.from(JSON.stringify(frame)));
}

/**
 * A data frame around the entry's JSON as the stream holds it (written by
 * the service that owns the stream, and checked when decoded): the same
 * text JSON.stringify would give, without serialising the message again.
 */
export function encodeBroadcast(b: Broadcast): Buffer {
  const f = b.frame;
  if (b.raw === undefined || !('data' in f)) return encode(f);
  const part = f.part === undefined ? '' : `,"part":${f.part}`;
  return textFrame(
    Buffer.from(
      `{"type":${JSON.stringify(f.type)},"pos":${JSON.stringify(f.pos)}${part},"data":${b.raw}}`,
    ),
  );
}
