import type { ScoreUpdate, ServerFrame } from '@quantmon/shared';
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
 * `omitSpan` leaves a score update's `span` out (subscribe's `omit`).
 */
export function encodeBroadcast(b: Broadcast, omitSpan = false): Buffer {
  const f = b.frame;
  if (omitSpan && hasSpan(b)) return encodeWithoutSpan(b);
  if (b.raw === undefined || !('data' in f)) return encode(f);
  return textFrame(Buffer.from(dataFrameText(f, b.raw)));
}

/** Whether this broadcast is a score update that carries a span (one frame each way). */
export function hasSpan(b: Broadcast): boolean {
  return b.frame.type === 'score' && b.frame.data.span !== undefined;
}

function encodeWithoutSpan(b: Broadcast): Buffer {
  const f = b.frame as Extract<ServerFrame, { type: 'score' }>;
  const raw = b.raw === undefined ? undefined : cutTrailingSpan(b.raw, f.data);
  if (raw !== undefined) return textFrame(Buffer.from(dataFrameText(f, raw)));
  return encode({ ...f, data: withoutSpan(f.data) });
}

/** The update without its span (itself when it has none). */
export function withoutSpan(u: ScoreUpdate): ScoreUpdate {
  if (u.span === undefined) return u;
  const { span: _span, ...rest } = u;
  return rest;
}

function dataFrameText(f: Extract<ServerFrame, { data: unknown }>, raw: string): string {
  const part = f.part === undefined ? '' : `,"part":${f.part}`;
  return `{"type":${JSON.stringify(f.type)},"pos":${JSON.stringify(f.pos)}${part},"data":${raw}}`;
}

const SPAN_KEY = ',"span":{';

/**
 * A score update's text before its span, closed: the span is the entry's
 * last key (README), more than half of its bytes and of the time to parse
 * it (a conflated update of 2.7 KB: 3.9 µs for the rest against 8.7 µs for
 * the whole, docs/performance.md). Where no client takes spans (the
 * dashboard and desk screens omit them) the gateway parses, checks, keeps
 * and forwards only this part. `,"span":{` outside a string can only be a
 * key (a quote inside a JSON string is escaped), and the text cut there and
 * closed with one brace parses only if that key is at the top level.
 * Undefined when the text has no span or is not in that shape.
 */
export function textBeforeSpan(raw: string): string | undefined {
  const at = raw.lastIndexOf(SPAN_KEY);
  if (at <= 0 || !raw.endsWith('}}')) return undefined;
  return `${raw.slice(0, at)}}`;
}

/**
 * The update's JSON without its span, cut from the text (`textBeforeSpan`),
 * when the decoded update confirms that `span` is its last key. Undefined
 * when the text is not in that shape (an entry written by other code, keys
 * in another order): the caller serialises instead.
 */
export function cutTrailingSpan(raw: string, decoded: object): string | undefined {
  const keys = Object.keys(decoded);
  if (keys[keys.length - 1] !== 'span') return undefined;
  return textBeforeSpan(raw);
}
